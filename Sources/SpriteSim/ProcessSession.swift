import Foundation
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// What a session tells its listeners.
enum SessionEvent: Sendable {
    case stdout([UInt8])
    case stderr([UInt8])
    case exit(Int)
}

/// How a command is to be started.
struct CommandSpec: Sendable {
    var argv: [String]
    var path: String
    var environment: [String: String]
    var directory: String
    var tty: Bool
    var rows: Int
    var cols: Int
    var stdin: Bool
}

/// One running command ("session"): a local process with pipes or a PTY, a bounded
/// scrollback, and any number of listeners (the creator's socket and attached ones).
final class ProcessSession: Sendable {
    let pid: Int32
    let spriteName: String
    let command: String
    let workdir: String
    let tty: Bool
    let created = Date()

    private struct State {
        var scrollback: [UInt8] = []
        var listeners: [UUID: AsyncStream<SessionEvent>.Continuation] = [:]
        var exitCode: Int?
        var lastActivity = Date()
        var bytesOut = 0
        var rows: Int
        var cols: Int
        var attachedSockets = 0
    }
    private let state: Mutex<State>
    /// Descriptors written from socket handlers: the stdin pipe (non-TTY) or the PTY master.
    /// Guarded by `fds` so that a write never lands on a closed — and maybe reused — number
    /// (another process-wide socket or pipe).
    private struct Inputs {
        var stdinFD: Int32 = -1
        var masterOpen = false
    }
    private let fds: Mutex<Inputs>
    private let masterFD: Int32
    private let scrollbackLimit: Int
    private let onOutput: @Sendable () -> Void
    private let onExit: @Sendable (ProcessSession, Int) -> Void
    /// The creator's subscription, registered before the process can produce output.
    let owner: (id: UUID, events: AsyncStream<SessionEvent>)

    /// Starts the process. Output readers and the reaper run on their own threads.
    init(spec: CommandSpec, spriteName: String, scrollbackLimit: Int,
         onOutput: @escaping @Sendable () -> Void,
         onExit: @escaping @Sendable (ProcessSession, Int) -> Void) throws {
        self.spriteName = spriteName
        self.command = spec.argv.joined(separator: " ")
        self.workdir = spec.directory
        self.tty = spec.tty
        self.scrollbackLimit = scrollbackLimit
        self.onOutput = onOutput
        self.onExit = onExit
        let launched = try Spawner.launch(spec)
        self.pid = launched.pid
        self.masterFD = launched.master
        var st = State(rows: spec.rows, cols: spec.cols)
        self.fds = Mutex(Inputs(stdinFD: launched.stdin, masterOpen: spec.tty))
        let ownerId = UUID()
        let (stream, cont) = AsyncStream<SessionEvent>.makeStream()
        st.listeners[ownerId] = cont
        st.attachedSockets = 1
        self.owner = (ownerId, stream)
        self.state = Mutex(st)
        var readers: [(Int32, Bool)] = []
        if spec.tty { readers.append((launched.master, false)) } else {
            readers.append((launched.stdout, false))
            readers.append((launched.stderr, true))
        }
        startThreads(readers: readers)
    }

    var exitCode: Int? { state.withLock { $0.exitCode } }
    var isRunning: Bool { exitCode == nil }
    var lastActivity: Date { state.withLock { $0.lastActivity } }
    var size: (rows: Int, cols: Int) { state.withLock { ($0.rows, $0.cols) } }
    var hasAttachedSockets: Bool { state.withLock { $0.attachedSockets > 0 } }
    var bytesPerSecond: Double {
        let (bytes, created) = state.withLock { ($0.bytesOut, self.created) }
        let age = max(Date().timeIntervalSince(created), 0.001)
        return Double(bytes) / age
    }

    /// Registers a listener. With `replay`, the scrollback comes first as one stdout event.
    /// If the session has already ended, the exit event follows at once.
    func subscribe(replay: Bool) -> (id: UUID, events: AsyncStream<SessionEvent>) {
        let id = UUID()
        let (stream, cont) = AsyncStream<SessionEvent>.makeStream()
        state.withLock { st in
            if replay, !st.scrollback.isEmpty { cont.yield(.stdout(st.scrollback)) }
            if let code = st.exitCode {
                cont.yield(.exit(code))
                cont.finish()
            } else {
                st.listeners[id] = cont
            }
            st.attachedSockets += 1
        }
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        state.withLock { st in
            st.listeners.removeValue(forKey: id)?.finish()
            st.attachedSockets -= 1
        }
    }

