import Foundation
import Testing
@testable import AgentHooks

@Suite struct AgentCommandTests {
    @Test func newSessionArgv() {
        let command = AgentCommand(session: .new(id: "0b6f3e4c-1111-2222-3333-444455556666"), settingsPath: "/s.json",
                                   permissions: .skip, model: "opus")
        #expect(command.argv(prompt: "--help me") == [
            "claude", "--session-id", "0b6f3e4c-1111-2222-3333-444455556666", "--settings", "/s.json",
            "--dangerously-skip-permissions", "--model", "opus", "--", "--help me",
        ])
    }

    @Test func resumeArgvWithModeAndVariadicExtras() {
        let command = AgentCommand(agent: "/opt/claude", session: .resume(id: "abc"), settingsPath: "/s.json",
                                   permissions: .mode("acceptEdits"), extraArguments: ["--add-dir", "/a", "/b"])
        #expect(command.argv(prompt: "feedback") == [
            "/opt/claude", "--resume", "abc", "--settings", "/s.json", "--permission-mode", "acceptEdits",
            "--add-dir", "/a", "/b", "--", "feedback",
        ])
        let plain = AgentCommand(session: .new(id: "u"), settingsPath: "/s")
        #expect(plain.argumentsBeforePrompt == ["claude", "--session-id", "u", "--settings", "/s", "--"])
    }
}

@Suite struct PaneScriptTests {
    /// A fake agent that writes each argv element to a file, NUL-terminated, plus a few variables.
    static let fakeAgent = """
        #!/bin/sh
        out="$FAKE_OUT"
        : > "$out.args"
        for arg in "$@"; do printf '%s\\0' "$arg" >> "$out.args"; done
        printf 'CLAUDECODE=%s|ENTRY=%s|TASK_ID=%s|PWD=%s|EXTRA=%s' "${CLAUDECODE-unset}" "${CLAUDE_CODE_ENTRYPOINT-unset}" "$TASK_ID" "$(pwd)" "$EXTRA" > "$out.env"
        exit "${FAKE_STATUS:-0}"
        """

    final class Fixture {
        let dir: String
        init() throws {
            dir = try makeTemporaryDirectory("pane 'script'")
            try FileManager.default.createDirectory(atPath: dir + "/work dir's", withIntermediateDirectories: true)
            try PaneScriptTests.fakeAgent.write(toFile: dir + "/fake agent", atomically: true, encoding: .utf8)
            chmod(dir + "/fake agent", 0o755)
        }
        deinit { removeTree(dir) }
        var workdir: String { dir + "/work dir's" }
        var log: String { dir + "/hooks.log" }
        var out: String { dir + "/out" }

        func script(prompt: String, workdir: String? = nil) throws -> String {
            let promptFile = dir + "/prompt 'file'.txt"
            try prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)
            let command = AgentCommand(agent: dir + "/fake agent", session: .new(id: "sid"), settingsPath: dir + "/settings.json",
                                       permissions: .skip)
            let pane = PaneScript(taskID: 77, workdir: workdir ?? self.workdir, command: command, promptFile: promptFile,
                                  hookLogPath: log, environment: ["EXTRA": "x'y $z", "FAKE_OUT": out, "1BAD": "skip"])
            let path = dir + "/pane.sh"
            try pane.text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func arguments() throws -> [String] {
            let data = try #require(FileManager.default.contents(atPath: out + ".args"))
            return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test func agentReceivesPromptVerbatimAsOneArgument() throws {
        let fixture = try Fixture()
        let prompt = "Fix it: '\"$(rm -rf x)`;\\`touch pwned`\n second line; $HOME\n\tthird ✓"
        let script = try fixture.script(prompt: prompt)
        _ = FileManager.default.createFile(atPath: fixture.workdir + "/x", contents: Data("keep".utf8))
        var environment = ProcessInfo.processInfo.environment
        environment["CLAUDECODE"] = "1"
        environment["CLAUDE_CODE_ENTRYPOINT"] = "cli"
        let result = try runProcess(["sh", script], environment: environment)
        #expect(result.status == 0)

        let args = try fixture.arguments()
        #expect(args == ["--session-id", "sid", "--settings", fixture.dir + "/settings.json", "--dangerously-skip-permissions", "--", prompt])
        #expect(FileManager.default.fileExists(atPath: fixture.workdir + "/x"))
        #expect(!FileManager.default.fileExists(atPath: fixture.workdir + "/pwned"))
        let env = try String(contentsOfFile: fixture.out + ".env", encoding: .utf8)
        #expect(env == "CLAUDECODE=unset|ENTRY=unset|TASK_ID=77|PWD=\(fixture.workdir)|EXTRA=x'y $z")
    }

    @Test(arguments: [Int32(0), 3, 130])
    func agentExitIsRecordedWithItsStatus(status: Int32) throws {
        let fixture = try Fixture()
        let script = try fixture.script(prompt: "hi")
        var environment = ProcessInfo.processInfo.environment
        environment["FAKE_STATUS"] = String(status)
        let result = try runProcess(["sh", script], environment: environment)
        #expect(result.status == status)
        let lines = try String(contentsOfFile: fixture.log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let record = HookRecord(line: String(lines[0]))
        #expect(record.event == "AgentExit")
        #expect(record.taskID == 77)
        #expect(record.exitCode == Int(status))
        #expect(record.summary == "exit \(status)")
    }

    @Test func unreachableWorkdirRecordsFailureWithoutStartingTheAgent() throws {
        let fixture = try Fixture()
        let script = try fixture.script(prompt: "hi", workdir: fixture.dir + "/missing")
        let result = try runProcess(["sh", script])
        #expect(result.status == PaneScript.cannotEnterWorkdirStatus)
        #expect(!FileManager.default.fileExists(atPath: fixture.out + ".args"))
        let record = HookRecord(line: try String(contentsOfFile: fixture.log, encoding: .utf8).trimmingCharacters(in: .newlines))
        #expect(record.exitCode == Int(PaneScript.cannotEnterWorkdirStatus))
    }

    @Test func promptTextNeverAppearsInTheScript() throws {
        let fixture = try Fixture()
        let script = try fixture.script(prompt: "SECRET-PROMPT-TEXT")
        #expect(!(try String(contentsOfFile: script, encoding: .utf8)).contains("SECRET-PROMPT-TEXT"))
    }
}
