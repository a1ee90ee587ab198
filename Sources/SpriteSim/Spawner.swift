import Foundation
import Processes
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

    private static let tiocswinsz: UInt = 0x5414
    private static let tiocsptlck: UInt = 0x40045431
    private static let tiocgptn: UInt = 0x80045430

    /// Starts `spec` through the package's process launcher (`ChildProcess`): a new session, and
    /// either a pseudo-terminal (its master returned) or pipes for stdin (when asked), stdout and
    /// stderr. It runs as `env -C <dir> -- <path> <args…>`, so the directory and the PATH lookup
    /// follow the sprite's environment.
    static func launch(_ spec: CommandSpec) throws -> Launched {
        var launched = Launched(pid: 0)
        var opened: [Int32] = []
        let argv = ["env", "-C", spec.directory, "--", spec.path] + spec.argv.dropFirst()
        do {
            let child: ChildProcess
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
                opened.append(master)
                setWindowSize(master, rows: spec.rows, cols: spec.cols)
                // The child leads a new session, so opening the slave makes it the controlling tty.
                let slave = ChildProcess.Stdio.path("/dev/pts/\(number)", flags: O_RDWR)
                child = try ChildProcess.spawn(
                    executable: "/usr/bin/env", argv: argv, environment: spec.environment, cwd: nil,
                    stdin: slave, stdout: slave, stderr: slave, newProcessGroup: false, newSession: true)
                launched.master = master
            } else {
                let input = spec.stdin ? try Native.makePipe() : nil
                let out = try Native.makePipe(), err = try Native.makePipe()
                opened += [input?.write, out.read, err.read].compactMap { $0 }
                child = try ChildProcess.spawn(
                    executable: "/usr/bin/env", argv: argv, environment: spec.environment, cwd: nil,
                    stdin: input.map { .descriptor($0.read) } ?? .null, stdout: .descriptor(out.write),
                    stderr: .descriptor(err.write), newProcessGroup: false, newSession: true)
                launched.stdin = input?.write ?? -1
                launched.stdout = out.read
                launched.stderr = err.read
            }
            launched.pid = child.pid
            return launched
        } catch let e as SpawnFailure {
            opened.forEach { close($0) }
            throw SpawnError(description: "cannot start \(spec.path): \(e.message)")
        } catch {
            opened.forEach { close($0) }
            throw error
        }
    }

    static func setWindowSize(_ fd: Int32, rows: Int, cols: Int) {
        var ws = winsize(ws_row: UInt16(clamping: rows), ws_col: UInt16(clamping: cols), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, tiocswinsz, &ws)
    }
}
