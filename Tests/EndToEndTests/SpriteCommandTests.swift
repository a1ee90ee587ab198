import Foundation
import Testing

/// A `sprite-sim` process of the test's own (built next to `task`), on a free port.
final class SpriteSimProcess: Sendable {
    let url: String
    let root: String
    let token: String
    private let pump: Task<Void, Never>

    private init(url: String, root: String, token: String, pump: Task<Void, Never>) {
        self.url = url
        self.root = root
        self.token = token
        self.pump = pump
    }

    static let binary = (taskBinary as NSString).deletingLastPathComponent + "/sprite-sim"

    /// With `tls`, the sim serves HTTPS/WSS with a certificate made now (`<root>/certs`, by
    /// tests/conformance/make-test-certs.sh); trust it with ``caFile`` in SSL_CERT_FILE.
    static func start(token: String = "sim-token-0123456789abcdef", root existing: String? = nil, tls: Bool = false,
                      port: Int = 0) async throws -> SpriteSimProcess {
        let root = existing ?? (makeTemporaryFolder() + "/sim")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var tlsArguments: [String] = []
        if tls {
            let made = try await runCommand([repositoryRoot + "/tests/conformance/make-test-certs.sh", root + "/certs"])
            guard made.status == 0 else { throw SimStartFailure(message: "test certificates: \(made.stderr)") }
            tlsArguments = ["--tls-cert", root + "/certs/server.pem", "--tls-key", root + "/certs/server-key.pem"]
        }
        // The default close delay (5 s after the exit frame, as the real service) — the client must not wait for it.
        let output = sandbox.stream([binary, "--port", String(port), "--root", root, "--token", token] + tlsArguments)
        let (lines, firstLine) = AsyncStream<String>.makeStream()
        // Reads the first line (the address), then keeps draining stdout until stopped.
        let pump = Task {
            var buffer: [UInt8] = []
            var announced = false
            do {
                for try await chunk in output where !announced {
                    buffer += chunk
                    if let nl = buffer.firstIndex(of: 0x0A) {
                        firstLine.yield(String(decoding: buffer[..<nl], as: UTF8.self))
                        firstLine.finish()
                        announced = true
                    }
                }
            } catch {}
            firstLine.finish()
        }
        var first: String?
        for await line in lines {
            first = line
            break
        }
        guard let line = first, line.hasPrefix("listening on ") else {
            pump.cancel()
            throw SimStartFailure(message: "sprite-sim did not start (\(binary)); first line: \(first ?? "none")")
        }
        return SpriteSimProcess(url: String(line.dropFirst("listening on ".count)), root: root, token: token, pump: pump)
    }

    /// The port it listens on.
    var port: Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// The CA that signed a TLS sim's certificate.
    var caFile: String { root + "/certs/ca.pem" }

    /// Ends the simulator before returning: every sprite's tmux server (the agents in it), then
    /// the sim process itself (the stream's end would terminate it only a moment later, and a test
    /// process that exits first would leave it running).
    func stop(keepingSprites: Bool = false) {
        pump.cancel()
        if keepingSprites {
            runNow(["pkill", "-KILL", "-f", "--", "--root " + root + "( |$)"])
            return
        }
        let sprites = root + "/sprites"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: sprites)) ?? [] {
            let tmux = sprites + "/" + name + "/tmux"
            guard let walker = FileManager.default.enumerator(atPath: tmux) else { continue }
            while let entry = walker.nextObject() as? String {
                var info = stat()
                if stat(tmux + "/" + entry, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK {
                    runNow(["tmux", "-S", tmux + "/" + entry, "kill-server"])
                }
            }
        }
        runNow(["pkill", "-KILL", "-f", "--", "--root " + root + "( |$)"])
    }

    /// Pauses a sprite now (`cold: true` drops it to cold), through the simulator's test switch.
    func pause(_ sprite: String, cold: Bool) async throws {
        let r = try await runCommand([
            "curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json",
            "-d", "{\"sprite\":\"\(sprite)\",\"cold\":\(cold)}", url + "/_sim/pause",
        ])
        #expect(r.status == 0, "pause: \(r.stderr)")
    }

    /// A task data folder pointed at this simulator, with the token in the environment.
    func taskEnv(token: String? = nil) -> TaskEnv {
        var env = TaskEnv()
        env.extraEnvironment = ["SPRITES_API_URL": url, "SPRITES_TOKEN": token ?? self.token]
        return env
    }
}

