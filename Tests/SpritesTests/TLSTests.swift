import Foundation
import Testing
@testable import Sprites

/// REST (libcurl), exec and the control channel (WSClient + NIOSSL) over TLS, against a
/// `sprite-sim --tls-cert … --tls-key …` process whose CA is made by openssl for the test.
@Suite("TLS against sprite-sim", .serialized)
struct TLSTests {
    /// A client trusting what `environment` says, as a process with those variables would.
    func client(_ sim: SimProcess, _ environment: [String: String]) -> SpritesClient {
        SpritesClient(baseURL: sim.url, token: sim.token, retry: .none, trust: .fromEnvironment(environment))
    }

    @Test func restExecAndTheControlChannelWorkWithTheCAInSSL_CERT_FILE() async throws {
        try await SimProcess.with(tls: true) { sim in
            #expect(sim.url.hasPrefix("https://localhost:"))
            let c = client(sim, ["SSL_CERT_FILE": sim.caFile])
            let name = "tls-ok"
            _ = try await c.createSprite(SpriteSpec(name: name))
            #expect(try await c.getSprite(name).name == name)
            try await c.writeFile(name, path: "/home/sprite/f.bin", data: [0, 1, 2])
            #expect(try await c.readFile(name, path: "/home/sprite/f.bin") == [0, 1, 2])

            let r = try await c.run(name, ["sh", "-c", "echo over wss; echo err >&2; exit 3"])
            #expect(r.exitCode == 3 && r.stdoutText == "over wss\n" && r.stderrText == "err\n")
            let cat = try await c.run(name, ["cat"], stdin: Array("through the channel".utf8), via: .control)
            #expect(cat.exitCode == 0 && cat.stdoutText == "through the channel")
            let again = try await c.run(name, ["echo", "again"], via: .control)
            #expect(again.stdoutText == "again\n")
            let stats = c.controlChannel(name).stats
            #expect(stats.commands == 2 && stats.connectionsOpened == 1 && stats.fallbacks == 0, "\(stats)")
        }
    }

    @Test func aHashedFolderInSSL_CERT_DIRIsTrustedToo() async throws {
        try await SimProcess.with(tls: true) { sim in
            let c = client(sim, ["SSL_CERT_DIR": sim.caDirectory])
            _ = try await c.createSprite(SpriteSpec(name: "tls-dir"))
            #expect(try await c.run("tls-dir", ["echo", "dir"]).stdoutText == "dir\n")
            #expect(try await c.run("tls-dir", ["echo", "ctl"], via: .control).stdoutText == "ctl\n")
            #expect(c.controlChannel("tls-dir").stats.commands == 1)
        }
    }

    /// As on machines whose environment names the system's CAs in both variables: a folder and
    /// a file together, and several folders, all count.
    @Test func aFileAndFoldersTogetherAreAllTrusted() async throws {
        try await SimProcess.with(tls: true) { sim in
            let systemDir = FileManager.default.fileExists(atPath: "/etc/ssl/certs") ? "/etc/ssl/certs" : sim.root
            let cases: [[String: String]] = [
                ["SSL_CERT_FILE": sim.caFile, "SSL_CERT_DIR": systemDir],             // the CA in the file
                ["SSL_CERT_FILE": sim.otherCAFile, "SSL_CERT_DIR": sim.caDirectory],   // the CA in the folder
                ["SSL_CERT_DIR": "\(systemDir):\(sim.caDirectory)"],                    // the CA in a second folder
            ]
            for (i, environment) in cases.enumerated() {
                let c = client(sim, environment)
                let name = "tls-both-\(i)"
                _ = try await c.createSprite(SpriteSpec(name: name))
                #expect(try await c.run(name, ["echo", "\(i)"]).stdoutText == "\(i)\n", "\(environment)")
                #expect(try await c.run(name, ["echo", "c\(i)"], via: .control).stdoutText == "c\(i)\n", "\(environment)")
                #expect(c.controlChannel(name).stats.commands == 1, "\(environment)")
            }
        }
    }

