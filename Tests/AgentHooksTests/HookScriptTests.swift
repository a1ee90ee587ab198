import Foundation
import Testing
@testable import AgentHooks

/// Runs the hook script once with `payload` on stdin; returns its status and output.
@discardableResult
func runHook(script: String, task: String = "3", event: String = "PreToolUse", log: String, payload: Data,
             environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProcess(["sh", script, task, event, log], stdin: payload, environment: environment)
}

@Suite struct HookScriptTests {
    final class Fixture {
        let dir: String
        let script: String
        let log: String
        init() throws {
            dir = try makeTemporaryDirectory("hookscript")
            script = dir + "/hook.sh"
            log = dir + "/hooks.log"
            try HookScript.text.write(toFile: script, atomically: true, encoding: .utf8)
        }
        deinit { removeTree(dir) }
        func lines() throws -> [Substring] {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        }
    }

    @Test func nastyPayloadsYieldOneParseableLineEach() throws {
        let fixture = try Fixture()
        let prompts = [
            #"quotes ' " and \ backslash"#,
            "newlines\nin\nside\r\nand CRLF",
            "unicode ✓ 日本語 🎉 \u{2028}",
            "$(touch \(fixture.dir)/pwned) and `touch \(fixture.dir)/pwned2` and ${HOME}",
            "%s %n %d printf format",
            "-n",
            String(repeating: "long ", count: 5000),
        ]
        for (index, prompt) in prompts.enumerated() {
            let payload: [String: Any] = ["hook_event_name": "UserPromptSubmit", "prompt": prompt, "n": index]
            // Alternate compact and pretty-printed payloads: the script must flatten both.
            let options: JSONSerialization.WritingOptions = index % 2 == 0 ? [] : [.prettyPrinted]
            let data = try JSONSerialization.data(withJSONObject: payload, options: options)
            let result = try runHook(script: fixture.script, event: "UserPromptSubmit", log: fixture.log, payload: data)
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
        }
        let lines = try fixture.lines()
        #expect(lines.count == prompts.count)
        for (line, prompt) in zip(lines, prompts) {
            let record = HookRecord(line: String(line))
            #expect(!record.isMalformed, "\(line.prefix(200))")
            #expect(record.event == "UserPromptSubmit")
            #expect(record.taskID == 3)
            #expect(record.prompt == prompt)
            #expect((record.appendedAt ?? 0) > 1_700_000_000)
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.dir + "/pwned"))
        #expect(!FileManager.default.fileExists(atPath: fixture.dir + "/pwned2"))
    }

    @Test func emptyStdinBecomesEmptyObject() throws {
        let fixture = try Fixture()
        try runHook(script: fixture.script, event: "Stop", log: fixture.log, payload: Data())
        try runHook(script: fixture.script, event: "Stop", log: fixture.log, payload: Data(" \n\n".utf8))
        let lines = try fixture.lines()
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.hasSuffix(#","data":{}}"#))
            #expect(HookRecord(line: String(line)).event == "Stop")
        }
    }

    @Test func badArgumentsCannotBreakTheLine() throws {
        let fixture = try Fixture()
        try runHook(script: fixture.script, task: "1,\"x\":2", event: "Stop\"}", log: fixture.log, payload: Data("{}".utf8))
        let record = HookRecord(line: String(try fixture.lines()[0]))
        #expect(record.taskID == nil)
        #expect(record.event == "unknown")
        #expect(!record.isMalformed)
    }

    @Test func missingLogDirectoryStillExitsZeroSilently() throws {
        let fixture = try Fixture()
        let result = try runHook(script: fixture.script, log: fixture.dir + "/nope/hooks.log", payload: Data("{}".utf8))
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty)
    }

    /// Many hooks at once, some with payloads far above PIPE_BUF: every line must stay whole.
    @Test(arguments: [false, true])
    func concurrentInvocationsDoNotInterleave(withoutFlock: Bool) throws {
        let fixture = try Fixture()
        var environment = ProcessInfo.processInfo.environment
        if withoutFlock {
            // A PATH with the tools the script needs but no flock: exercises the lock-directory path.
            let bin = fixture.dir + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for tool in ["sh", "tr", "date", "mkdir", "rmdir", "sleep", "cat"] {
                let found = try runProcess(["sh", "-c", "command -v \(tool)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                try FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: found)
            }
            environment["PATH"] = bin
            #expect(try runProcess(["/bin/sh", "-c", "command -v flock || echo none"], environment: environment).stdout == "none\n")
        }
        let count = 24
        let sizes = (0..<count).map { $0 % 3 == 0 ? 200_000 : 50 + $0 }
        let script = fixture.script, log = fixture.log, finalEnvironment = environment
        try onParallelThreads(count: count) { index in
            let payload = #"{"hook_event_name":"PostToolUse","n":\#(index),"pad":"\#(String(repeating: String(index % 10), count: sizes[index]))"}"#
            let result = try runProcess(["sh", script, "9", "PostToolUse", log],
                                        stdin: Data(payload.utf8), environment: finalEnvironment)
            #expect(result.status == 0)
        }
        let lines = try fixture.lines()
        #expect(lines.count == count)
        var seen = Set<Int>()
        for line in lines {
            let record = HookRecord(line: String(line))
            #expect(!record.isMalformed)
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let data = object?["data"] as? [String: Any]
            let index = try #require(data?["n"] as? Int)
            #expect((data?["pad"] as? String)?.count == sizes[index])
            seen.insert(index)
        }
        #expect(seen.count == count)
        #expect(!FileManager.default.fileExists(atPath: fixture.log + ".lock"))
    }
}

/// Runs `body(0..<count)` on `count` threads at once and waits for all of them.
func onParallelThreads(count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let errors = LockedErrors()
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            defer { group.leave() }
            do { try body(index) } catch { errors.append(error) }
        }.start()
    }
    group.wait()
    if let first = errors.first { throw first }
}

final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []
    func append(_ error: any Error) { lock.withLock { errors.append(error) } }
    var first: (any Error)? { lock.withLock { errors.first } }
}
