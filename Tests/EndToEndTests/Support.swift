import Foundation
import Testing

/// The built `task` binary, next to the test bundle (or $TASK_BIN).
let taskBinary: String = {
    if let b = ProcessInfo.processInfo.environment["TASK_BIN"] { return b }
    let dir = Bundle.main.executableURL?.deletingLastPathComponent()
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidate = dir.appendingPathComponent("task").path
    if !FileManager.default.fileExists(atPath: candidate) {
        // xctest bundles on Linux sit beside the products.
        candidate = dir.deletingLastPathComponent().appendingPathComponent("task").path
    }
    return candidate
}()

func makeTemporaryFolder() -> String {
    let dir = NSTemporaryDirectory() + "task-e2e-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A fresh data folder and a way to run `task` against it.
struct TaskEnv {
    let home: String
    var extraEnvironment: [String: String] = [:]

    init() { home = makeTemporaryFolder() + "/home" }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["TASK_HOME"] = home
        env["NO_COLOR"] = nil
        env["TASK_AGENT"] = nil
        for (k, v) in extraEnvironment { env[k] = v }
        return env
    }

    @discardableResult
    func run(_ args: [String], stdin: Data? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: taskBinary)
        p.arguments = args
        p.environment = environment
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        // Drain both pipes while the child runs.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin { inp.fileHandleForWriting.write(stdin) }
        try inp.fileHandleForWriting.close()
        p.waitUntilExit()
        group.wait()
        return RunResult(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    func script(_ text: String) throws -> RunResult { try run([], stdin: Data(text.utf8)) }
}

/// A tmux server of the test's own, holding one pane at a fixed size.
final class Terminal {
    let socket = "task-test-\(UUID().uuidString.prefix(8))"

    init(command: String, environment: [String: String], width: Int = 100, height: Int = 24) throws {
        let envPrefix = environment.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: " ")
        // The server this starts must not inherit a pipe we read to the end.
        try tmux(["new-session", "-d", "-x", String(width), "-y", String(height), "env \(envPrefix) \(command); echo EXITED=$?; sleep 30"], capture: false)
    }

    deinit { _ = try? tmux(["kill-server"]) }

    @discardableResult
    func tmux(_ args: [String], capture: Bool = true) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["tmux", "-L", socket, "-f", "/dev/null"] + args
        var env = ProcessInfo.processInfo.environment
        env["TMUX"] = nil
        p.environment = env
        p.standardError = FileHandle.nullDevice
        guard capture else {
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return ""
        }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Types text literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", "0", "-l", "--", text]) }
    /// Presses keys by name (Enter, C-c, Up, Tab…).
    func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "0"] + keys) }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", "0"]) }

    /// Waits until the screen satisfies `condition`; returns the screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 10, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("timed out waiting for \(what); screen was:\n\(last)")
        return last
    }

    @discardableResult
    func waitFor(text: String, timeout: Double = 10) throws -> String {
        try waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// The last non-empty line on screen.
    func lastLine() throws -> String {
        try screen().split(separator: "\n").last.map(String.init) ?? ""
    }
}

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