struct SimStartFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `task sprite …` driven one-shot against a real `sprite-sim`.
@Suite("sprite commands against sprite-sim")
struct SpriteCommandTests {
    @Test func statusUpAndProvisioning() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["config", "set", "sprite.name", "e2e-box"]).status == 0)

        let missing = try await env.run(["sprite", "status"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "task: there is no sprite named e2e-box (create it with: sprite up)\n")
        #expect(missing.stdout.isEmpty)

        let up = try await env.run(["sprite", "up"])
        #expect(up.status == 0, "up failed: \(up.stderr)")
        let lines = up.stdout.split(separator: "\n").map(String.init)
        // Progress in order: create, home, tools, hook, trust, checkpoint, ready.
        let order = ["creating sprite e2e-box", "sprite e2e-box created (cold)", "home folder /", "tmux /", "git /",
                     "hook script /", "agent trust /", "making the first checkpoint", "Checkpoint v0 created",
                     "sprite e2e-box is ready"]
        var at = 0
        for wanted in order {
            guard let i = lines[at...].firstIndex(where: { $0.contains(wanted) }) else {
                Issue.record("missing or out of order: '\(wanted)' in:\n\(up.stdout)")
                break
            }
            at = i + 1
        }

        // The home folder was discovered, not assumed: it is the sim's folder for the sprite.
        let home = try await env.run(["sprite", "exec", "--", "sh", "-c", "echo $HOME"])
        #expect(home.status == 0)
        let homePath = home.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(homePath.hasPrefix(sim.root))
        #expect(up.stdout.contains("home folder \(homePath)\n"))
        // The hook script and the agent's trust file are on the sprite.
        let hook = try await env.run(["sprite", "exec", "--", "sh", "-c", "test -x .task/hook.sh && head -2 .task/hook.sh"])
        #expect(hook.status == 0)
        #expect(hook.stdout.hasPrefix("#!/bin/sh\n# task hook:"))
        let trust = try await env.run(["sprite", "exec", "--", "cat", homePath + "/.claude.json"])
        let state = try JSONSerialization.jsonObject(with: Data(trust.stdout.utf8)) as? [String: Any]
        let project = (state?["projects"] as? [String: Any])?[homePath] as? [String: Any]
        #expect(project?["hasTrustDialogAccepted"] as? Bool == true)
        #expect(state?["hasCompletedOnboarding"] as? Bool == true)
        let mode = try await env.run(["sprite", "exec", "--", "stat", "-c", "%a", homePath + "/.claude.json"])
        #expect(mode.stdout == "600\n")

        let running = try await env.run(["sprite", "status"])
        #expect(running.status == 0)
        #expect(running.stdout.contains("sprite e2e-box\n"))
        #expect(running.stdout.contains("state    running\n"))
        #expect(running.stdout.contains("url      https://e2e-box-"))
        #expect(running.stdout.contains("api      \(sim.url)\n"))
        #expect(running.stdout.contains("version  sim (API 0.1.0)\n"), "\(running.stdout)")
        #expect(running.stdout.contains("awake    not held (no task runs on it)"))
        // Tab completion of checkpoint ids asks the sprite (the generated scripts re-run task).
        let ids = try await env.run(["---completion", "sprite", "restore", "--", "positional@0", "3", "0", "task", "sprite", "restore", ""])
        #expect(ids.stdout.split(separator: "\n").contains("v0"), "\(ids.stdout) \(ids.stderr)")

        try await sim.pause("e2e-box", cold: true)
        let cold = try await env.run(["sprite", "status"])
        #expect(cold.stdout.contains("state    cold\n"), "status after a cold pause: \(cold.stdout)")

        // A second up keeps what is there: no new sprite, no second checkpoint, merged trust.
        let again = try await env.run(["sprite", "up"])
        #expect(again.status == 0, "second up: \(again.stderr)")
        #expect(again.stdout.contains("sprite e2e-box exists"))
        #expect(!again.stdout.contains("creating"))
        #expect(again.stdout.contains("checkpoints exist (1)"))
        let list = try await env.run(["sprite", "checkpoints"])
        #expect(list.stdout.split(separator: "\n").count == 2, "header and v0 only: \(list.stdout)")
    }

    @Test func aRestartedSimKnowsItsSpritesAndTheirTmuxServersLiveOn() async throws {
        let first = try await SpriteSimProcess.start()
        var env = first.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)
        let started = try await env.run(["sprite", "exec", "--", "tmux", "-L", "keep", "-f", "/dev/null", "new-session", "-d", "sleep 300"])
        #expect(started.status == 0, "\(started.stderr)")
        first.stop(keepingSprites: true)
        // Same root, new process, new port.
        let second = try await SpriteSimProcess.start(root: first.root)
        defer { second.stop() }
        env.extraEnvironment["SPRITES_API_URL"] = second.url
        #expect(try await env.run(["sprite", "status"]).stdout.contains("sprite task-sandbox\n"))
        #expect(try await env.run(["sprite", "checkpoints"]).stdout.contains("v0"))
        let alive = try await env.run(["sprite", "exec", "--", "tmux", "-L", "keep", "has-session"])
        #expect(alive.status == 0, "the sprite's tmux server outlived the sim: \(alive.stderr)")
        _ = try await env.run(["sprite", "exec", "--", "tmux", "-L", "keep", "kill-server"])
    }

    @Test func execPassesOutputAndExitStatusThrough() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)

        let r = try await env.run(["sprite", "exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(r.status == 3)
        #expect(r.stdout == "out\n")
        #expect(r.stderr == "err\n")

        let ok = try await env.run(["sprite", "exec", "--", "printf", "%s|", "a b", "c"])
        #expect(ok.status == 0)
        #expect(ok.stdout == "a b|c|")
        #expect(ok.stderr.isEmpty)

        // The same as a script line: the failing command's status ends the script.
        let script = try await env.script("sprite exec -- sh -c 'exit 5'\nsprite status\n")
        #expect(script.status == 5)
        #expect(!script.stdout.contains("state"))

        let none = try await env.run(["sprite", "exec"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("exec needs a command"))
    }

    @Test func checkpointListAndRestoreById() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)

        let made = try await env.run(["sprite", "checkpoint", "before", "the", "file"])
        #expect(made.status == 0)
        #expect(made.stdout.hasSuffix("Checkpoint v1 created\n"))
        #expect(made.stdout.contains("Saving filesystem state"), "progress lines are shown")

        #expect(try await env.run(["sprite", "exec", "--", "sh", "-c", "echo x > f.txt"]).status == 0)
        let list = try await env.run(["sprite", "checkpoints"])
        let rows = list.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 3)
        #expect(rows[1].hasPrefix("v1 ") && rows[1].hasSuffix("before the file"))
        #expect(rows[2].hasPrefix("v0 ") && rows[2].hasSuffix("task: provisioned"))

        let restored = try await env.run(["sprite", "restore", "v1"])
        #expect(restored.status == 0, "restore: \(restored.stderr)")
        #expect(restored.stdout.hasSuffix("Restored checkpoint v1\n"))
        #expect(try await env.run(["sprite", "exec", "--", "test", "-e", "f.txt"]).status == 1)

        let unknown = try await env.run(["sprite", "restore", "v99"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "task: no checkpoint v99 on the sprite (see: sprite checkpoints)\n")
        let noID = try await env.run(["sprite", "restore"])
        #expect(noID.status == 64)
    }

    @Test func sessionsListsARunningCommand() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)

        // Long enough to be seen on a loaded machine (the loop stops as soon as it is).
        async let long = env.run(["sprite", "exec", "--", "sleep", "12"])
        var seen = ""
        let deadline = Date().addingTimeInterval(12)
        while Date() < deadline {
            seen = try await env.run(["sprite", "sessions"]).stdout
            if seen.contains("sleep 12") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let row = seen.split(separator: "\n").first { $0.contains("sleep 12") }.map(String.init) ?? ""
        #expect(row.contains("active"), "sessions: \(seen)")
        #expect(seen.hasPrefix("ID"))
        #expect(try await long.status == 0)
    }

    @Test func tokenIsSavedMaskedAndNeverInTheDatabase() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        var env = sim.taskEnv()
        env.extraEnvironment["SPRITES_TOKEN"] = nil

        // No token: each command says how to set one.
        for args in [["sprite", "status"], ["sprite", "up"], ["sprite", "token"], ["sprite", "exec", "--", "true"]] {
            let r = try await env.run(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.hasPrefix("task: no Sprites token: set SPRITES_TOKEN, or save one with: sprite token <TOKEN>"), "\(args): \(r.stderr)")
        }

        let saved = try await env.run(["sprite", "token", sim.token])
        #expect(saved.status == 0)
        let file = env.home + "/sprites-token"
        #expect(saved.stdout == "token sim-…(\(sim.token.count) chars) saved in \(file) (readable only by you)\n")
        #expect(!saved.stdout.contains(sim.token) && !saved.stderr.contains(sim.token))
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == sim.token + "\n")

        let shown = try await env.run(["sprite", "token"])
        #expect(shown.stdout.hasPrefix("token sim-…(\(sim.token.count) chars) from \(file)\n"))
        #expect(!shown.stdout.contains(sim.token))

        // The saved token works.
        let up = try await env.run(["sprite", "up"])
        #expect(up.status == 0, "up with the saved token: \(up.stderr)")
        #expect(!up.stdout.contains(sim.token) && !up.stderr.contains(sim.token))

        // The environment wins over the file, and says so.
        var wrong = env
        wrong.extraEnvironment["SPRITES_TOKEN"] = "wrong-token-abcdefghij"
        let fromEnv = try await wrong.run(["sprite", "token"])
        #expect(fromEnv.stdout.hasPrefix("token wron…(22 chars) from the environment variable SPRITES_TOKEN\n"))
        let refused = try await wrong.run(["sprite", "status"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "task: the Sprites API at \(sim.url) refused the token from the environment variable SPRITES_TOKEN (401 unauthorized); set a valid one with: sprite token <TOKEN>\n")
        #expect(!refused.stderr.contains("wrong-token-abcdefghij"))
        let refusedExec = try await wrong.run(["sprite", "exec", "--", "true"])
        #expect(refusedExec.status == 1)
        #expect(refusedExec.stderr.contains("(401 unauthorized)"))

        // Not in the database.
        let dump = try await runCommand(["sqlite3", env.home + "/task.db", ".dump"])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("CREATE TABLE"))
        #expect(!dump.stdout.contains(sim.token))
        #expect(!dump.stdout.contains("wrong-token-abcdefghij"))
    }

    @Test func destroyNeedsForceInScripts() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)

        let refused = try await env.run(["sprite", "destroy"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("in scripts add --force"))
        #expect(try await env.run(["sprite", "status"]).status == 0, "still there")

        let gone = try await env.run(["sprite", "destroy", "--force"])
        #expect(gone.status == 0)
        #expect(gone.stdout == "sprite task-sandbox destroyed\n")
        let status = try await env.run(["sprite", "status"])
        #expect(status.status == 1)
        #expect(status.stderr.contains("there is no sprite named task-sandbox"))
        #expect(try await env.run(["sprite", "destroy", "--force"]).status == 1)
    }

    @Test func downCheckpointsAndSaysSpritesPauseThemselves() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)
        let down = try await env.run(["sprite", "down"])
        #expect(down.status == 0)
        #expect(down.stdout.contains("Checkpoint v1 created\n"))
        #expect(down.stdout.contains("pauses by itself"))
        let list = try await env.run(["sprite", "checkpoints"]).stdout
        #expect(list.contains("task: sprite down"))
    }

    @Test func attachRefusesWithoutATerminal() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let r = try await sim.taskEnv().run(["sprite", "attach"])
        #expect(r.status == 1)
        #expect(r.stderr == "task: sprite attach needs a terminal; in scripts use: sprite exec -- <command>\n")
    }
}

