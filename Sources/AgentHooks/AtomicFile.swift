import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file replacement that readers never see half-written: write a temporary file in the same
/// directory, `fsync` it, then `rename` it over the target.
enum AtomicFile {
    static func write(_ data: Data, to path: String, mode: mode_t) throws {
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TrustConfig.Failure.io(path: temporary, operation: "create", errno: errno) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw TrustConfig.Failure.io(path: temporary, operation: "write", errno: errno)
                    }
                    offset += written
                }
            }
            _ = fchmod(fd, mode)
            guard fsync(fd) == 0 else { throw TrustConfig.Failure.io(path: temporary, operation: "fsync", errno: errno) }
            closed = true
            guard close(fd) == 0 else { throw TrustConfig.Failure.io(path: temporary, operation: "close", errno: errno) }
            guard rename(temporary, path) == 0 else { throw TrustConfig.Failure.io(path: path, operation: "rename", errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
