/// Where a task is in its life. Names follow the original tool where it had one.
public enum TaskStatus: String, CaseIterable, Sendable, Codable {
    case backlog, queued, processing, blocked, done, failed, cancelled

    /// Finished tasks are hidden from `list` unless asked for.
    public var isFinished: Bool {
        switch self {
        case .done, .failed, .cancelled: true
        default: false
        }
    }

    /// A task whose agent is (or is about to be) running.
    public var isActive: Bool {
        switch self {
        case .queued, .processing, .blocked: true
        default: false
        }
    }
}
