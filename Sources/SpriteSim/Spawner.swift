import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors from starting a local process.
struct SpawnError: Error, CustomStringConvertible {
    let description: String
}

/// Starts processes with posix_spawn: pipes for non-TTY commands, a PTY (posix_openpt) for
/// TTY ones. Every child gets its own session (setsid) so its process group can be signalled,
/// default signal dispositions (the server ignores SIGPIPE; children must not inherit that),
/// and runs through `env -C dir` so the working directory and PATH lookup follow the
/// command's own environment. Children get only fds 0–2: the server's sockets are not
/// close-on-exec (NIO accepts without `SOCK_CLOEXEC`), and a child holding a copy of an exec
/// socket keeps the TCP connection open after the server closes or drops it, so a client
/// would notice a drop only when that child exits.
enum Spawner {
    struct Launched {
        var pid: Int32
        var stdin: Int32 = -1
        var stdout: Int32 = -1
        var stderr: Int32 = -1
        var master: Int32 = -1
    }

    private static let setsidFlag: Int32 = 0x80  // POSIX_SPAWN_SETSID (glibc)
    private static let tiocswinsz: UInt = 0x5414
    private static let tiocsptlck: UInt = 0x40045431
    private static let tiocgptn: UInt = 0x80045430

    static func launch(_ spec: CommandSpec) throws -> Launched {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }

        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(setsidFlag | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)))

        var launched = Launched(pid: 0)
        var closeInParent: [Int32] = []
        if spec.tty {
            // posix_openpt/ptsname are not visible from Swift's Glibc module; use /dev/ptmx
            // with TIOCSPTLCK (unlock) and TIOCGPTN (slave number) directly.
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard master >= 0, ioctl(master, tiocsptlck, &unlock) == 0, ioctl(master, tiocgptn, &number) == 0 else {
                if master >= 0 { close(master) }
                throw SpawnError(description: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
            }
            let slaveName = "/dev/pts/\(number)"
            setWindowSize(master, rows: spec.rows, cols: spec.cols)
            // The child is a session leader, so opening the slave makes it the controlling tty.
            posix_spawn_file_actions_addopen(&actions, 0, slaveName, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            launched.master = master
        } else {
            if spec.stdin {
                let p = try pipe()
                posix_spawn_file_actions_adddup2(&actions, p.read, 0)
                launched.stdin = p.write
                closeInParent.append(p.read)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            let out = try pipe(), err = try pipe()
            posix_spawn_file_actions_adddup2(&actions, out.write, 1)
            posix_spawn_file_actions_adddup2(&actions, err.write, 2)
            launched.stdout = out.read
            launched.stderr = err.read
            closeInParent += [out.write, err.write]
        }

        let argv = ["env", "-C", spec.directory, "--", spec.path] + spec.argv.dropFirst()
        let envp = spec.environment.map { "\($0.key)=\($0.value)" }
        // Close every inherited descriptor above stderr in the child (after the dup2s above).
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }

        var pid: Int32 = 0
        let rc = withCStrings(argv) { cargv in
            withCStrings(envp) { cenv in
                posix_spawn(&pid, "/usr/bin/env", &actions, &attr, cargv, cenv)
            }
        }
        closeInParent.forEach { close($0) }
        guard rc == 0 else {
            [launched.stdin, launched.stdout, launched.stderr, launched.master].filter { $0 >= 0 }.forEach { close($0) }
            throw SpawnError(description: "cannot start \(spec.path): \(String(cString: strerror(rc)))")
        }
        launched.pid = pid
        return launched
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), found at run time.
    private static let addCloseFrom: AddCloseFrom? = {
        dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }
    }()

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    /// `pipe2` is a GNU extension the Glibc module does not expose.
    private static let pipe2Function: Pipe2? = {
        dlsym(dlopen(nil, RTLD_NOW), "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    }()

    static func setWindowSize(_ fd: Int32, rows: Int, cols: Int) {
        var ws = winsize(ws_row: UInt16(clamping: rows), ws_col: UInt16(clamping: cols), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, tiocswinsz, &ws)
    }

    /// Both ends close-on-exec atomically, so a child spawned meanwhile by another thread does
    /// not inherit them (which would hide end-of-file from the reader).
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard let pipe2 = pipe2Function, pipe2(&fds, O_CLOEXEC) == 0 else {
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        ptrs.append(nil)
        defer { ptrs.forEach { free($0) } }
        return body(ptrs)
    }
}
