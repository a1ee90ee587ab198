import AgentHooks
import Foundation
import Sandbox
import SpriteSandbox
import Testing
@testable import SpriteSim
import Sprites

extension SimSuite {
/// The Sandbox protocol on a sprite of the in-process sim.
@Suite("SpriteSandbox")
struct SpriteSandboxTests {
    func sandbox(_ prefix: String) async throws -> (SpriteSandbox, SpriteSimServer) {
        let (client, sim, name) = try await SimHarness.fresh(prefix)
        return (try await SpriteSandbox.connect(client: client, sprite: name), sim)
    }

    @Test func commandsGetTheirDirectoryEnvironmentAndInput() async throws {
        let (s, _) = try await sandbox("sbx")
        #expect(s.homeDirectory.hasPrefix("/") && s.homeDirectory.hasSuffix("/home"))
        try await s.createDirectory(path: s.homeDirectory + "/a b")
        let r = try await s.run(["sh", "-c", "pwd; echo \"$WORD\"; cat"], cwd: s.homeDirectory + "/a b",
                                env: ["WORD": "two words"], stdin: Data("from stdin".utf8))
        #expect(r.status == 0)
        #expect(r.stdoutText == "\(s.homeDirectory)/a b\ntwo words\nfrom stdin")
        let failed = try await s.run(["sh", "-c", "echo oops >&2; exit 3"])
        #expect(failed.status == 3 && failed.stderrText == "oops\n")
        await #expect(throws: SandboxError.self) { try await s.runChecked(["false"]) }
    }

    @Test func filesRoundTripWithTheirMode() async throws {
        let (s, _) = try await sandbox("files")
        let path = s.homeDirectory + "/.task/secret.sh"
        #expect(try await s.fileSize(path: path) == nil)
        await #expect(throws: SandboxError.fileNotFound(path)) { try await s.readFile(path: path) }
        try await s.writeFile(path: path, data: Data("echo hi\n".utf8), mode: 0o600)
        #expect(try await s.readFile(path: path) == Data("echo hi\n".utf8))
        #expect(try await s.fileSize(path: path) == 8)
        #expect(try await s.run(["stat", "-c", "%a", path]).stdoutText == "600\n")
    }

    @Test func aStreamSaysItIsConnectedThenDeliversOutputAndItsStatus() async throws {
        let (s, _) = try await sandbox("stream")
        var chunks: [[UInt8]] = []
        for try await c in s.stream(["sh", "-c", "echo one; echo two"]) { chunks.append(c) }
        #expect(chunks.first == [], "an empty chunk first: connected")
        #expect(chunks.dropFirst().flatMap { $0 }.text == "one\ntwo\n")
        await #expect(throws: SandboxError.self) {
            for try await _ in s.stream(["sh", "-c", "exit 4"]) {}
        }
    }

    @Test func aDroppedStreamEndsWithAnErrorNotSilently() async throws {
        let (s, sim) = try await sandbox("drop")
        let stream = s.stream(["sh", "-c", "echo up; sleep 30"])
        var got = ""
        do {
            for try await c in stream {
                got += c.text
                if got.contains("up") { sim.store.dropSockets() }
            }
            Issue.record("the stream ended without an error")
        } catch let e as SandboxError {
            guard case .connectionLost = e else {
                Issue.record("a lost connection, not \(e)")
                return
            }
        }
        #expect(got == "up\n")
    }

    @Test func refusedExecsAreRetried() async throws {
        let (client, sim, name) = try await SimHarness.fresh("retry")
        // Exec sockets only (a client without the control channel): the refusals hit them.
        let execOnly = SpritesClient(baseURL: client.baseURL, token: SimHarness.token, controlMode: false)
        let s = try await SpriteSandbox.connect(client: execOnly, sprite: name)
        sim.state.faults.withLock { $0.rateLimited["exec"] = 2 }
        let r = try await s.run(["echo", "after two refusals"])
        #expect(r.stdoutText == "after two refusals\n")
    }

    @Test func provisioningIsReportedAndDoneOnce() async throws {
        let (client, _, name) = try await SimHarness.fresh("prov")
        let steps = StepLog()
        let p = SpriteProvisioner(client: client, sprite: name)
        let s = try await p.ready { steps.add($0.text) }
        #expect(steps.all.contains { $0.hasPrefix("hook script ") })
        #expect(try await s.readFile(path: SpriteProvisioner.hookScriptPath(home: s.homeDirectory)) == Data(HookScript.text.utf8))
        let state = try await s.readFile(path: s.homeDirectory + "/.claude.json")
        #expect(String(decoding: state, as: UTF8.self).contains("hasTrustDialogAccepted"))
        let again = StepLog()
        _ = try await p.ready { again.add($0.text) }
        #expect(again.all.isEmpty, "a provisioned sprite is used as it is")
    }

