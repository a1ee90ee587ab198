import Foundation
import Processes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``Sandbox`` on this machine: commands are local processes (`posix_spawn`), files are local files.
///
/// Each command's output is drained while it runs, on a thread of its own, so big outputs never
/// block; commands run in their own process group (a terminal Ctrl-C does not reach them, and
/// terminating one reaches its children too), except ``interactive(_:)`` which must own the terminal.
/// Creating one makes this process ignore `SIGPIPE` (a write to a pipe whose reader died then fails
/// with `EPIPE` instead of killing the process); children get the default disposition back.
public struct LocalSandbox: Sandbox {
    /// The environment commands start from (before each call's `env`).
    public let baseEnvironment: [String: String]
    /// `HOME` of the base environment.
    public let homeDirectory: String

    /// Creates a local sandbox whose commands inherit this process's environment plus `environment`.
    public init(environment: [String: String] = [:]) {
        signal(SIGPIPE, SIG_IGN)
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        baseEnvironment = merged
        homeDirectory = merged["HOME"] ?? NSHomeDirectory()
    }

    // MARK: - Commands

    /// A pipe; a failure is a ``SandboxError``.
    static func makePipe() throws -> (read: Int32, write: Int32) {
        do { return try Native.makePipe() } catch let failure as ProcessFailure { throw SandboxError.io(failure.description) }
    }

    /// Runs a local process; see ``Sandbox/run(_:cwd:env:stdin:)``.
    public func run(_ argv: [String], cwd: String?, env: [String: String], stdin: Data?) async throws -> CommandResult {
        let environment = baseEnvironment.merging(env) { _, new in new }
        guard let executable = Self.resolve(argv.first ?? "", path: environment["PATH"]) else {
            return CommandResult(status: 127, stderr: Data("\(argv.first ?? ""): command not found\n".utf8))
        }
        let output = try Self.makePipe()
        let errors = try Self.makePipe()
        let input = try stdin.map { _ in try Self.makePipe() }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: executable, argv: argv, environment: environment, cwd: cwd,
                stdin: input.map { .descriptor($0.read) } ?? .null,
                stdout: .descriptor(output.write), stderr: .descriptor(errors.write),
                newProcessGroup: true
            )
        } catch let failure as SpawnFailure {
            [output.read, errors.read, input?.write].compactMap { $0 }.forEach { close($0) }
            return CommandResult(status: 127, stderr: Data("\(argv[0]): \(failure.message)\n".utf8))
        } catch {
            [output.read, errors.read, input?.write].compactMap { $0 }.forEach { close($0) }
            throw (error as? ProcessFailure).map { SandboxError.io($0.description) } ?? error
        }
        let inputPlan = input.map { (fd: $0.write, data: stdin ?? Data()) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread {
                    var collected = [Data(), Data()]
                    var pump = PipePump(input: inputPlan, outputs: [output.read, errors.read]) { index, bytes in
                        collected[index].append(contentsOf: bytes)
                    }
                    pump.run()
                    let status = child.waitForExit()
                    continuation.resume(returning: CommandResult(status: status, stdout: collected[0], stderr: collected[1]))
                }.start()
            }
        } onCancel: {
            child.terminate()
        }
    }

    /// Streams a local process's stdout; its stderr is kept (up to 64 KiB) for the error.
    public func stream(_ argv: [String]) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        guard let executable = Self.resolve(argv.first ?? "", path: baseEnvironment["PATH"]) else {
            continuation.finish(throwing: SandboxError.commandFailed(argv: argv, status: 127, stderr: "command not found"))
            return stream
        }
        do {
            let output = try Self.makePipe()
            let errors = try Self.makePipe()
            let child: ChildProcess
            do {
                child = try ChildProcess.spawn(
                    executable: executable, argv: argv, environment: baseEnvironment, cwd: nil,
                    stdin: .null, stdout: .descriptor(output.write), stderr: .descriptor(errors.write),
                    newProcessGroup: true
                )
            } catch {
                close(output.read)
                close(errors.read)
                throw error
            }
            continuation.onTermination = { _ in child.terminate() }
            Thread {
                var errorText = Data()
                var pump = PipePump(input: nil, outputs: [output.read, errors.read]) { index, bytes in
                    if index == 0 {
                        continuation.yield(bytes)
                    } else if errorText.count < 64 * 1024 {
                        errorText.append(contentsOf: bytes)
                    }
                }
                pump.run()
                let status = child.waitForExit()
                if status == 0 || child.wasStopped {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: SandboxError.commandFailed(
                        argv: argv, status: status, stderr: String(decoding: errorText, as: UTF8.self)))
                }
            }.start()
        } catch let failure as SpawnFailure {
            continuation.finish(throwing: SandboxError.commandFailed(argv: argv, status: 127, stderr: failure.message))
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }

    /// Runs `argv` in this process's process group with its terminal, ignoring SIGINT and SIGQUIT
    /// here meanwhile (as `system(3)` does).
    public func interactive(_ argv: [String]) throws -> Int32 {
        guard let executable = Self.resolve(argv.first ?? "", path: baseEnvironment["PATH"]) else {
            throw SandboxError.commandFailed(argv: argv, status: 127, stderr: "command not found")
        }
        return try TerminalSignals.handedOver {
            do {
                let child = try ChildProcess.spawn(
                    executable: executable, argv: argv, environment: baseEnvironment, cwd: nil,
                    stdin: .inherit, stdout: .inherit, stderr: .inherit, newProcessGroup: false
                )
                return child.waitForExit()
            } catch let failure as SpawnFailure {
                throw SandboxError.commandFailed(argv: argv, status: 127, stderr: failure.message)
            }
        }
    }

    // MARK: - Files

    /// Writes a temporary file beside `path` and renames it over `path`, so readers never see a
    /// partial file.
    public func writeFile(path: String, data: Data, mode: Int) async throws {
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw Self.ioError("create", temporary) }
        var failure: SandboxError?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = Self.ioError("write", temporary)
                    return
                }
                offset += count
            }
        }
        if failure == nil && fchmod(fd, mode_t(mode)) != 0 { failure = Self.ioError("chmod", temporary) }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = Self.ioError("rename", path) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Reads the whole file.
    public func readFile(path: String) async throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw SandboxError.fileNotFound(path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw Self.ioError("read", path) }
        return data
    }

    /// `stat`'s size; nil for a missing path.
    public func fileSize(path: String) async throws -> Int64? {
        var info = stat()
        if stat(path, &info) == 0 { return Int64(info.st_size) }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw Self.ioError("stat", path)
    }

    // MARK: - Helpers

    /// The executable `name` refers to: itself when it contains `/`, else the first match in `path`.
    static func resolve(_ name: String, path: String?) -> String? {
        guard !name.isEmpty else { return nil }
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    private static func ioError(_ operation: String, _ path: String) -> SandboxError {
        .io("\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}

/// Like system(3): while a child owns the terminal, its Ctrl-C and Ctrl-\ are its own — this
/// process ignores SIGINT and SIGQUIT for the time of `body`.
public enum TerminalSignals {
    public static func handedOver<T>(_ body: () throws -> T) rethrows -> T {
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        var savedInterrupt = sigaction(), savedQuit = sigaction()
        sigaction(SIGINT, &ignore, &savedInterrupt)
        sigaction(SIGQUIT, &ignore, &savedQuit)
        defer {
            sigaction(SIGINT, &savedInterrupt, nil)
            sigaction(SIGQUIT, &savedQuit, nil)
        }
        return try body()
    }
}
