import AgentHooks
import Foundation
import Testing
@testable import Sandbox

/// The pieces together, as the runner will use them: settings + hook script + pane script in a tmux
/// window, a fake agent that fires hooks the way Claude does (`sh -c "<command from the settings>"`),
/// and the hook log followed with HookLogTail.
@Suite struct EndToEndTests {
    /// Reads the settings file, runs the SessionStart and UserPromptSubmit hook commands like
    /// Claude (payload on stdin), echoes typed input into another UserPromptSubmit, then exits 4.
    static let fakeAgent = #"""
        #!/bin/sh
        settings=""
        while [ $# -gt 0 ]; do
          case $1 in
            --settings) settings=$2; shift 2 ;;
            --) shift; break ;;
            *) shift ;;
          esac
        done
        prompt=$1
        hook() { # event, payload
          command=$(sed -n "s/.*\"command\" *: *\"\(sh .* $1 .*\)\".*/\1/p" "$settings" | sed 's/\\\//\//g' | head -n 1)
          printf '%s' "$2" | sh -c "$command"
        }
        hook SessionStart '{"hook_event_name":"SessionStart","session_id":"sid","source":"startup"}'
        escaped=$(printf '%s' "$prompt" | sed 's/\\/\\\\/g; s/"/\\"/g')
        hook UserPromptSubmit "{\"hook_event_name\":\"UserPromptSubmit\",\"session_id\":\"sid\",\"prompt\":\"$escaped\"}"
        echo READY
        IFS= read -r typed
        hook UserPromptSubmit "{\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"$typed\"}"
        exit 4
        """#

    @Test func taskLifecycleThroughTmuxAndTheHookLog() async throws {
        try await withTmuxFixture { fixture in
            let dir = fixture.dir
            let sandbox = LocalSandbox()
            let log = dir + "/hooks.log", script = dir + "/hook.sh", settingsFile = dir + "/settings.json"
            let promptFile = dir + "/prompt.txt", agent = dir + "/claude", paneFile = dir + "/pane.sh"
            try await sandbox.writeFile(path: script, data: Data(HookScript.text.utf8), mode: 0o644)
            try await sandbox.writeFile(path: settingsFile, data: HookSettings(taskID: 5, hookScriptPath: script, hookLogPath: log).jsonData(), mode: 0o600)
            try await sandbox.writeFile(path: agent, data: Data(Self.fakeAgent.utf8), mode: 0o755)
            let prompt = "Fix \"it\" now"
            try await sandbox.writeFile(path: promptFile, data: Data(prompt.utf8), mode: 0o600)
            let command = AgentCommand(agent: agent, session: .new(id: "sid"), settingsPath: settingsFile, permissions: .skip)
            let pane = PaneScript(taskID: 5, workdir: dir, command: command, promptFile: promptFile, hookLogPath: log)
            try await sandbox.writeFile(path: paneFile, data: Data(pane.text.utf8), mode: 0o700)

            try await fixture.tmux.ensureSession()
            let paneID = try await fixture.tmux.newWindow(name: "task-5", cwd: dir, command: ["sh", paneFile])
            let tmux = fixture.tmux

            let (records, lastOffset) = try await withTimeout(20) {
                var records: [HookRecord] = []
                var lastOffset: Int64 = 0
                for try await batch in HookLogTail(sandbox: sandbox, path: log, pollInterval: 0.05).lines() {
                    for line in batch {
                        records.append(line.record)
                        lastOffset = line.endOffset
                        if line.record.event == "UserPromptSubmit" && records.count == 2 {
                            #expect(try await eventually { try await tmux.capturePane(pane: paneID).contains("READY") })
                            try await tmux.sendText(pane: paneID, text: "typed reply;")
                        }
                    }
                    if records.contains(where: { $0.event == "AgentExit" }) { break }
                }
                return (records, lastOffset)
            }
            try #require(records.count == 4)
            #expect(records.map(\.event) == ["SessionStart", "UserPromptSubmit", "UserPromptSubmit", "AgentExit"])
            #expect(records.allSatisfy { $0.taskID == 5 })
            #expect(records[0].sessionID == "sid")
            #expect(records[1].prompt == prompt)
            #expect(records[2].prompt == "typed reply;")
            #expect(records[3].exitCode == 4)
            #expect(lastOffset == (try await sandbox.fileSize(path: log)))
            #expect(try await eventually { try await !tmux.paneExists(paneID) })
        }
    }

    /// Killing the window (a `stop`, or a user closing it) still ends the agent and records its exit.
    @Test func killingTheWindowStopsTheAgentAndRecordsItsExit() async throws {
        try await withTmuxFixture { fixture in
            let dir = fixture.dir, sandbox = LocalSandbox()
            let log = dir + "/hooks.log", agent = dir + "/agent", pidFile = dir + "/agent.pid"
            try await sandbox.writeFile(path: agent, data: Data("#!/bin/sh\necho $$ > '\(pidFile)'\necho READY\nwhile :; do sleep 0.05; done\n".utf8), mode: 0o755)
            try await sandbox.writeFile(path: dir + "/prompt", data: Data("p".utf8), mode: 0o600)
            let pane = PaneScript(taskID: 8, workdir: dir, command: AgentCommand(agent: agent, session: .new(id: "s"), settingsPath: "/none"),
                                  promptFile: dir + "/prompt", hookLogPath: log)
            try await sandbox.writeFile(path: dir + "/pane.sh", data: Data(pane.text.utf8), mode: 0o700)
            try await fixture.tmux.ensureSession()
            let paneID = try await fixture.tmux.newWindow(name: "task-8", command: ["sh", dir + "/pane.sh"])
            #expect(try await eventually { try await fixture.tmux.capturePane(pane: paneID).contains("READY") })
            let agentPID = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(processIsAlive(agentPID))

            try await fixture.tmux.killWindow(pane: paneID)
            #expect(await eventually { !processIsAlive(agentPID) })
            #expect(await eventually { (try? await sandbox.readFile(path: log))?.last == UInt8(ascii: "\n") })
            let record = HookRecord(line: String(decoding: try await sandbox.readFile(path: log), as: UTF8.self)
                .trimmingCharacters(in: .newlines))
            #expect(record.event == "AgentExit")
            #expect(record.taskID == 8)
            #expect(record.exitCode == 128 + Int(SIGHUP))
        }
    }
}