    /// Several processes needing a sprite that does not exist yet (two shells, a one-shot run) all
    /// ask for it at once: the one whose create wins makes it, the others find the name taken and
    /// use the sprite, each ending with a provisioned sandbox (no "already exists" error).
    @Test func provisionersRacingToCreateOneSpriteAllGetIt() async throws {
        let (client, _, _) = try await SimHarness.fresh("race-base")
        let name = "race-\(UUID().uuidString.prefix(8).lowercased())"
        let steps = StepLog()
        let homes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<4 {
                group.addTask { try await SpriteProvisioner(client: client, sprite: name).ready { steps.add($0.text) }.homeDirectory }
            }
            var all: [String] = []
            for try await home in group { all.append(home) }
            return all
        }
        #expect(homes.count == 4 && Set(homes).count == 1)
        #expect(steps.all.filter { $0.hasPrefix("sprite \(name) created") }.count == 1, "\(steps.all)")
        let s = try await SpriteSandbox.connect(client: client, sprite: name)
        #expect(try await s.readFile(path: SpriteProvisioner.hookScriptPath(home: s.homeDirectory)) == Data(HookScript.text.utf8))
    }
}
}

final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.withLock { lines.append(s) } }
    var all: [String] { lock.withLock { lines } }
}

extension SimSuite {
/// The simulator's idle timer and its keep-awake Tasks (spec §8).
@Suite("sprite lifecycle")
struct SpriteLifecycleTests {
    func waitForStatus(_ client: SpritesClient, _ name: String, _ wanted: String, timeout: Double = 5) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await client.getSprite(name).status == wanted { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func idleSpritesTurnWarmThenColdUnlessATaskKeepsThemAwake() async throws {
        let (client, sim, name) = try await SimHarness.fresh("idle")
        sim.store.setTimers(idle: 0.4, cold: 0.4)
        defer { sim.store.setTimers(idle: 30, cold: 3600) }
        #expect(try await client.getSprite(name).status == "cold", "a new sprite is cold")
        _ = try await client.run(name, ["true"]).check()
        #expect(try await client.getSprite(name).status == "running", "an exec wakes it")
        #expect(try await waitForStatus(client, name, "warm"))
        #expect(try await waitForStatus(client, name, "cold"))

        // A keep-awake Task (through the in-sprite sprite-env) holds it running past the idle time.
        _ = try await client.run(name, ["sprite-env", "curl", "-X", "PUT", "-d", #"{"name":"hold","expire":"5m"}"#, "/v1/tasks/hold"]).check()
        try await Task.sleep(for: .seconds(1.2))
        #expect(try await client.getSprite(name).status == "running", "held by the Task")
        let tasks = try await client.run(name, ["sprite-env", "curl", "/v1/tasks"]).check().stdoutText
        #expect(tasks.contains(#""name":"hold""#))
        _ = try await client.run(name, ["sprite-env", "curl", "-X", "DELETE", "/v1/tasks/hold"]).check()
        #expect(try await waitForStatus(client, name, "warm"), "released once the Task is gone")
    }

    @Test func latencyIsAddedToEveryRequest() async throws {
        let (client, sim, name) = try await SimHarness.fresh("slow")
        sim.state.faults.withLock { $0.latencyMs = 150 }
        defer { sim.state.faults.withLock { $0.latencyMs = 0 } }
        let t = Date()
        _ = try await client.getSprite(name)
        #expect(Date().timeIntervalSince(t) >= 0.15)
    }
}
}

extension SimSuite {
/// Many quick commands in parallel, each closed by the sim at once after its exit (close delay 0):
/// none may lose its exit status (the sim once reset connections before the exit frame was read).
@Suite("quick execs")
struct QuickExecTests {
    @Test func twoHundredQuickExecsAllReportTheirExit() async throws {
        let (client, _, name) = try await SimHarness.fresh("quick")
        var counts = [0, 0, 0]
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<200 {
                if i >= 8, let code = try await group.next() { counts[code] += 1 }   // 8 at a time
                group.addTask { try await client.run(name, ["sh", "-c", "exit \(i % 3)"]).exitCode }
            }
            while let code = try await group.next() { counts[code] += 1 }
        }
        #expect(counts == [67, 67, 66], "every exec reported its own exit status")
    }
}
}
