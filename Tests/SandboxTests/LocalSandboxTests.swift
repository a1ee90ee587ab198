import Foundation
import Testing
@testable import Sandbox

@Suite struct LocalSandboxTests {
    let sandbox = LocalSandbox()

    @Test func runCapturesStatusAndBothStreams() async throws {
        let result = try await sandbox.run(["sh", "-c", "printf out; printf err >&2; exit 7"])
        #expect(result.status == 7)
        #expect(result.stdoutText == "out")
        #expect(result.stderrText == "err")
        #expect(!result.succeeded)
    }

    @Test func runWithCwdEnvAndStdin() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let result = try await sandbox.run(["sh", "-c", #"pwd; printf '%s\n' "$GREETING"; cat"#], cwd: dir,
                                           env: ["GREETING": "hi there"], stdin: Data("from stdin".utf8))
        let resolved = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        #expect(result.stdoutText == "\(resolved)\nhi there\nfrom stdin")
    }

    @Test func bigInputAndOutputDoNotDeadlock() async throws {
        let input = Data((0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        // cat echoes 6 MiB on stdout while a second writer fills stderr: all three pipes at once.
        let result = try await sandbox.run(["sh", "-c", "head -c 3000000 /dev/zero >&2 & cat; wait"], cwd: nil, env: [:], stdin: input)
        #expect(result.status == 0)
        #expect(result.stdout == input)
        #expect(result.stderr.count == 3_000_000)
    }

    @Test func missingProgramIs127() async throws {
        let result = try await sandbox.run(["no-such-program-\(UUID().uuidString)"])
        #expect(result.status == 127)
        #expect(result.stderrText.contains("not found"))
        let notExecutable = try await sandbox.run(["/etc/hostname"])
        #expect(notExecutable.status == 127)
    }

    @Test func killedBySignalReports128PlusSignal() async throws {
        let result = try await sandbox.run(["sh", "-c", "kill -TERM $$"])
        #expect(result.status == 128 + SIGTERM)
    }

    @Test func childrenGetDefaultSigpipe() async throws {
        // With SIGPIPE ignored in the child, `yes` would spin on EPIPE errors instead of dying.
        let result = try await sandbox.run(["sh", "-c", "yes | head -n 1"])
        #expect(result.stdoutText == "y\n")
    }

    @Test func cancellingRunTerminatesTheCommand() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let pidFile = dir + "/pid"
        let task = Task { try await sandbox.run(["sh", "-c", "echo $$ > '\(pidFile)'; exec sleep 30"]) }
        // The file exists before `echo` has written to it: wait for a whole pid.
        func writtenPID() -> Int32? {
            (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                $0.hasSuffix("\n") ? Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            }
        }
        #expect(await eventually { writtenPID() != nil })
        let pid = try #require(writtenPID())
        let started = Date()
        task.cancel()
        let result = try await task.value
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(result.status == 128 + SIGTERM)
        #expect(await eventually { !processIsAlive(pid) })
    }

    @Test func filesRoundTrip() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/a file's name"
        #expect(try await sandbox.fileSize(path: path) == nil)
        #expect(try await !sandbox.fileExists(path: path))
        try await sandbox.writeFile(path: path, data: Data("first".utf8), mode: 0o600)
        try await sandbox.writeFile(path: path, data: Data("second!".utf8), mode: 0o640)
        #expect(try await sandbox.readFile(path: path) == Data("second!".utf8))
        #expect(try await sandbox.fileSize(path: path) == 7)
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o640)
        await #expect(throws: SandboxError.fileNotFound(dir + "/missing")) {
            try await sandbox.readFile(path: dir + "/missing")
        }
        await #expect(throws: SandboxError.self) {
            try await sandbox.writeFile(path: dir + "/no/such/dir/file", data: Data(), mode: 0o600)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a file's name"])
    }

    @Test func streamDeliversBytesAsTheyArrive() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let gate = dir + "/gate"
        // The command prints, then waits for the gate file before printing more: the first bytes
        // must arrive while it still runs.
        let stream = sandbox.stream(["sh", "-c", "printf first; while [ ! -e '\(gate)' ]; do sleep 0.02; done; printf second"])
        var iterator = stream.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first.map { String(decoding: $0, as: UTF8.self) } == "first")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        var rest: [UInt8] = []
        while let chunk = try await iterator.next() { rest += chunk }
        #expect(String(decoding: rest, as: UTF8.self) == "second")
    }

    @Test func streamFailureCarriesStatusAndStderr() async throws {
        var received: [UInt8] = []
        do {
            for try await chunk in sandbox.stream(["sh", "-c", "printf partial; echo boom >&2; exit 3"]) { received += chunk }
            Issue.record("expected the stream to fail")
        } catch let error as SandboxError {
            guard case .commandFailed(_, let status, let stderr) = error else { throw error }
            #expect(status == 3)
            #expect(stderr == "boom\n")
        }
        #expect(received == Array("partial".utf8))
    }

    @Test func cancellingTheConsumerKillsTheStreamedCommand() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let pidFile = dir + "/pid"
        let consumer = Task {
            var total = 0
            for try await chunk in sandbox.stream(["sh", "-c", "echo $$ > '\(pidFile)'; while :; do echo tick; sleep 0.05; done"]) {
                total += chunk.count
            }
            return total
        }
        // Generous: on a loaded machine with every suite running at once the consumer may start late;
        // what is tested is the kill on cancellation, not how soon the command starts.
        #expect(await eventually(timeout: 60) { FileManager.default.fileExists(atPath: pidFile) })
        try await Task.sleep(for: .milliseconds(200))
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(processIsAlive(pid))
        consumer.cancel()
        _ = try? await consumer.value
        #expect(await eventually { !processIsAlive(pid) })
    }

    @Test func interactiveReturnsExitStatus() throws {
        #expect(try sandbox.interactive(["sh", "-c", "exit 5"]) == 5)
        #expect(throws: SandboxError.self) { try sandbox.interactive(["no-such-program-\(UUID().uuidString)"]) }
    }

    @Test func homeDirectoryAndEnvironmentOverride() async throws {
        let custom = LocalSandbox(environment: ["HOME": "/custom/home", "TASK_SANDBOX_TEST": "yes"])
        #expect(custom.homeDirectory == "/custom/home")
        let result = try await custom.run(["sh", "-c", "printf %s \"$TASK_SANDBOX_TEST\""])
        #expect(result.stdoutText == "yes")
    }
}

@Suite struct SandboxExtensionTests {
    @Test func createDirectoryAndRunChecked() async throws {
        let sandbox = LocalSandbox()
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        try await sandbox.createDirectory(path: dir + "/a b/c")
        #expect(try await sandbox.fileExists(path: dir + "/a b/c"))
        await #expect(throws: SandboxError.commandFailed(argv: ["sh", "-c", "echo no >&2; exit 2"], status: 2, stderr: "no\n")) {
            try await sandbox.runChecked(["sh", "-c", "echo no >&2; exit 2"])
        }
    }
}
