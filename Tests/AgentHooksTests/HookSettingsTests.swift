import Foundation
import Testing
@testable import AgentHooks

@Suite struct HookSettingsTests {
    let settings = HookSettings(taskID: 12, hookScriptPath: "/tmp/it's here/hook.sh", hookLogPath: "/tmp/log dir/hooks.log")

    @Test func commandFormat() {
        #expect(settings.command(for: "PreToolUse") == #"sh '/tmp/it'\''s here/hook.sh' 12 PreToolUse '/tmp/log dir/hooks.log'"#)
    }

    @Test func jsonMatchesTheRealSchema() throws {
        let data = try settings.jsonData()
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(root.keys) == ["hooks"])
        let hooks = try #require(root["hooks"] as? [String: Any])
        #expect(Set(hooks.keys) == Set(HookEvent.subscribed))
        #expect(HookEvent.subscribed.count == 10)
        for event in HookEvent.subscribed {
            let groups = try #require(hooks[event] as? [[String: Any]], "\(event)")
            #expect(groups.count == 1)
            let group = groups[0]
            if event == "UserPromptSubmit" || event == "Stop" {
                #expect(Set(group.keys) == ["hooks"], "\(event)")
            } else {
                #expect(Set(group.keys) == ["matcher", "hooks"], "\(event)")
                #expect(group["matcher"] as? String == "*")
            }
            let handlers = try #require(group["hooks"] as? [[String: Any]])
            #expect(handlers.count == 1)
            let handler = handlers[0]
            #expect(Set(handler.keys) == ["type", "command", "timeout"])
            #expect(handler["type"] as? String == "command")
            #expect(handler["timeout"] as? Int == 10)
            #expect(handler["command"] as? String == settings.command(for: event))
        }
    }

    @Test func skipDangerousModePromptKey() throws {
        var withFlag = settings
        withFlag.skipDangerousModePrompt = true
        let root = try #require(try JSONSerialization.jsonObject(with: withFlag.jsonData()) as? [String: Any])
        #expect(root["skipDangerousModePermissionPrompt"] as? Bool == true)
    }

    /// Installs the hook script in a directory whose name needs quoting and runs each generated
    /// command exactly as Claude does (`sh -c "<command>"`).
    @Test func generatedCommandsAppendOneLineEach() throws {
        let dir = try makeTemporaryDirectory("hook dir's")
        defer { removeTree(dir) }
        let script = dir + "/hook.sh", log = dir + "/hooks.log"
        try HookScript.text.write(toFile: script, atomically: true, encoding: .utf8)
        let local = HookSettings(taskID: 5, hookScriptPath: script, hookLogPath: log)
        for event in HookEvent.subscribed {
            let payload = #"{"hook_event_name":"\#(event)","session_id":"s"}"#
            let result = try runProcess(["sh", "-c", local.command(for: event)], stdin: Data(payload.utf8))
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.isEmpty)
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == HookEvent.subscribed.count + 1)
        #expect(lines.last == "")
        for (line, event) in zip(lines, HookEvent.subscribed) {
            let record = HookRecord(line: String(line))
            #expect(record.event == event)
            #expect(record.taskID == 5)
            #expect(record.sessionID == "s")
        }
    }
}