    @Test func withoutTheCARestAndExecFailSayingWhatToSet() async throws {
        try await SimProcess.with(tls: true) { sim in
            let good = client(sim, ["SSL_CERT_FILE": sim.caFile])
            _ = try await good.createSprite(SpriteSpec(name: "tls-no"))
            for (environment, mention) in [([String: String](), "set SSL_CERT_FILE"),
                                           (["SSL_CERT_FILE": sim.otherCAFile], "SSL_CERT_FILE=\(sim.otherCAFile)")] {
                let c = client(sim, environment)
                try await expectVerifyFailure(mention, "REST") { _ = try await c.getSprite("tls-no") }
                try await expectVerifyFailure(mention, "exec") { _ = try await c.run("tls-no", ["true"]) }
                // The channel cannot connect either: the command falls back to an exec socket,
                // which says the same — never an unverified connection.
                try await expectVerifyFailure(mention, "control") { _ = try await c.run("tls-no", ["true"], via: .control) }
                let stats = c.controlChannel("tls-no").stats
                #expect(stats.commands == 0 && stats.connectionsOpened == 0 && stats.fallbacks == 1)
                #expect(!stats.refused, "a TLS failure is not a server without /control")
            }
            let missing = client(sim, ["SSL_CERT_FILE": sim.root + "/nowhere.pem"])
            do {
                _ = try await missing.getSprite("tls-no")
                Issue.record("a missing SSL_CERT_FILE was ignored")
            } catch SpritesError.transport(let m) {
                #expect(m.contains("SSL_CERT_FILE=") && m.contains("no such file"), "\(m)")
            }
        }
    }

    @Test func plainHTTPIgnoresTheCAVariables() async throws {
        try await SimProcess.with(tls: false) { sim in
            #expect(sim.url.hasPrefix("http://127.0.0.1:"))
            let c = client(sim, ["SSL_CERT_FILE": "/nonexistent.pem"])
            _ = try await c.createSprite(SpriteSpec(name: "plain"))
            #expect(try await c.run("plain", ["echo", "plain"], via: .control).stdoutText == "plain\n")
        }
    }

    @Test func trustComesFromSSL_CERT_FILEAndSSL_CERT_DIR() {
        #expect(TLSTrust.fromEnvironment([:]) == .system)
        #expect(TLSTrust.fromEnvironment(["SSL_CERT_FILE": "", "SSL_CERT_DIR": ""]) == .system)
        let t = TLSTrust.fromEnvironment(["SSL_CERT_FILE": "/a.pem", "SSL_CERT_DIR": "/d1:/d2"])
        #expect(t.caFile == "/a.pem" && t.caDirectory == "/d1:/d2")
        #expect(t.directories == ["/d1", "/d2"])
    }

    func expectVerifyFailure(_ mention: String, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("\(what) succeeded against a certificate it must not trust")
        } catch SpritesError.transport(let m) {
            #expect(m.contains("certificate verify failed"), "\(what): \(m)")
            #expect(m.contains(mention), "\(what): \(m)")
        }
    }
}

extension TLSTests {
    /// The same ten commands against `sprite-sim --latency-ms 100` over TLS, where a new
    /// connection also pays the TLS handshake's round trip.
    @Test func tenShortCommandsOverTLSWithLatency() async throws {
        try await SimProcess.with(tls: true, arguments: ["--latency-ms", "100"]) { sim in
            let c = client(sim, ["SSL_CERT_FILE": sim.caFile])
            _ = try await c.createSprite(SpriteSpec(name: "tls-lat"))
            _ = try await c.run("tls-lat", ["true"], via: .control)
            let control = try await SimSuite.ControlLatencyTests.time {
                for _ in 0..<10 { _ = try await c.run("tls-lat", ["true"], via: .control).check() }
            }
            let exec = try await SimSuite.ControlLatencyTests.time { for _ in 0..<10 { _ = try await c.run("tls-lat", ["true"]).check() } }
            print(String(format: "LATENCY TLS, 100 ms: 10 × `true` over exec sockets %.0f ms, over the control channel %.0f ms", exec * 1000, control * 1000))
            // Asserted by what it does, not timed: the ten commands shared one TLS connection.
            #expect(c.controlChannel("tls-lat").stats.connectionsOpened == 1, "\(c.controlChannel("tls-lat").stats)")
        }
    }
}