/// `sprite attach` and `sprite token` at the `task>` prompt in a real terminal.
@Suite("sprite commands in a terminal")
struct SpriteTerminalTests {
    func withShell(_ env: TaskEnv, _ body: (Terminal) async throws -> Void) async throws {
        try await withTaskShell(env.environment, unset: [], body)
    }

    @Test func attachRunsAShellWithATerminalThatFollowsResizes() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)
        try await withShell(env) { t in
            try await t.submit("sprite attach", waitFor: "attached to task-sandbox")
            let screen = try await t.submit("stty size; echo sum=$((6*7))", waitFor: "sum=42")
            #expect(screen.contains("24 100"), "the remote terminal has the local size")
            try await t.tmux(["resize-window", "-t", "0", "-x", "120", "-y", "30"])
            try await Task.sleep(for: .milliseconds(300))
            try await t.submit("clear; stty size", waitFor: "30 120")
            try await t.submit("exit 4", waitFor: "session ended (exit 4); back at task>")
            // The local terminal is cooked again: the line editor works.
            try await t.submit("sprite status", waitFor: "state    running")
        }
    }

    @Test func destroyAtThePromptAsksForTheName() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        #expect(try await env.run(["sprite", "up"]).status == 0)
        try await withShell(env) { t in
            try await t.submit("sprite destroy", waitFor: "Type its name to confirm:")
            try await t.submit("nope", waitFor: "not destroyed")
            try await t.submit("sprite destroy", waitFor: "Type its name to confirm:")
            try await t.submit("task-sandbox", waitFor: "sprite task-sandbox destroyed")
        }
        #expect(try await env.run(["sprite", "status"]).status == 1)
    }

    @Test func tokenTypedAtThePromptIsStoredRedacted() async throws {
        let sim = try await SpriteSimProcess.start()
        defer { sim.stop() }
        let env = sim.taskEnv()
        let typed = "typed-token-value-42"
        try await withShell(env) { t in
            let screen = try await t.submit("sprite token \(typed)", waitFor: "saved in")
            #expect(screen.components(separatedBy: typed).count == 2, "only the typed line shows the value:\n\(screen)")
            #expect(screen.contains("token type…(\(typed.count) chars) saved in"))
            #expect(screen.contains("SPRITES_TOKEN in the environment overrides the saved token"))
            try await t.submit("history", waitFor: "sprite token ********")
        }
        let dump = try await runCommand(["sqlite3", env.home + "/task.db", ".dump"])
        #expect(dump.stdout.contains("sprite token ********"))
        #expect(!dump.stdout.contains(typed))
        #expect(try String(contentsOfFile: env.home + "/sprites-token", encoding: .utf8) == typed + "\n")
    }
}