    /// Writes input, holding `fds` so the descriptor cannot be closed meanwhile. A write to an
    /// exited child fails at once (EPIPE, EIO), so this never holds the lock for long.
    func writeStdin(_ bytes: [UInt8]) {
        fds.withLock { io in
            let fd = tty ? (io.masterOpen ? masterFD : -1) : io.stdinFD
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    func closeStdin() {
        guard !tty else { return }
        fds.withLock { io in
            if io.stdinFD >= 0 { close(io.stdinFD); io.stdinFD = -1 }
        }
    }

    func resize(rows: Int, cols: Int) {
        guard tty else { return }
        state.withLock { $0.rows = rows; $0.cols = cols }
        fds.withLock { io in if io.masterOpen { Spawner.setWindowSize(masterFD, rows: rows, cols: cols) } }
    }

    /// Sends a signal to the whole process group.
    func signal(_ sig: Int32) {
        guard isRunning else { return }
        kill(-pid, sig)
        kill(pid, sig)
    }

    // MARK: - threads

    private func startThreads(readers: [(Int32, Bool)]) {
        let group = DispatchGroup()
        // Readers waiting in read() (an empty pipe), and readers not yet at their end: when every
        // live reader waits on an empty pipe, what the process wrote is delivered; one between
        // its read() and its delivery (slow on a loaded machine) is still owed.
        let waitingInRead = Atomic<Int>(0)
        let live = Atomic<Int>(readers.count)
        for (fd, isErr) in readers {
            group.enter()
            let t = Thread { [self] in
                var buf = [UInt8](repeating: 0, count: 65536)
                while true {
                    waitingInRead.add(1, ordering: .sequentiallyConsistent)
                    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    waitingInRead.subtract(1, ordering: .sequentiallyConsistent)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    self.deliver(Array(buf[0..<n]), isErr: isErr)
                }
                live.subtract(1, ordering: .sequentiallyConsistent)
                // Each reader closes its own descriptor, once it is done with it; the PTY
                // master also under `fds`, as input and resizes use it.
                if self.tty {
                    self.fds.withLock { io in io.masterOpen = false; close(fd) }
                } else {
                    close(fd)
                }
                group.leave()
            }
            t.start()
        }
        let reaper = Thread { [self] in
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
            let sig = status & 0x7f
            let code = sig == 0 ? Int((status >> 8) & 0xff) : 128 + Int(sig)
            // Let the readers drain what the process wrote before its exit goes out — however
            // long a loaded machine takes to run them while bytes wait in a pipe or a read is not
            // yet delivered — but not for ever on grandchildren that keep a pipe open (every
            // reader waiting on an empty pipe for 2 s; 30 s in all).
            let exited = Date()
            while group.wait(timeout: .now() + 0.1) == .timedOut {
                let pending = readers.contains { reader in
                    var bytes: Int32 = 0
                    return ioctl(reader.0, UInt(FIONREAD), &bytes) == 0 && bytes > 0
                }
                let allWaiting = waitingInRead.load(ordering: .sequentiallyConsistent) >= live.load(ordering: .sequentiallyConsistent)
                let elapsed = Date().timeIntervalSince(exited)
                if (!pending && allWaiting && elapsed > 2) || elapsed > 30 { break }
            }
            self.finish(code)
        }
        reaper.start()
    }

    private func deliver(_ bytes: [UInt8], isErr: Bool) {
        state.withLock { st in
            st.scrollback.append(contentsOf: bytes)
            if st.scrollback.count > scrollbackLimit {
                st.scrollback.removeFirst(st.scrollback.count - scrollbackLimit)
            }
            st.lastActivity = Date()
            st.bytesOut += bytes.count
            for cont in st.listeners.values { cont.yield(isErr ? .stderr(bytes) : .stdout(bytes)) }
        }
        onOutput()
    }

    private func finish(_ code: Int) {
        state.withLock { st in
            st.exitCode = code
            for cont in st.listeners.values {
                cont.yield(.exit(code))
                cont.finish()
            }
            st.listeners.removeAll()
        }
        // The PTY master is closed by its reader (it may still be reading output of a
        // grandchild that holds the terminal): closing it here while the reader thread still
        // calls read() on that number would read from whatever the number is reused for.
        fds.withLock { io in if io.stdinFD >= 0 { close(io.stdinFD); io.stdinFD = -1 } }
        onExit(self, code)
    }
}

extension ProcessSession {
    /// The `session_info` text message that opens every exec and control-channel command (spec
    /// §4.2): `session_id` as a string (current servers) or an integer (the docs).
    func infoMessage(isOwner: Bool, idAsString: Bool) -> String {
        var info: [String: Any] = [
            "type": "session_info",
            "session_id": idAsString ? String(pid) as Any : Int(pid) as Any,
            "command": command, "created": Int(created.timeIntervalSince1970),
            "is_owner": isOwner, "tty": tty,
        ]
        if tty {
            let sz = size
            info["rows"] = sz.rows
            info["cols"] = sz.cols
        }
        let data = (try? JSONSerialization.data(withJSONObject: info, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
