import Foundation
import Testing

/// The simulator's test switches.
extension SpriteSimProcess {
    @discardableResult
    func admin(_ path: String, _ body: String = "{}") async throws -> String {
        let tls = url.hasPrefix("https:") ? ["--cacert", caFile] : []
        let r = try await runCommand(["curl", "-sS"] + tls + ["-X", "POST", "-H", "Content-Type: application/json", "-d", body, url + "/_sim/" + path])
        #expect(r.status == 0, "\(path): \(r.stderr)")
        return r.stdout
    }

    /// The sprite's home folder on this machine.
    func home(_ sprite: String = "task-sandbox") -> String { root + "/sprites/\(sprite)/home" }
}

/// An agent that appends `count` PreToolUse lines (`echo 1`, `echo 2`, …) to its sprite's hook log
/// in bursts of `burst` a tenth of a second apart, then exits — after the file `go` exists, when given.
func emitAgent(count: Int, burst: Int, go: String? = nil) throws -> String {
    let agent = makeTemporaryFolder() + "/emit-agent"
    let wait = go.map { "n=0\nwhile [ ! -e '\($0)' ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done\n" } ?? ""
    try ("""
        #!/bin/sh
        log="$HOME/.task/hooks.log"

        """ + wait + """
        i=1
        while [ $i -le \(count) ]; do
          printf '{"task":%s,"event":"PreToolUse","ts":1.5,"data":{"tool_name":"Bash","tool_input":{"command":"echo %s"}}}\\n' "$TASK_ID" "$i" >> "$log"
          [ $((i % \(burst))) -eq 0 ] && sleep 0.1
          i=$((i + 1))
        done
        exit 0

        """).write(toFile: agent, atomically: true, encoding: .utf8)
    #expect(chmod(agent, 0o755) == 0)
    return agent
}

/// The Bash commands of a task's PreToolUse events, in order (as `events --json` gives them).
func bashCommands(_ events: [[String: Any]]) -> [String] {
    events.compactMap { e -> String? in
        guard e["event"] as? String == "PreToolUse", let raw = e["raw"] as? [String: Any],
              let data = raw["data"] as? [String: Any], let input = data["tool_input"] as? [String: Any] else { return nil }
        return input["command"] as? String
    }
}

/// A task environment whose tasks run on a `sprite-sim` sprite with the stand-in agent.
struct SpriteAgentEnv {
    let sim: SpriteSimProcess
    var agent: AgentEnv

    init(sim: SpriteSimProcess, scenario: String? = nil, agentCommand: String = standInAgent) {
        self.sim = sim
        agent = AgentEnv(scenario: scenario)
        agent.env.extraEnvironment["SPRITES_API_URL"] = sim.url
        agent.env.extraEnvironment["SPRITES_TOKEN"] = sim.token
        agent.env.extraEnvironment["TASK_SPRITE_AGENT"] = agentCommand
        agent.env.extraEnvironment["IS_SANDBOX"] = "1"
        agent.env.extraEnvironment["ANTHROPIC_API_KEY"] = "sk-ant-test-secret-42"
    }

    var env: TaskEnv { agent.env }

    @discardableResult
    func run(_ args: [String]) async throws -> RunResult { try await agent.run(args) }

    /// Ends the sim (every sprite's tmux server and agents first) and the local tmux server,
    /// before the test returns.
    func cleanUp() {
        sim.stop()
        agent.cleanUp()
    }
}

/// The shell in a real terminal (tmux), with this task environment (its unset variables too).
func withTaskShell(_ env: TaskEnv, width: Int = 120, height: Int = 40, _ body: (Terminal) async throws -> Void) async throws {
    try await withTaskShell(env.environment, width: width, height: height,
                            unset: TaskEnv.cleared.filter { env.extraEnvironment[$0] == nil }, body)
}

/// Tasks run on a sprite of `sprite-sim` end to end: the stand-in agent in the sprite's tmux,
/// hook events streamed back, input forwarded, the repository there and back as git bundles.
@Suite("Running tasks on the sprite", .serialized)
struct SpriteRunTests {
    static var committingTurn: [String: Any] { [
        "tools": [
            ["tool_name": "Write", "tool_input": ["file_path": "poem.txt", "content": "an old silent pond\n"], "effect": "real", "needs_permission": false],
            ["tool_name": "Bash", "tool_input": ["command": "git add poem.txt && git -c user.name=agent -c user.email=agent@example.com commit -qm 'Add the poem'"],
             "effect": "real", "needs_permission": false],
        ],
        "text": "Committed the poem",
    ] }

