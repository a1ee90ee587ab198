import Foundation
import Synchronization

/// The one way any component prints a line above the `task>` prompt. Safe from any thread:
/// while the user is typing, lines are queued and the line editor is woken to print them
/// above the half-typed line (which is then redrawn intact); otherwise they are written at once.
public final class Console: Sendable {
    public static let shared = Console()

    struct State {
        var pending: [String] = []
        var editing = false
        var wakeFD: Int32 = -1
    }

    private let state = Mutex(State())

    public init() {}

    /// Prints `text` (one or more lines) above the prompt.
    public func printAbove(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let direct: Bool = state.withLock { s in
            guard s.editing else { return true }
            s.pending.append(contentsOf: lines)
            var byte: UInt8 = 1
            _ = Glibc.write(s.wakeFD, &byte, 1)
            return false
        }
        if direct { Self.write(lines) }
    }

    /// The line editor is about to read; `wakeFD` wakes it.
    func beginEditing(wakeFD: Int32) {
        state.withLock {
            $0.editing = true
            $0.wakeFD = wakeFD
        }
    }

    /// The line editor returned a line: anything still queued is printed now.
    func endEditing() {
        let rest = state.withLock { s -> [String] in
            s.editing = false
            defer { s.pending.removeAll() }
            return s.pending
        }
        if !rest.isEmpty { Self.write(rest) }
    }

    /// Called by the line editor, with the edit area cleared, to print what is queued.
    func drain() {
        let lines = state.withLock { s -> [String] in
            defer { s.pending.removeAll() }
            return s.pending
        }
        Self.write(lines)
    }

    static func write(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        let text = lines.joined(separator: "\n") + "\n"
        ConsoleLock.shared.withLock {
            Array(text.utf8).withUnsafeBytes { Output.writeAll(1, $0) }
        }
    }
}
