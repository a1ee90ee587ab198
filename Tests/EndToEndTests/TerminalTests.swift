import Foundation
import Testing

/// The shell in a real terminal (tmux at a fixed size), driven by keys as a person would.
@Suite("Shell in a terminal", .serialized)
struct TerminalTests {
    func open(_ env: TaskEnv, extra: [String: String] = [:]) throws -> Terminal {
        var e = env.environment.filter { ["TASK_HOME", "PATH", "HOME", "LANG"].contains($0.key) }
        e["TERM"] = "xterm-256color"
        e["LANG"] = e["LANG"] ?? "C.UTF-8"
        for (k, v) in extra { e[k] = v }
        let t = try Terminal(command: shellQuote(taskBinary), environment: e)
        try t.waitFor(text: "task> ")
        return t
    }

    @Test func promptCompletionAndListingIdsWithTitles() throws {
        let env = TaskEnv()
        try env.run(["new", "Fix login"])
        try env.run(["new", "Write docs"])
        let t = try open(env)
        try t.type("li")
        try t.press("Tab")
        try t.waitFor(text: "task> list ")
        try t.press("Enter")
        try t.waitFor(text: "Write docs")
        try t.type("show ")
        try t.press("Tab")
        let screen = try t.waitFor(text: "2  Write docs  (backlog)")
        #expect(screen.contains("1  Fix login  (backlog)"))
        try t.type("2")
        try t.press("Enter")
        try t.waitFor(text: "#2 Write docs")
    }

    @Test func upArrowRecallsACommandFromAPreviousSession() throws {
        let env = TaskEnv()
        do {
            let first = try open(env)
            try first.type("new 'remembered across sessions'")
            try first.press("Enter")
            try first.waitFor(text: "1\n")
            try first.press("C-d")
            try first.waitFor(text: "EXITED=0")
        }
        let second = try open(env)
        try second.press("Up")
        try second.waitFor(text: "task> new 'remembered across sessions'")
        let h = try env.run(["history", "--search", "remembered"])
        #expect(h.stdout.contains("new 'remembered across sessions'"))
    }

    @Test func ctrlCClearsTheLineAndCtrlDExitsZero() throws {
        let env = TaskEnv()
        let t = try open(env)
        try t.type("new 'half typed")
        try t.press("C-c")
        try t.waitFor("a fresh prompt") { $0.contains("^C\ntask> ") && $0.hasSuffix("task> \n") || $0.split(separator: "\n").last == "task>" }
        try t.type("list")
        try t.press("Enter")
        try t.waitFor(text: "no tasks")
        #expect(try env.run(["list", "--json"]).stdout == "[]\n")
        try t.press("C-d")
        try t.waitFor(text: "EXITED=0")
    }

    @Test func nonASCIIInputWorks() throws {
        let env = TaskEnv()
        let t = try open(env)
        try t.type("new 'añadir café ✓ 日本'")
        try t.press("Enter")
        try t.waitFor(text: "1\n")
        #expect(try env.run(["show", "1", "--json"]).stdout.contains("añadir café ✓ 日本"))
    }

    @Test func backgroundLinesAppearAboveAHalfTypedLineThatStillSubmits() throws {
        let env = TaskEnv()
        let t = try open(env, extra: ["TASK_DEBUG_TICKER": "300:4"])
        try t.type("new 'typed while")
        let screen = try t.waitFor(text: "tick 4", timeout: 10)
        let lines = screen.split(separator: "\n").map(String.init)
        let prompt = try #require(lines.lastIndex { $0.hasPrefix("task> ") })
        #expect(lines[prompt] == "task> new 'typed while")
        let ticks = lines.indices.filter { lines[$0].hasPrefix("tick ") }
        #expect(ticks.count == 4)
        #expect(ticks.allSatisfy { $0 < prompt }, "ticks must be above the prompt")
        try t.type(" ticking'")
        try t.press("Enter")
        try t.waitFor(text: "1\n")
        let json = try env.run(["show", "1", "--json"]).stdout
        #expect(json.contains("\"title\":\"typed while ticking\""))
    }

    @Test func quitAndTypoInTheShell() throws {
        let env = TaskEnv()
        let t = try open(env)
        try t.type("shwo 1")
        try t.press("Enter")
        try t.waitFor(text: "did you mean 'show'?")
        try t.type("quit")
        try t.press("Enter")
        try t.waitFor(text: "EXITED=0")
        let h = try env.run(["history"]).stdout
        #expect(h.contains("64 shwo 1"))
    }
}