    @Test func aTaskRunsOnTheSpriteAndItsCommitComesBackWithPull() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([Self.committingTurn, ["text": "thanks"]]))
        defer { s.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await s.run(["project", "add", "web", repo]).status == 0)
        #expect(try await s.run(["new", "Write a poem", "--project", "web"]).status == 0)
        let started = try await s.run(["run", "1"])
        #expect(started.status == 0, "\(started.stderr)")
        // First use provisions the sprite, with progress; then the commit is sent as a bundle.
        #expect(started.stdout.contains("✓ sprite task-sandbox created"), "\(started.stdout)")
        #expect(started.stdout.contains("#1 started on the sprite task-sandbox in " + sim.home() + "/work/web/1-write-a-poem"), "\(started.stdout)")
        #expect(started.stdout.contains("to the sprite task-sandbox: 1 new commit"), "\(started.stdout)")
        // One-shot commands catch up from the sprite's hook log.
        try await waitUntil("the agent's first turn ends") {
            try await s.run(["events", "1"]).stdout.contains("Committed the poem")
        }
        let names = try await s.agent.eventNames(1)
        #expect(Array(names.prefix(7)) == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PreToolUse", "PostToolUse", "Stop"])
        #expect(try await s.agent.status(1) == "blocked")
        let task = try await s.agent.task(1)
        #expect(task["sandbox"] as? String == "sprite")
        // The folder is a clone on the sprite, not a worktree here.
        #expect(!FileManager.default.fileExists(atPath: repo + "/poem.txt"))

        // The agent's credentials went through a 0600 file that the pane script deleted once the
        // agent had them: nothing on the sprite's disk (or a checkpoint of it) holds the key.
        let paneScript = sim.home() + "/.task/tasks/1/pane.sh"
        #expect(try await runCommand(["stat", "-c", "%a", paneScript]).stdout == "600\n")
        #expect(!FileManager.default.fileExists(atPath: sim.home() + "/.task/tasks/1/env.sh"))
        #expect(FirstRunTests.files(under: sim.home(), containing: "sk-ant-test-secret-42").isEmpty)
        // The key's last 20 characters are approved in the agent's state file there, so its
        // API-key screen never held the task.
        let state = try String(contentsOfFile: sim.home() + "/.claude.json", encoding: .utf8)
        #expect(state.contains("customApiKeyResponses") && state.contains("\"" + String("sk-ant-test-secret-42".suffix(20)) + "\""))
        let database = try Data(contentsOf: URL(fileURLWithPath: s.env.home + "/task.db"))
        #expect(database.range(of: Data("sk-ant-test-secret".utf8)) == nil, "no secret in the database")
        let shown = try await s.run(["show", "1"]).stdout
        #expect(!started.stdout.contains("sk-ant") && !shown.contains("sk-ant"))
        // The keep-awake Task is held while the agent runs, and sprite status says so.
        #expect(FileManager.default.fileExists(atPath: sim.root + "/sprites/task-sandbox/tasks/task-1"))
        #expect(try await s.run(["sprite", "status"]).stdout.contains("awake    held while #1 runs"))

        // The transcript is read on the sprite, where the agent wrote it.
        let transcript = try await s.run(["transcript", "1"]).stdout
        #expect(transcript.hasPrefix("› Write a poem\n") && transcript.contains("● Committed the poem"), "\(transcript)")

        let sent = try await s.run(["send", "1", "thanks; well done"])
        #expect(sent.status == 0 && sent.stdout == "#1 ← sent\n", "\(sent.stderr)")

        let pulled = try await s.run(["pull", "1"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.hasPrefix("#1 pulled task/1-write-a-poem: 1 new commit\n"), "\(pulled.stdout)")
        #expect(pulled.stdout.contains("Add the poem"))
        let show = try await runCommand(["git", "-C", repo, "show", "task/1-write-a-poem:poem.txt"])
        #expect(show.stdout == "an old silent pond\n")
        #expect(try await s.run(["pull", "1"]).stdout == "#1 task/1-write-a-poem: no new commits\n")

        // A second task of the same project sends nothing new, and says what it did not send.
        try Data("local edit\n".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
        #expect(try await s.run(["new", "Second", "--project", "web"]).status == 0)
        // This machine knows the commit is there: the launch takes no look first (one command).
        // (An agent that thinks for a while: no turn ends, so no usage is read, during the count.)
        // (#1's reply to the message sent above is stored first: its usage is read when it is.)
        try await waitUntil("#1's second turn ends") {
            try await s.run(["events", "1"]).stdout.components(separatedBy: "Stop ").count - 1 >= 2
        }
        var slow = s
        slow.agent.env.extraEnvironment["FAKE_CLAUDE_THINK_MS"] = "3000"
        let opsBefore = try await Self.controlOperations(sim)
        let second = try await slow.run(["run", "2"])
        let launchOps = try await Self.controlOperations(sim) - opsBefore
        #expect(launchOps == 1, "commands the launch took on the sprite: \(launchOps)")
        #expect(second.stdout.contains("is on the sprite task-sandbox already: nothing new sent"), "\(second.stdout)")
        #expect(second.stdout.contains("not sent: 1 uncommitted change in \(repo) (commit them to include them)"), "\(second.stdout)")
        #expect(try await s.run(["keys", "1", "C-u"]).status == 0, "keys reach the pane on the sprite")
        #expect(try await s.run(["done", "1"]).status == 0)
        #expect(try await s.run(["stop", "2"]).status == 0)
        // retry resumes the session on the sprite, where its transcript is.
        let retried = try await s.run(["retry", "1", "--feedback", "one more verse"])
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.contains("#1 started on the sprite") && retried.stdout.contains("resuming its session"), "\(retried.stdout)")
        try await waitUntil("the resumed turn") {
            try await s.run(["events", "1"]).stdout.contains("UserPromptSubmit  one more verse")
        }
        #expect(try await s.run(["stop", "1"]).status == 0)

        // A mirror that lost the commit (a sprite restored from an older checkpoint) makes the
        // launch look after all and send it again.
        try FileManager.default.removeItem(atPath: sim.home() + "/.task/repos/web.git")
        #expect(try await s.run(["new", "Third", "--project", "web"]).status == 0)
        let third = try await s.run(["run", "3"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("to the sprite task-sandbox: 1 new commit"), "\(third.stdout)")
        try await s.agent.waitForStatus(3, "blocked", timeout: 30)
        #expect(try await s.run(["stop", "3"]).status == 0)
    }

    @Test func theAccountsLimitOnSpritesQueuesTheTaskUntilASpriteFreesUp() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([["text": "ok"]]))
        defer { s.cleanUp() }
        // Another sprite of the account is running, and the account allows one at a time.
        let auth = "Authorization: Bearer \(sim.token)"
        let other = try await runCommand(["curl", "-sS", "-H", auth, "-H", "Content-Type: application/json", "-d", #"{"name":"other"}"#,
                                          sim.url + "/v1/sprites"])
        #expect(other.status == 0 && other.stdout.contains("\"other\""), "\(other.stdout)")
        let wake = try await runCommand(["curl", "-sS", "-X", "PUT", "-H", auth, "--data-binary", "awake",
                                         sim.url + "/v1/sprites/other/fs/write?path=%2Ftmp%2Fawake"])
        #expect(wake.status == 0, "\(wake.stderr)")
        try await sim.admin("faults", #"{"max_sprites":1}"#)
        #expect(try await s.run(["new", "Waits for a sprite"]).status == 0)
        let r = try await s.run(["run", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1 queued on the sprite (1 waiting; waiting for a sprite: the account's limit on sprites at once (1) is reached; trying again in 1 s)"),
                "\(r.stdout)")
        #expect(try await s.agent.status(1) == "queued")
        // The other sprite goes away: the next command that looks starts the task.
        #expect(try await runCommand(["curl", "-sS", "-X", "DELETE", "-H", auth, sim.url + "/v1/sprites/other"]).status == 0)
        try await waitUntil("the queued task starts on a new sprite") {
            _ = try await s.run(["list"])
            return ["processing", "blocked", "done"].contains(try await s.agent.status(1))
        }
        try await s.agent.waitForStatus(1, "blocked", timeout: 30)
    }

    /// Commands started on the sim's control channel so far.
    static func controlOperations(_ sim: SpriteSimProcess) async throws -> Int {
        let body = try await runCommand(["curl", "-sS", sim.url + "/_sim/control"]).stdout
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["operations"] as? Int ?? -1
    }

    /// Five processes that need the sprite before it exists (shells opening, a one-shot run) all
    /// get it: one creates it, the others find the name taken and use it.
    @Test func fiveProcessesMakingTheSameNewSpriteAllGetIt() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim)
        defer { s.cleanUp() }
        let ups = try await s.agent.runAtOnce(Array(repeating: ["sprite", "up"], count: 5))
        for up in ups { #expect(up.status == 0, "\(up.stderr)") }
        #expect(ups.filter { $0.stdout.contains("sprite task-sandbox created") }.count == 1, "\(ups.map(\.stdout))")
        #expect(try await s.run(["doctor"]).stdout.contains("✓ hook (sprite)"))
    }

    /// A sprite serves one database: a second (another machine, a data folder made anew) is refused
    /// with who has it and how to free it, starts once it is freed, and then the first is refused.
    @Test func aSpriteServesOneDatabaseAndASecondIsRefusedUntilItIsFreed() async throws {
        let sim = try await SpriteSimProcess.start()
        let done = scenario([["text": "Done.", "exit_code": 0]])
        let first = SpriteAgentEnv(sim: sim, scenario: done), second = SpriteAgentEnv(sim: sim, scenario: done)
        defer {
            first.cleanUp()
            second.agent.cleanUp()
        }
        #expect(try await first.run(["new", "Mine", "--run"]).status == 0)
        try await first.agent.waitForStatus(1, "done", timeout: 30)

        let owner = sim.home() + "/.task/owner"
        let refused = try await second.run(["new", "Theirs", "--run"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the sprite task-sandbox serves another task database ("), "\(refused.stderr)")
        #expect(refused.stderr.contains(first.env.home + "/task.db on "), "names the other database: \(refused.stderr)")
        #expect(refused.stderr.contains("task sprite exec -- rm \(owner)"), "\(refused.stderr)")
        #expect(try await second.agent.status(1) == "backlog")
        #expect(try await first.agent.eventNames(1).contains("Stop"), "the first database's task is as it was")
        let mine = try await first.run(["doctor"]), theirs = try await second.run(["doctor"])
        #expect(mine.stdout.contains("✓ database (sprite)") && mine.stdout.contains("task-sandbox serves this database"), "\(mine.stdout)")
        #expect(theirs.status == 1 && theirs.stdout.contains("✗ database (sprite)"), "\(theirs.stdout)")
        #expect(theirs.stdout.contains("task-sandbox serves another task database (\(first.env.home)/task.db on "), "\(theirs.stdout)")

        #expect(try await second.run(["sprite", "exec", "--", "rm", owner]).status == 0)
        let started = try await second.run(["run", "1"])
        #expect(started.status == 0, "\(started.stderr)")
        try await second.agent.waitForStatus(1, "done", timeout: 30)
        let back = try await first.run(["new", "Again", "--run"])
        #expect(back.status == 1 && back.stderr.contains("serves another task database"), "\(back.stderr)")
        #expect(back.stderr.contains(second.env.home + "/task.db on "), "\(back.stderr)")
    }

    @Test func aWrongTokenIsAClearErrorAndTheTaskStaysInTheBacklog() async throws {
        let sim = try await SpriteSimProcess.start()
        var wrong = SpriteAgentEnv(sim: sim)
        wrong.agent.env.extraEnvironment["SPRITES_TOKEN"] = "wrong-token-0000"
        let s = wrong
        defer { s.cleanUp() }
        #expect(try await s.run(["new", "Nope"]).status == 0)
        let r = try await s.run(["run", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("refused the token from the environment variable SPRITES_TOKEN (401 unauthorized)"), "\(r.stderr)")
        #expect(!r.stderr.contains("wrong-token-0000"), "the token is never printed")
        #expect(try await s.agent.status(1) == "backlog")
        // --sandbox local still works without the sprite.
        let local = try await s.run(["run", "1", "--sandbox", "local"])
        #expect(local.status == 0 && local.stdout.hasPrefix("#1 started in "), "\(local.stderr)")
        try await s.run(["stop", "1"])
        s.agent.cleanUp()
    }

    @Test func rateLimitedExecsAreRetriedAndSlowClosesDoNotSlowCommands() async throws {
        let sim = try await SpriteSimProcess.start()   // holds each socket 5 s after the exit frame
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([["text": "ok"]]))
        defer { s.cleanUp() }
        #expect(try await s.run(["sprite", "up"]).status == 0)
        try await sim.admin("rate-limit", #"{"endpoints":["exec"],"count":3,"retry_after":1}"#)
        #expect(try await s.run(["new", "Busy sprite"]).status == 0)
        // Per-command exec sockets (the control channel would carry these commands otherwise).
        var execs = s
        execs.agent.env.extraEnvironment["SPRITES_CONTROL"] = "0"
        let started = Date()
        let r = try await execs.run(["run", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1 started on the sprite"))
        // The three refusals were all handed out (and the run went on past them).
        let faults = try await runCommand(["curl", "-sS", sim.url + "/_sim/state"]).stdout
        let left = ((try JSONSerialization.jsonObject(with: Data(faults.utf8)) as? [String: Any])?["rate_limited"] as? [String: Int])?["exec"]
        #expect(left == 0, "refusals left: \(String(describing: left)) in \(faults)")
        // Each exec closes on its exit frame: a dozen execs well under one 5 s close.
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 8, "run took \(elapsed) s")
        try await waitUntil("the turn ends") {
            let status = try await s.agent.status(1)
            return status == "blocked"
        }
        #expect(try await s.run(["stop", "1"]).status == 0)
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes (recording an issue then).
func waitUntil(_ what: String, timeout: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting for \(what)")
}

/// The shell's live session with the sprite, in a real terminal.
@Suite("The sprite's live session", .serialized)
struct SpriteLiveTests {
    /// The line of `screen` containing `text`, as an index (nil when absent).
    func row(_ screen: String, _ text: String) -> Int? {
        screen.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }
    }

    @Test func eventsStreamInlineInOrderAndFollowAttachAndAPauseWork() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([SpriteRunTests.committingTurn, ["text": "glad you like it"], ["text": "more"]]))
        defer { s.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await s.run(["project", "add", "web", repo]).status == 0)
        #expect(try await s.run(["new", "Write a poem", "--project", "web"]).status == 0)
        try await withTaskShell(s.env) { t in
            let screen = try await t.submit("run 1", waitFor: "#1 ⏸ waiting for input", timeout: 30)
            let order = ["#1 started on the sprite", "#1 ● agent started", "#1 ❯ Write a poem",
                         "#1 ✎ Write", "#1 ▸ Bash", "#1 ⏸ waiting for input"].map { row(screen, $0) }
            #expect(order.allSatisfy { $0 != nil }, "\(screen)")
            // The live session starts as soon as the task holds its slot, before the launch ends.
            #expect((row(screen, "sprite task-sandbox: live") ?? .max) < (row(screen, "#1 ● agent started") ?? 0), "\(screen)")
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "events in order:\n\(screen)")

            // follow: lines go to the agent on the sprite; its events show inline.
            try await t.submit("follow 1", waitFor: "task#1>")
            try await t.submit("that is lovely", waitFor: "#1 ❯ that is lovely")
            try await t.submit(".detach", waitFor: "back at task>")

            // attach: the agent's tmux pane on the sprite, through a TTY exec; Ctrl-B d comes back.
            try await t.type("attach 1")
            try await t.press("Enter")
            try await t.waitFor("the agent's composer") { $0.contains("glad you like it") && $0.contains("❯") && !$0.contains("task>") }
            try await t.press("C-b", "d")
            try await t.waitFor(text: "#1 detached:")

            // The sprite pauses (every socket dropped): the shell says so, reconnects, and goes on.
            try await sim.pause("task-sandbox", cold: false)
            try await t.waitFor(text: "sprite task-sandbox: reconnecting…")
            try await t.waitFor("live again") { screen in
                guard let r = row(screen, "sprite task-sandbox: reconnecting…") else { return false }
                return screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(r + 1).contains { $0.contains("sprite task-sandbox: live") }
            }
            try await t.submit("send 1 one more", waitFor: "#1 ← sent")
            try await t.waitFor(text: "#1 ❯ one more")
            try await t.submit("stop 1", waitFor: "#1 cancelled")
        }
    }

    @Test func runPullBringsTheBranchBackWhenTheTaskEndsAndAColdPauseFailsARun() async throws {
        let sim = try await SpriteSimProcess.start()
        var turn = SpriteRunTests.committingTurn
        turn["exit_code"] = 0
        turn["match"] = "poem"
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([turn, ["match": "long", "text": "thinking it over"]]))
        defer { s.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await s.run(["project", "add", "web", repo]).status == 0)
        #expect(try await s.run(["new", "Write a poem", "--project", "web"]).status == 0)
        #expect(try await s.run(["new", "Think long"]).status == 0)
        try await withTaskShell(s.env) { t in
            try await t.submit("run 1 --pull", waitFor: "#1 ✓ done (exit 0)", timeout: 30)
            try await t.waitFor(text: "#1 pulled task/1-write-a-poem: ")
            #expect(try await runCommand(["git", "-C", repo, "log", "--format=%s", "task/1-write-a-poem"]).stdout == "Add the poem\ninit\n")

            // A cold pause ends every process on the sprite: the run fails, and the shell says so.
            try await t.submit("run 2", waitFor: "#2 ⏸ waiting for input — \"thinking it over\"", timeout: 30)
            try await sim.pause("task-sandbox", cold: true)
            try await t.waitFor(text: "#2 ✗ failed", timeout: 30)
        }
        #expect(try await s.agent.status(2) == "failed")
    }

    @Test func aRunPullTaskThatEndedWithNoShellOpenIsPulledWhenOneOpens() async throws {
        let sim = try await SpriteSimProcess.start()
        var turn = SpriteRunTests.committingTurn
        turn["exit_code"] = 0
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([turn]))
        defer { s.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await s.run(["project", "add", "web", repo]).status == 0)
        #expect(try await s.run(["new", "Write a poem", "--project", "web"]).status == 0)
        #expect(try await s.run(["run", "1", "--pull"]).status == 0)
        try await waitUntil("the task ends") { try await s.agent.status(1) == "done" }
        #expect(try await runCommand(["git", "-C", repo, "rev-parse", "--verify", "-q", "task/1-write-a-poem"]).status != 0)
        try await withTaskShell(s.env) { t in
            try await t.waitFor(text: "#1 pulled task/1-write-a-poem: ")
        }
        #expect(try await runCommand(["git", "-C", repo, "log", "--format=%s", "-1", "task/1-write-a-poem"]).stdout == "Add the poem\n")
    }

    @Test func tenThousandEventsThroughTwentyDropsAndAKilledShellAreStoredExactlyOnce() async throws {
        let sim = try await SpriteSimProcess.start()
        let agent = try emitAgent(count: 10_000, burst: 100)
        let s = SpriteAgentEnv(sim: sim, agentCommand: agent)
        defer { s.cleanUp() }
        #expect(try await s.run(["config", "set", "verbose", "off"]).status == 0)
        #expect(try await s.run(["new", "Emit"]).status == 0)
        var e = s.env.environment
        e["TERM"] = "xterm-256color"
        let first = try await Terminal.open(command: shellQuote(taskBinary), environment: e, width: 120, height: 30)
        try await first.waitFor(text: "task>")
        try await first.type("run 1")
        try await first.press("Enter")
        try await first.waitFor(text: "sprite task-sandbox: live", timeout: 30)
        // The live session starts when the slot is claimed; the drops begin once the agent runs.
        try await first.waitFor(text: "#1 started on the sprite", timeout: 60)
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(120))
            try await sim.admin("drop")
        }
        // kill -9 the shell mid-stream.
        let panePID = try await first.tmux(["display-message", "-p", "-t", "0", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let child = try await runCommand(["pgrep", "-P", panePID]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!child.isEmpty)
        #expect(try await runCommand(["kill", "-9", child]).status == 0)
        await first.close()
        // Read the database directly (a task command would catch up from the sprite itself).
        let count = try await runCommand(["sqlite3", s.env.home + "/task.db", "SELECT COUNT(*) FROM hook_events"])
        let stored = Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(stored > 0 && stored < 10_000, "the shell died mid-stream (it had stored \(stored))")
        // Every drop made the shell open a new tail on the sprite.
        let log = try await runCommand(["curl", "-sS", sim.url + "/_sim/requests"]).stdout
        let tails = log.components(separatedBy: "tail").count - 1
        #expect(tails >= 10, "the shell reconnected after the drops (\(tails) tails)")

        // A new shell resumes from the stored offset; the task gets its final status.
        try await withTaskShell(s.env) { t in
            try await t.waitFor(text: "#1 ✓ done", timeout: 60)
        }
        let events = try await s.agent.events(1)
        let commands = bashCommands(events)
        #expect(commands.count == 10_000, "stored \(commands.count) tool events")
        #expect(Set(commands).count == 10_000, "none twice")
        #expect(commands == (1...10_000).map { "echo \($0)" }, "in order")
        #expect(events.filter { $0["event"] as? String == "AgentExit" }.count == 1)
        #expect(try await s.agent.status(1) == "done")
    }
}

/// The real API is https/wss: a whole sprite task against a sim serving TLS with a certificate
/// made at test time, and a certificate that does not verify refused, never downgraded.
@Suite("A sprite over TLS", .serialized)
struct SpriteTLSTests {
    @Test func aTaskRunsOnASpriteOverTLSAndAnUntrustedCertificateIsRefused() async throws {
        let sim = try await SpriteSimProcess.start(tls: true)
        #expect(sim.url.hasPrefix("https://localhost:"))
        var setup = SpriteAgentEnv(sim: sim, scenario: scenario([SpriteRunTests.committingTurn, ["text": "thanks"]]))
        setup.agent.env.extraEnvironment["SSL_CERT_FILE"] = sim.caFile
        setup.agent.env.extraEnvironment["SSL_CERT_DIR"] = ""
        let s = setup
        defer { s.cleanUp() }
        // Without the CA: a clear error, nothing done.
        var untrusted = s
        untrusted.agent.env.extraEnvironment["SSL_CERT_FILE"] = sim.root + "/certs/other-ca.pem"
        let refused = try await untrusted.run(["sprite", "status"])
        #expect(refused.status == 1 && refused.stderr.contains("certificate verify failed") && refused.stderr.contains("SSL_CERT_FILE"),
                "\(refused.stderr)")
        // With it: provision, run, events, send, pull.
        let repo = try await gitRepository()
        #expect(try await s.run(["project", "add", "web", repo]).status == 0)
        let started = try await s.run(["new", "Write a poem", "--project", "web", "--run"])
        #expect(started.status == 0 && started.stdout.contains("started on the sprite"), "\(started.stdout)\(started.stderr)")
        try await waitUntil("the first turn ends", timeout: 30) {
            try await s.run(["events", "1"]).stdout.contains("Committed the poem")
        }
        #expect(try await s.run(["send", "1", "lovely"]).status == 0)
        let pulled = try await s.run(["pull", "1"])
        #expect(pulled.status == 0 && pulled.stdout.contains("Add the poem"), "\(pulled.stdout)\(pulled.stderr)")
        #expect(try await s.run(["done", "1"]).status == 0)
    }
}

