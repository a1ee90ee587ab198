import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`: the one process launcher of the package (the local
/// sandbox, sprite-sim and the runner's hooks use it). A leaf module: it knows nothing of tasks or hooks.
///
/// Reaping and signalling are coordinated so a signal never reaches a recycled pid: the exit is
/// first observed without reaping (`waitid(WNOWAIT)`), then reaped under the lock that
/// ``signal(_:)`` takes.
public final class ChildProcess: Sendable {
    /// What to connect a child's standard stream to.
    public enum Stdio {
        /// This process's own descriptor.
        case inherit
        /// `/dev/null`.
        case null
        /// This descriptor (the child's end of a pipe); closed in the parent after spawning.
        case descriptor(Int32)
        /// This file, opened in the child with `flags` (a terminal's device, say).
        case path(String, flags: Int32)
    }

    public let pid: pid_t
    /// Whether the child leads its own process group (signals then go to the whole group).
    let ownsGroup: Bool
    private struct State {
        var reaped = false
        var stopAsked = false
    }
    private let state = Mutex(State())

    private init(pid: pid_t, ownsGroup: Bool) {
        self.pid = pid
        self.ownsGroup = ownsGroup
    }

    /// Starts `executable` with `argv`, `environment` (complete), `cwd` and the given streams.
    public static func spawn(
        executable: String,
        argv: [String],
        environment: [String: String],
        cwd: String?,
        stdin: Stdio,
        stdout: Stdio,
        stderr: Stdio,
        newProcessGroup: Bool,
        newSession: Bool = false
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .path(let path, let flags): posix_spawn_file_actions_addopen(&actions, target, path, flags, 0)
            }
        }
        if let closeFrom = Native.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let cwd {
            guard let addChdir = Native.addChdir else { throw ProcessFailure("posix_spawn cannot change directory here") }
            let code = cwd.withCString { addChdir(&actions, $0) }
            guard code == 0 else { throw ProcessFailure("chdir \(cwd): \(String(cString: strerror(code)))") }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        // A new session: the child's first terminal opened becomes its controlling terminal.
        if newSession { flags |= Self.setsidFlag }
        posix_spawnattr_setflags(&attributes, Int16(truncatingIfNeeded: flags))
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid = pid_t()
        let code = posix_spawn(&pid, executable, &actions, &attributes, cArgs, cEnv)
        for stdio in [stdin, stdout, stderr] {
            if case .descriptor(let fd) = stdio { close(fd) }
        }
        guard code == 0 else {
            throw SpawnFailure(code: code)
        }
        return ChildProcess(pid: pid, ownsGroup: newProcessGroup)
    }

    /// `POSIX_SPAWN_SETSID` (glibc), not exported to Swift.
    private static let setsidFlag: Int32 = 0x80

    /// Blocks until the child exits, reaps it and returns its status (128 + N when killed by signal N).
    public func waitForExit() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        return state.withLock { state in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            state.reaped = true
            return Self.decode(status)
        }
    }

    /// Sends `signal` to the child (to its whole group when it leads one), unless it was already reaped.
    public func signal(_ signal: Int32) {
        state.withLock { state in
            guard !state.reaped else { return }
            _ = kill(ownsGroup ? -pid : pid, signal)
        }
    }

    /// Whether ``terminate(grace:)`` was called: an exit after it is the stop that was asked for.
    public var wasStopped: Bool { state.withLock { $0.stopAsked } }

    /// Asks the child to stop (SIGTERM), and forces it (SIGKILL) when it is still there after `grace`.
    public func terminate(grace: Double = 2) {
        state.withLock { $0.stopAsked = true }
        signal(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in
            signal(SIGKILL)
        }
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// A system call of the launcher failed (a pipe, a working directory).
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `posix_spawn` refused to start the program.
public struct SpawnFailure: Error {
    public let code: Int32
    public var message: String { String(cString: strerror(code)) }
}

/// Functions that the Swift C importer does not expose (GNU extensions), found at run time.
public enum Native {
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    nonisolated(unsafe) private static let handle = dlopen(nil, RTLD_NOW)

    /// `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29, macOS ≥ 10.15).
    static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        dlsym(handle, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    }()

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34): the child keeps only 0, 1 and 2,
    /// so no descriptor of ours (sockets, the database, pipes) outlives us in tmux or an agent.
    static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        dlsym(handle, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: CloseFrom.self) }
    }()

    private static let pipe2: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? = {
        dlsym(handle, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    }()

    /// A pipe whose both ends are close-on-exec (atomically where `pipe2` exists), so no other
    /// child spawned meanwhile inherits it (which would keep it open and hide end-of-file).
    public static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 {
            guard pipe2(&fds, O_CLOEXEC) == 0 else { throw ProcessFailure("pipe: \(String(cString: strerror(errno)))") }
        } else {
            guard pipe(&fds) == 0 else { throw ProcessFailure("pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }
}
