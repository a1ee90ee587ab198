/// Errors a user can act on. The message is shown as is, after "task: ".
public enum TaskError: Error, Equatable, CustomStringConvertible {
    /// The command was well formed but could not be carried out (exit status 1).
    case failed(String)
    /// The command was malformed (exit status 64).
    case usage(String)

    public var description: String {
        switch self {
        case .failed(let m), .usage(let m): m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .failed: 1
        case .usage: 64
        }
    }
}
