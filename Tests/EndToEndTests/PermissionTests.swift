import Foundation
import Testing

/// Answering the agent: permission dialogs, keys that would land in a message, text already typed.
@Suite("Answering the agent", .serialized)
struct PermissionTests {
    static var asking: [String: Any] { [
        "tools": [["tool_name": "Bash", "tool_input": ["command": "echo approved > proof.txt"], "effect": "real", "needs_permission": true]],
        "text": "Ran it.",
    ] }

    @Test func approveAnswersTheDialogAndDenyRefusesIt() async throws {
        let a = AgentEnv(scenario: scenario([Self.asking, Self.asking, ["text": "fine"]]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Ask first", "--run"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        #expect((try await a.task(1)["status_detail"] as? String) == "waiting for permission for Bash")
        #expect(try await a.run(["list"]).stdout.contains("(permission) Ask first"))
        let approved = try await a.run(["approve", "1"])
        #expect(approved.status == 0 && approved.stdout == "#1 ✓ approved Bash\n", "\(approved.stdout)\(approved.stderr)")
        try await waitUntil("the turn ends") {
            (try await a.task(1)["status_detail"] as? String)?.hasPrefix("waiting for input") == true
        }
        #expect(try await a.eventNames(1).contains("PostToolUse"))
        let workdir = try #require(try await a.task(1)["worktree"] as? String)
        #expect(FileManager.default.fileExists(atPath: workdir + "/proof.txt"))
        // Not at a dialog now: approve says what the pane shows instead of pressing anything.
        let none = try await a.run(["approve", "1"])
        #expect(none.status == 1 && none.stderr.contains("has no permission dialog open"), "\(none.stderr)")
        // The next turn asks again; deny refuses it: no PostToolUse for that call.
        #expect(try await a.run(["send", "1", "once more"]).status == 0)
        try await waitUntil("the second dialog") {
            (try await a.task(1)["status_detail"] as? String) == "waiting for permission for Bash"
        }
        let before = try await a.eventNames(1).filter { $0 == "PostToolUse" }.count
        let denied = try await a.run(["deny", "1"])
        #expect(denied.status == 0 && denied.stdout == "#1 ✗ denied Bash\n")
        try await waitUntil("the turn ends after the denial") {
            (try await a.task(1)["status_detail"] as? String)?.hasPrefix("waiting for input") == true
        }
        #expect(try await a.eventNames(1).filter { $0 == "PostToolUse" }.count == before)
    }

    @Test func keysAndSendSayWhatThePaneHoldsInsteadOfTypingBlind() async throws {
        let a = AgentEnv(scenario: scenario([["text": "Which branch?"], ["text": "ok"]]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Chat", "--run"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        // A digit pressed at the input line (no dialog open) goes into the draft: keys says so.
        let keys = try await a.run(["keys", "1", "1"])
        #expect(keys.status == 0 && keys.stdout.contains("is not at a permission dialog; its input line now holds: 1"), "\(keys.stdout)")
        // send refuses to type after a draft that would go out with the message.
        let send = try await a.run(["send", "1", "main"])
        #expect(send.status == 1 && send.stderr.contains("input line already holds \"1\""), "\(send.stderr)")
        #expect(try await a.run(["keys", "1", "C-u"]).status == 0)
        try await waitUntil("the draft is cleared") {
            (try await a.run(["send", "1", "main"])).status == 0
        }
        let prompts = try await a.events(1).compactMap { (($0["raw"] as? [String: Any])?["data"] as? [String: Any])?["prompt"] as? String }
        #expect(prompts.last == "main")
    }
}
