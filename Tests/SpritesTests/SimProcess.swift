import Foundation
import Testing

/// A `sprite-sim` process of the test's own — the binary built beside the tests — on a free
/// port, with TLS when asked: certificates come from `tests/conformance/make-test-certs.sh`
/// (openssl) in a temporary folder, the sim serves `https://localhost:PORT` and `caFile` is the
/// CA to trust (`SSL_CERT_FILE`). Use `SimProcess.with { sim in … }`: the process and its folder
/// are gone when the body returns or throws; the sim also exits if this process dies (its stdin
/// closes, `--exit-on-stdin-eof`).
final class SimProcess: @unchecked Sendable {
    let url: String
    let token: String
    let root: String
    /// The folder of `make-test-certs.sh`'s files, with TLS.
    let certs: String?
    private let process: Process
    private let stdin: Pipe

    /// The CA that signed the sim's certificate.
    var caFile: String { (certs ?? "") + "/ca.pem" }
    /// `ca.pem` alone in a hashed folder (`SSL_CERT_DIR`).
    var caDirectory: String { (certs ?? "") + "/ca-dir" }
    /// A CA that signed nothing here.
    var otherCAFile: String { (certs ?? "") + "/other-ca.pem" }

    private init(url: String, token: String, root: String, certs: String?, process: Process, stdin: Pipe) {
        self.url = url
        self.token = token
        self.root = root
        self.certs = certs
        self.process = process
        self.stdin = stdin
    }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `sprite-sim` next to the test bundle (`.build/debug`), else `SPRITE_SIM`.
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["SPRITE_SIM"] { return b }
        var dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("sprite-sim").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repo + "/.build/debug/sprite-sim"
    }

    /// Makes the test certificates in `dir` (`tests/conformance/make-test-certs.sh`).
    static func makeCertificates(in dir: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repo + "/tests/conformance/make-test-certs.sh", dir]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let why = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw SimFailure("make-test-certs.sh failed (\(p.terminationStatus)): \(why)")
        }
    }

    /// Starts a sim; `arguments` are extra flags (`--latency-ms 100`, `--no-control`, …).
    static func start(tls: Bool, arguments: [String] = []) throws -> SimProcess {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sprite-sim-proc-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var certs: String?
        var args = ["--port", "0", "--root", root + "/data", "--token", "proc-token-0123456789", "--close-delay", "0",
                    "--exit-on-stdin-eof"] + arguments
        do {
            if tls {
                let dir = root + "/certs"
                try makeCertificates(in: dir)
                certs = dir
                args += ["--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server-key.pem"]
            }
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        do { try p.run() } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw SimFailure("cannot start \(binary): \(error)")
        }
        // The first line is `listening on URL`; read it on a thread, waiting at most 30 s.
        let line = TestLock<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        Thread {
            var buffer: [UInt8] = []
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer += chunk
                if let nl = buffer.firstIndex(of: 0x0A) {
                    line.withLock { $0 = String(decoding: buffer[..<nl], as: UTF8.self) }
                    break
                }
            }
            done.signal()
            while !reader.availableData.isEmpty {}   // keep draining until the sim exits
        }.start()
        _ = done.wait(timeout: .now() + 30)
        let first = line.current ?? ""
        let sim = SimProcess(url: String(first.dropFirst("listening on ".count)), token: "proc-token-0123456789",
                             root: root, certs: certs, process: p, stdin: input)
        guard first.hasPrefix("listening on ") else {
            sim.stop()
            throw SimFailure("sprite-sim did not start (\(binary)): \(first.isEmpty ? "no output" : first)")
        }
        return sim
    }

    /// Ends the process (SIGTERM, then SIGKILL after 3 s) and removes its folder.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? stdin.fileHandleForWriting.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body` with a sim that is stopped afterwards, whatever happens.
    static func with<T: Sendable>(tls: Bool, arguments: [String] = [], _ body: (SimProcess) async throws -> T) async throws -> T {
        let sim = try start(tls: tls, arguments: arguments)
        do {
            let result = try await body(sim)
            sim.stop()
            return result
        } catch {
            sim.stop()
            throw error
        }
    }

    /// `POST /_sim/<path>` with a JSON body (curl, trusting the sim's CA).
    func admin(_ path: String, _ json: String = "{}") throws -> String {
        try curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", json, url + "/_sim/" + path])
    }

    /// `GET /_sim/<path>`.
    func adminGet(_ path: String) throws -> String { try curl([url + "/_sim/" + path]) }

    private func curl(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sS", "--max-time", "10"] + (certs != nil ? ["--cacert", caFile] : []) + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SimFailure("curl \(args.last ?? "") failed (\(p.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct SimFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A value guarded by a lock (the test target's own).
final class TestLock<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withLock { $0 } }
}