/// `sprite.pool 3` with `sprite.tasks_per_sprite 1`: each task has a sprite of its own, a fourth
/// waits and takes the first sprite freed, and one shell's live session streams all three —
/// through a `kill -9` of the API — storing every event of every task once.
@Suite("A pool of sprites", .serialized)
struct SpritePoolTests {
    @Test func threeTasksRunOnThreeSpritesAFourthTakesTheFreedOneAndAKilledAPILosesNothing() async throws {
        var sim = try await SpriteSimProcess.start()
        let count = 600
        let go = makeTemporaryFolder() + "/go"
        let s = SpriteAgentEnv(sim: sim, agentCommand: try emitAgent(count: count, burst: 20, go: go))
        defer {
            sim.stop()
            s.cleanUp()
        }
        // The agents print nothing until they go: no start-up watchdog.
        for (key, value) in [("sprite.pool", "3"), ("sprite.tasks_per_sprite", "1"), ("verbose", "off"), ("start_timeout", "0")] {
            #expect(try await s.run(["config", "set", key, value]).status == 0)
        }
        for n in 1...4 { #expect(try await s.run(["new", "Emit \(n)"]).status == 0) }
        try await withTaskShell(s.env, width: 160, height: 50) { t in
            for n in 1...3 {
                _ = try await t.submit("run \(n)", waitFor: "#\(n) started on the sprite", timeout: 60)
            }
            _ = try await t.submit("run 4", waitFor: "#4 queued on the sprite (1 waiting; waiting for a place on a sprite", timeout: 30)
            for name in ["task-sandbox", "task-sandbox-2", "task-sandbox-3"] {
                try await t.waitFor(text: "sprite \(name): live", timeout: 30)
            }
            _ = FileManager.default.createFile(atPath: go, contents: Data())
            // kill -9 of the API while the three stream; a new one on the same port and root.
            let stored = { () async throws -> Int in
                let r = try await runCommand(["sqlite3", s.env.home + "/task.db", "SELECT COUNT(*) FROM hook_events"])
                return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
            try await waitUntil("an event stored", timeout: 30) { try await stored() > 0 }
            let (root, port) = (sim.root, sim.port)
            let everything = { try await t.tmux(["capture-pane", "-p", "-S", "-", "-t", "0"]) }
            let before = try await everything().components(separatedBy: "reconnecting…").count
            sim.stop(keepingSprites: true)
            #expect(try await stored() < 3 * count, "the API died mid-stream")
            sim = try await SpriteSimProcess.start(root: root, port: port)
            try await waitUntil("a stream says it reconnects", timeout: 30) {
                try await everything().components(separatedBy: "reconnecting…").count > before
            }
            for n in 1...4 { try await t.waitFor(text: "#\(n) ✓ done", timeout: 90) }
        }
        var sites: [String] = []
        for n in 1...4 {
            let task = try await s.agent.task(n)
            sites.append(task["sprite"] as? String ?? "-")
            let events = try await s.agent.events(n)
            let commands = bashCommands(events)
            #expect(commands == (1...count).map { "echo \($0)" }, "#\(n): every event once, in order (\(commands.count) stored)")
            #expect(events.filter { $0["event"] as? String == "AgentExit" }.count == 1)
        }
        #expect(Set(sites.prefix(3)) == ["task-sandbox", "task-sandbox-2", "task-sandbox-3"], "\(sites)")
        #expect(sites[3] != "-" && sites.prefix(3).contains(sites[3]), "the fourth took a freed sprite: \(sites)")
        let list = try await s.run(["list", "--all"])
        #expect(list.stdout.contains("@task-sandbox-2 Emit"), "\(list.stdout)")
        let status = try await s.run(["sprite", "status"])
        #expect(status.stdout.contains("sprite task-sandbox-3\n"), "\(status.stdout)")
        let wrong = try await s.run(["sprite", "status", "--sprite", "elsewhere"])
        #expect(wrong.status != 0 && wrong.stderr.contains("task-sandbox, task-sandbox-2, task-sandbox-3"), "\(wrong.stderr)")
        for bad in ["51", "0", "three", "-2"] {
            let r = try await s.run(["config", "set", "sprite.pool", bad])
            #expect(r.status != 0 && r.stderr.contains("sprite.pool takes a whole number from 1 to 50, not '\(bad)'"), "\(r.stderr)")
        }
        let zero = try await s.run(["config", "set", "sprite.tasks_per_sprite", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("sprite.tasks_per_sprite takes a whole number above 0"), "\(zero.stderr)")
        #expect(try await s.run(["config", "get", "sprite.pool"]).stdout.contains("3"), "the pool as it was")
    }

    /// Queued tasks that a freed slot lets go start on their sprites together: one is provisioned
    /// while the other starts on the sprite that was freed.
    @Test func queuedTasksStartOnTheirSpritesTogether() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([["text": "done here"]]))
        defer { s.cleanUp() }
        for (key, value) in [("sprite.pool", "2"), ("sprite.tasks_per_sprite", "1"), ("max_running", "1")] {
            #expect(try await s.run(["config", "set", key, value]).status == 0)
        }
        for n in 1...3 { #expect(try await s.run(["new", "Task \(n)"]).status == 0) }
        #expect(try await s.run(["run", "1"]).stdout.contains("#1 started on the sprite task-sandbox in"))
        for n in 2...3 {
            let r = try await s.run(["run", "\(n)"])
            #expect(r.stdout.contains("#\(n) queued on the sprite (") && r.stdout.contains("max_running reached"), "\(r.stdout)")
        }
        #expect(try await s.run(["config", "set", "max_running", "3"]).status == 0)
        let done = try await s.run(["done", "1"])
        #expect(done.status == 0, "\(done.stderr)")
        for n in 2...3 { try await s.agent.waitForStatus(n, "blocked", timeout: 60) }
        let sites = try await [s.agent.task(2)["sprite"] as? String, s.agent.task(3)["sprite"] as? String]
        #expect(Set(sites.compactMap { $0 }) == ["task-sandbox", "task-sandbox-2"], "\(sites)")
    }

    /// Five `task run` processes at once on a pool of two sprites, one task each: two start, on
    /// the two sprites, three wait for a place — the sprite's place is claimed with the slot, in
    /// one transaction, whichever process asks. A freed sprite takes exactly one of them, however
    /// many processes look.
    @Test func fiveConcurrentRunsOnAPoolOfTwoPlaceOneTaskPerSprite() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([["text": "done here"]]))
        defer { s.cleanUp() }
        for (key, value) in [("sprite.pool", "2"), ("sprite.tasks_per_sprite", "1"), ("max_running", "10"), ("start_timeout", "0")] {
            #expect(try await s.run(["config", "set", key, value]).status == 0)
        }
        // Both sprites provisioned first, so the five race for places, not for provisioning.
        for name in ["task-sandbox", "task-sandbox-2"] { #expect(try await s.run(["sprite", "up", "--sprite", name]).status == 0) }
        for n in 1...5 { #expect(try await s.run(["new", "Task \(n)"]).status == 0) }
        let results = try await s.agent.runAtOnce((1...5).map { ["run", String($0)] })
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        #expect(results.filter { $0.stdout.contains(" started on the sprite ") }.count == 2, "\(results.map(\.stdout))")
        #expect(results.filter { $0.stdout.contains("waiting for a place on a sprite") }.count == 3, "\(results.map(\.stdout))")
        var tasks: [[String: Any]] = []
        for n in 1...5 { tasks.append(try await s.agent.task(n)) }
        let placed = tasks.filter { $0["status"] as? String != "queued" }
        #expect(Set(placed.compactMap { $0["sprite"] as? String }) == ["task-sandbox", "task-sandbox-2"], "\(placed)")
        // One freed sprite, three processes looking: one queued task takes it.
        let first = try #require(placed.first?["id"] as? Int)
        #expect(try await s.run(["done", String(first)]).status == 0)
        _ = try await s.agent.runAtOnce(Array(repeating: ["list"], count: 3))
        var queued = 0
        for n in 1...5 where try await s.agent.status(n) == "queued" { queued += 1 }
        #expect(queued == 2)
    }
}
