import AgentHooks
import Foundation
import Testing

/// The pane script's keep-awake Task on a sprite, run for real with a `sprite-env` stand-in.
@Suite("pane script keep-awake")
struct PaneScriptKeepAwakeTests {
    @Test func theTaskIsHeldWhileTheAgentRunsAndDeletedAfter() async throws {
        let dir = NSTemporaryDirectory() + "keepawake-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        // sprite-env records its calls; the agent records whether the Task was held while it ran.
        try "#!/bin/sh\necho \"$*\" >> \(dir)/calls\n".write(toFile: dir + "/bin/sprite-env", atomically: true, encoding: .utf8)
        chmod(dir + "/bin/sprite-env", 0o755)
        try "#!/bin/sh\nsleep 0.3; cp \(dir)/calls \(dir)/during\n".write(toFile: dir + "/agent", atomically: true, encoding: .utf8)
        chmod(dir + "/agent", 0o755)
        try "go".write(toFile: dir + "/prompt", atomically: true, encoding: .utf8)
        let script = PaneScript(
            taskID: 7, workdir: dir, command: AgentCommand(agent: dir + "/agent", session: .new(id: "s"), settingsPath: dir + "/s.json", permissions: .skip),
            promptFile: dir + "/prompt", hookLogPath: dir + "/hooks.log", keepAwakeTask: "task-7")
        try script.text.write(toFile: dir + "/pane.sh", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [dir + "/pane.sh"]
        p.environment = ["PATH": dir + "/bin:/usr/bin:/bin"]
        try p.run()
        // Waited for on a thread of its own: the test pool's threads stay free for other tests.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                p.waitUntilExit()
                done.resume()
            }.start()
        }
        #expect(p.terminationStatus == 0)
        let during = try String(contentsOfFile: dir + "/during", encoding: .utf8)
        #expect(during.contains(#"curl -X PUT -d {"name":"task-7","expire":"5m"} /v1/tasks/task-7"#), "\(during)")
        let calls = try String(contentsOfFile: dir + "/calls", encoding: .utf8)
        #expect(calls.hasSuffix("curl -X DELETE /v1/tasks/task-7\n"), "\(calls)")
        #expect(try String(contentsOfFile: dir + "/hooks.log", encoding: .utf8).contains(#""event":"AgentExit""#))
        // Without a keep-awake Task nothing of it is in the script.
        var plain = script
        plain.keepAwakeTask = nil
        #expect(!plain.text.contains("sprite-env"))
    }
}
