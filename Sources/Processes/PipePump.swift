import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Moves bytes between this process and a child's pipes with `poll`, all at once, so neither side
/// ever waits on a full pipe (no deadlock on big output or big input). Blocking; run it on its own thread.
public struct PipePump {
    /// Our end of the child's stdin, and what to write to it; closed when everything is written.
    public var input: (fd: Int32, data: Data)?
    /// Our ends of the child's output pipes; each is closed at end-of-file.
    public var outputs: [Int32]
    /// Called with every chunk read, and the index in `outputs` it came from.
    public var onRead: (Int, [UInt8]) -> Void

    static let chunkSize = 64 * 1024

    public init(input: (fd: Int32, data: Data)?, outputs: [Int32], onRead: @escaping (Int, [UInt8]) -> Void) {
        self.input = input
        self.outputs = outputs
        self.onRead = onRead
    }

    public mutating func run() {
        var open = outputs.map { _ in true }
        var written = 0
        var inputFD = input?.fd ?? -1
        if inputFD >= 0 {
            _ = fcntl(inputFD, F_SETFL, fcntl(inputFD, F_GETFL) | O_NONBLOCK)
            if input?.data.isEmpty ?? true {
                close(inputFD)
                inputFD = -1
            }
        }
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        while inputFD >= 0 || open.contains(true) {
            var polled: [pollfd] = []
            var owners: [Int] = []  // index into outputs, or -1 for the input
            for (index, fd) in outputs.enumerated() where open[index] {
                polled.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                owners.append(index)
            }
            if inputFD >= 0 {
                polled.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0))
                owners.append(-1)
            }
            let ready = poll(&polled, nfds_t(polled.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for (slot, entry) in polled.enumerated() where entry.revents != 0 {
                let owner = owners[slot]
                if owner >= 0 {
                    let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, Self.chunkSize) }
                    if count > 0 {
                        onRead(owner, Array(buffer[0..<count]))
                    } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                        close(entry.fd)
                        open[owner] = false
                    }
                } else if let data = input?.data {
                    let count = data.withUnsafeBytes { bytes in
                        write(inputFD, bytes.baseAddress! + written, min(Self.chunkSize, data.count - written))
                    }
                    if count > 0 {
                        written += count
                    }
                    if written >= data.count || (count < 0 && errno != EINTR && errno != EAGAIN) {
                        close(inputFD)
                        inputFD = -1
                    }
                }
            }
        }
        for (index, fd) in outputs.enumerated() where open[index] { close(fd) }
        if inputFD >= 0 { close(inputFD) }
    }
}
