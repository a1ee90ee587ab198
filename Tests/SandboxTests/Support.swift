import Foundation
@testable import Sandbox

/// A fresh temporary directory.
func makeTemporaryDirectory(_ name: String = "sandbox") throws -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it held.
func eventually(timeout: Double = 15, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Whether a process with this pid is alive (and not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !status.contains(") Z ")
}

/// A tmux server of our own for one test, killed afterwards.
struct TmuxFixture {
    let tmux: Tmux
    let dir: String

    init(enterDelay: Duration = .milliseconds(150)) throws {
        dir = try makeTemporaryDirectory("tmux")
        tmux = Tmux(sandbox: LocalSandbox(), socket: "task-test-\(UUID().uuidString.prefix(12))", enterDelay: enterDelay)
    }

    func tearDown() async {
        try? await tmux.killServer()
        removeTree(dir)
    }
}

/// Runs `body` with a fresh tmux server and always kills it afterwards.
func withTmuxFixture(enterDelay: Duration = .milliseconds(150), _ body: (TmuxFixture) async throws -> Void) async throws {
    let fixture = try TmuxFixture(enterDelay: enterDelay)
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}

struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "timed out after \(seconds) s" }
}

/// Runs `body`, failing with ``TimedOut`` instead of hanging when it takes longer than `seconds`.
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(seconds: seconds)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut(seconds: seconds) }
        return first
    }
}
