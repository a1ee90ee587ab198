import Foundation
import Synchronization

/// Whether a launch on a remote site waits there for the agent's first hook, in the same command
/// that opens its window (a one-shot `run` waits for it anyway, and a second command would cost a
/// round trip), and which tasks' launches did so.
public final class FirstHookWait: Sendable {
    private let wanted = Mutex(false)
    private let waited = Mutex<Set<Int64>>([])

    public init() {}

    /// Asks launches from now on to wait (a one-shot command that watches the start-up).
    public func request() { wanted.withLock { $0 = true } }

    var isRequested: Bool { wanted.withLock { $0 } }

    /// Notes that the launch of `taskID` waited for its first hook.
    func noteWaited(_ taskID: Int64) { _ = waited.withLock { $0.insert(taskID) } }

    /// Whether the launch of `taskID` waited (asked once).
    func takeWaited(_ taskID: Int64) -> Bool { waited.withLock { $0.remove(taskID) != nil } }
}
