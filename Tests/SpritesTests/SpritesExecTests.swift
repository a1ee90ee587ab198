import Foundation
import Testing
@testable import SpriteSim
@testable import Sprites

extension SimSuite {
@Suite("exec")
struct SpritesExecTests {
    @Test func exitCodesAndStreams() async throws {
        let (client, _, name) = try await SimHarness.fresh("ex")
        let ok = try await client.run(name, ["echo", "hello world"])
        #expect(ok.exitCode == 0)
        #expect(ok.stdoutText == "hello world\n")
        let seven = try await client.run(name, ["sh", "-c", "printf 'command failed\\n' >&2; exit 7"])
        #expect(seven.exitCode == 7)
        #expect(seven.stderrText == "command failed\n")
        #expect(seven.stdout.isEmpty)
        #expect(throws: SpritesError.self) { try seven.check() }
        let max = try await client.run(name, ["sh", "-c", "exit 255"])
        #expect(max.exitCode == 255)
    }

    @Test func environmentAndDirectory() async throws {
        let (client, _, name) = try await SimHarness.fresh("env")
        let home = try await client.run(name, ["sh", "-c", "echo $HOME; pwd"]).stdoutText
        let lines = home.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0] == lines[1])
        _ = try await client.run(name, ["mkdir", "-p", "sub"])
        let r = try await client.run(name, ["sh", "-c", "echo $GREETING; pwd"],
                                     environment: ["GREETING": "hi there", "PATH": "/usr/bin:/bin"],
                                     directory: lines[0] + "/sub")
        #expect(r.stdoutText == "hi there\n\(lines[0])/sub\n")
        let notty = try await client.run(name, ["tty"])
        #expect(notty.exitCode == 1)
        #expect(notty.stdoutText.contains("not a tty"))
    }

    @Test func oneMiBOfStdout() async throws {
        let (client, _, name) = try await SimHarness.fresh("big")
        let r = try await client.run(name, ["head", "-c", "1048576", "/dev/zero"])
        #expect(r.exitCode == 0)
        #expect(r.stdout.count == 1 << 20)
        #expect(r.stdout.allSatisfy { $0 == 0 })
    }

    @Test func stdinStreamedToCat() async throws {
        let (client, _, name) = try await SimHarness.fresh("cat")
        let input: [UInt8] = (0..<300_000).map { UInt8(($0 * 7) % 256) }
        let r = try await client.run(name, ["cat"], stdin: input)
        #expect(r.exitCode == 0)
        #expect(r.stdout == input)
        let counted = try await client.run(name, ["wc", "-c"], stdin: Array("abc".utf8))
        #expect(counted.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }

    @Test func ttyResizeChangesSttySize() async throws {
        let (client, _, name) = try await SimHarness.fresh("tty")
        let first = try await client.exec(name, ExecCommand(["stty", "size"], tty: true))
        #expect(first.info.tty)
        #expect(try await first.collect().stdoutText.contains("24 80"))
        let sh = try await client.exec(name, ExecCommand(["sh"], tty: true, rows: 30, cols: 100))
        #expect(sh.info.rows == 30)
        try await sh.resize(rows: 50, cols: 132)
        try await Task.sleep(for: .milliseconds(100))
        try await sh.send(Array("stty size; exit 3\n".utf8))
        let r = try await sh.collect()
        #expect(r.exitCode == 3)
        #expect(r.stdoutText.contains("50 132"))
    }

    @Test func attachAfterDisconnectReplaysScrollback() async throws {
        let (client, _, name) = try await SimHarness.fresh("att")
        let cmd = ExecCommand(["sh", "-c", "echo first-line; read x; echo got-$x; exit 4"], tty: true)
        let s = try await client.exec(name, cmd)
        var seen: [UInt8] = []
        for try await e in s.events {
            if case .stdout(let b) = e { seen += b }
            if seen.text.contains("first-line") { break }
        }
        await s.detach()
        let sessions = try await client.listSessions(name)
        #expect(sessions.contains { $0.id == s.info.id && $0.tty })
        let a = try await client.attach(name, sessionId: s.info.id, stdin: true)
        #expect(a.info.id == s.info.id)
        #expect(a.info.isOwner == false)
        try await a.send(Array("again\n".utf8))
        let r = try await a.collect()
        #expect(r.exitCode == 4)
        #expect(r.stdoutText.contains("first-line"), "scrollback replayed")
        #expect(r.stdoutText.contains("got-again"))
        await #expect(throws: SpritesError.self) { _ = try await client.attach(name, sessionId: "999999") }
    }

    @Test func attachFallsBackToLegacyFormOn404() async throws {
        let (client, sim, name) = try await SimHarness.fresh("leg")
        let s = try await client.exec(name, ExecCommand(["sh", "-c", "echo ready; sleep 30"], stdin: false, maxRunAfterDisconnect: "0"))
        for try await e in s.events { if case .stdout = e { break } }
        await s.detach()
        sim.state.faults.withLock { $0.attachPath404 = true }
        let a = try await client.attach(name, sessionId: s.info.id)
        #expect(a.info.id == s.info.id)
        let reqs = sim.requests.map { "\($0.path)?\($0.query) \($0.status)" }
        #expect(reqs.contains { $0.contains("/exec?id=\(s.info.id)") && $0.hasSuffix("101") })
        let events = try await client.killSession(name, id: s.info.id, timeout: .seconds(1))
        #expect(events.first?.type == "signal")
        #expect(events.last?.type == "complete")
        _ = try? await a.collect()
        #expect(try await client.killSession(name, id: s.info.id).isEmpty, "410 for a finished session")
    }

    @Test func dropMidCommandIsATransportErrorKeepingPartialOutput() async throws {
        let (client, sim, name) = try await SimHarness.fresh("drop")
        let s = try await client.exec(name, ExecCommand(["sh", "-c", "echo partial; sleep 20"]))
        var got: [UInt8] = []
        for try await e in s.events { if case .stdout(let b) = e { got += b; break } }
        let dropped = Date()
        sim.store.dropSockets()
        do {
            let r = try await s.collect()
            Issue.record("a dropped socket reported success: \(r)")
        } catch SpritesError.connectionLost(_, let out, _) {
            #expect(got.text == "partial\n")
            #expect(out.isEmpty || out.text.isEmpty)  // collect() only sees what came after the first read
        }
        // The abort reaches the client at once: the command's processes must not hold a copy of
        // the server's socket (it lives on for max_run_after_disconnect = 10 s).
        #expect(Date().timeIntervalSince(dropped) < 3, "the client noticed the drop late")
        _ = try? await client.killSession(name, id: s.info.id, timeout: .seconds(1))   // no sleep outlives the test
    }

    @Test func commandsInheritNoDescriptorsBeyondStdio() async throws {
        let (client, _, name) = try await SimHarness.fresh("fds")
        // Everything open in the child besides 0–2 (ls's own directory handle aside).
        let r = try await client.run(name, ["sh", "-c", "ls /proc/self/fd"])
        let fds = r.stdoutText.split(separator: "\n").compactMap { Int($0) }.filter { $0 > 2 }
        #expect(fds.count <= 1, "inherited descriptors: \(fds)")
    }

    @Test(arguments: [CloseMode.noExit1000, .noExit1011, .noFrames])
    func closeWithoutExitFrameIsAnError(mode: CloseMode) async throws {
        let (client, sim, name) = try await SimHarness.fresh("cl")
        sim.state.faults.withLock { $0.closeMode = mode }
        do {
            let r = try await client.run(name, ["echo", "some output"])
            Issue.record("close without exit (\(mode)) reported success: \(r)")
        } catch SpritesError.connectionLost(let reason, let out, _) {
            if mode != .noFrames { #expect(out.text == "some output\n", "partial output kept (\(reason))") }
            #expect(!reason.isEmpty)
        }
        sim.state.faults.withLock { $0.closeMode = .normal }
    }

    /// A process whose background child keeps its output pipe open still reports its exit, with
    /// its output, within seconds (the sim stops waiting for a pipe that stays empty).
    @Test func aBackgroundChildHoldingThePipeDoesNotHoldTheExit() async throws {
        let (client, _, name) = try await SimHarness.fresh("bg")
        let start = Date()
        let r = try await client.run(name, ["sh", "-c", "sleep 27.25 & echo started"])
        #expect(r.exitCode == 0 && r.stdoutText == "started\n")
        #expect(Date().timeIntervalSince(start) < 10, "waited for the background child's pipe")
        _ = try? await client.run(name, ["pkill", "-f", "sleep 27.25"])
    }

    @Test func closesAtOnceOnExitFrameDespiteServerHold() async throws {
        let (client, sim, name) = try await SimHarness.fresh("hold")
        sim.state.faults.withLock { $0.closeDelay = 5 }
        let start = Date()
        let r = try await client.run(name, ["true"])
        #expect(r.exitCode == 0)
        #expect(Date().timeIntervalSince(start) < 2, "the client must not wait for the server's 5 s close")
        sim.state.faults.withLock { $0.closeDelay = 0 }
    }
}
}
