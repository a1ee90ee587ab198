import Foundation
import Sandbox
import Sprites
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The local terminal side of an interactive sprite session: raw mode, size, and the pump
// between this terminal and a TTY exec.

/// Writes all of `bytes` to a file descriptor.
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        off += n
    }
}

/// The local terminal in raw mode until `restore`.
public final class RawTerminal {
    let fd: Int32
    private var saved = termios()

    public init(fd: Int32) throws {
        self.fd = fd
        guard tcgetattr(fd, &saved) == 0 else { throw SandboxError.io("cannot read the terminal's settings") }
        var raw = saved
        cfmakeraw(&raw)
        guard tcsetattr(fd, TCSAFLUSH, &raw) == 0 else { throw SandboxError.io("cannot switch the terminal to raw mode") }
    }

    public func restore() {
        var s = saved
        _ = tcsetattr(fd, TCSAFLUSH, &s)
    }

    /// The terminal's size (24×80 when unknown).
    public static func size(fd: Int32 = 1) -> (rows: Int, cols: Int) {
        var w = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 { return (Int(w.ws_row), Int(w.ws_col)) }
        return (24, 80)
    }
}

/// Tells the stdin reader of an attach to stop.
final class AttachStop: Sendable {
    let flag = Atomic<Bool>(false)
}

/// The write end of the pipe that SIGWINCH pokes (−1 when no attach runs).
private let winchPipe = Atomic<Int32>(-1)

/// Pumps stdin to an interactive session and its output to stdout; resizes on SIGWINCH.
public enum AttachLoop {
    public enum Outcome: Sendable { case exited(Int), detached }

    enum Input: Sendable {
        case bytes([UInt8])
        case resize(rows: Int, cols: Int)
        case detach
    }

    static let detachKey: UInt8 = 0x1C   // Ctrl-\

    public static func run(_ session: ExecSession) async throws -> Outcome {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SandboxError.io("cannot make a pipe") }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        winchPipe.store(fds[1], ordering: .sequentiallyConsistent)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let fd = winchPipe.load(ordering: .relaxed)
            if fd >= 0 {
                var b: UInt8 = 1
                _ = Glibc.write(fd, &b, 1)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        var previous = sigaction()
        sigaction(SIGWINCH, &action, &previous)
        let stop = AttachStop()
        let (input, inputCont) = AsyncStream<Input>.makeStream()
        let readerDone = DispatchSemaphore(value: 0)
        let winchRead = fds[0]
        Thread {
            readInput(winchFD: winchRead, stop: stop, into: inputCont)
            readerDone.signal()
        }.start()
        defer {
            stop.flag.store(true, ordering: .sequentiallyConsistent)
            readerDone.wait()
            sigaction(SIGWINCH, &previous, nil)
            winchPipe.store(-1, ordering: .sequentiallyConsistent)
            close(fds[0])
            close(fds[1])
        }
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                for try await event in session.events {
                    switch event {
                    case .stdout(let b), .stderr(let b): writeAll(1, b)
                    case .exit(let code): return .exited(code)
                    case .message: continue
                    }
                }
                return .detached
            }
            group.addTask {
                for await i in input {
                    switch i {
                    case .bytes(let b): try await session.send(b)
                    case .resize(let rows, let cols): try await session.resize(rows: rows, cols: cols)
                    case .detach:
                        await session.detach()
                        return .detached
                    }
                }
                return nil   // stdin closed: keep showing output until the session ends
            }
            while let next = try await group.next() {
                if let outcome = next {
                    group.cancelAll()
                    return outcome
                }
            }
            return .detached
        }
    }

    /// Reads stdin (and the SIGWINCH pipe) until `stop`, feeding `cont`.
    private static func readInput(winchFD: Int32, stop: AttachStop, into cont: AsyncStream<Input>.Continuation) {
        defer { cont.finish() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stop.flag.load(ordering: .sequentiallyConsistent) {
            var p = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: winchFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&p, 2, 100)
            if n <= 0 { continue }
            if p[1].revents != 0 {
                _ = buffer.withUnsafeMutableBytes { read(winchFD, $0.baseAddress, $0.count) }
                let s = RawTerminal.size()
                cont.yield(.resize(rows: s.rows, cols: s.cols))
            }
            if p[0].revents != 0 {
                let got = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { return }
                let bytes = Array(buffer[..<got])
                if let k = bytes.firstIndex(of: detachKey) {
                    if k > 0 { cont.yield(.bytes(Array(bytes[..<k]))) }
                    cont.yield(.detach)
                    return
                }
                cont.yield(.bytes(bytes))
            }
        }
    }
}

