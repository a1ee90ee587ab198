import Foundation
import Synchronization

/// A buffered writer to a file descriptor. Commands write here; `flush` sends it out in one go,
/// so that a listing of 100 000 rows costs a few system calls, not 100 000.
public final class Output: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let lock = NSLock()

    public init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(64 * 1024)
    }

    public func write(_ s: String) {
        lock.lock()
        buffer.append(contentsOf: s.utf8)
        let full = buffer.count >= 64 * 1024
        lock.unlock()
        if full { flush() }
    }

    /// Writes raw bytes.
    public func write(bytes: some Collection<UInt8>) {
        lock.lock()
        buffer.append(contentsOf: bytes)
        let full = buffer.count >= 64 * 1024
        lock.unlock()
        if full { flush() }
    }

    /// Writes a block of bytes: a big one goes straight to the file after what is buffered (no
    /// copy; `events --json` writes hundreds of megabytes this way).
    public func write(buffer bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 16 * 1024 else {
            write(bytes: bytes)
            return
        }
        flush()
        lock.lock()
        defer { lock.unlock() }
        ConsoleLock.shared.withLock { Self.writeAll(fd, UnsafeRawBufferPointer(bytes)) }
    }

    /// Writes all of `raw` to `fd` (retrying partial writes and EINTR); stops on an error.
    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) {
        var off = 0
        while off < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            off += n
        }
    }

    /// Writes `s` and a newline.
    public func line(_ s: String = "") {
        write(s + "\n")
    }

    public func flush() {
        lock.lock()
        defer { lock.unlock() }
        guard !buffer.isEmpty else { return }
        ConsoleLock.shared.withLock {
            buffer.withUnsafeBytes { Self.writeAll(fd, $0) }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Serializes whole writes to the terminal between command output and asynchronous printers.
enum ConsoleLock {
    static let shared = NSLock()
}

/// Colours and emphasis, on only for a terminal without NO_COLOR or TERM=dumb.
public struct Style: Sendable {
    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// Decides from the environment whether `fd` gets colour.
    public static func detect(fd: Int32, environment: [String: String], forceOff: Bool) -> Style {
        if forceOff { return Style(enabled: false) }
        if let nc = environment["NO_COLOR"], !nc.isEmpty { return Style(enabled: false) }
        if environment["TERM"] == "dumb" { return Style(enabled: false) }
        return Style(enabled: isatty(fd) == 1)
    }

    func wrap(_ s: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    public func bold(_ s: String) -> String { wrap(s, "1") }
    public func dim(_ s: String) -> String { wrap(s, "2") }
    public func red(_ s: String) -> String { wrap(s, "31") }
    public func green(_ s: String) -> String { wrap(s, "32") }
    public func yellow(_ s: String) -> String { wrap(s, "33") }
    public func blue(_ s: String) -> String { wrap(s, "34") }
    public func cyan(_ s: String) -> String { wrap(s, "36") }
}
