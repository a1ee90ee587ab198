import AgentHooks
import Foundation
import TaskCore

/// Reads a local hook log from a byte offset and parses its lines on a thread of its own, one
/// 4 MiB chunk ahead of the caller, who stores each batch: parsing the next chunk overlaps storing
/// this one (the two halves of a catch-up take about as long as each other).
final class HookLogReader: @unchecked Sendable {
    /// The complete lines of one chunk, parsed, and the offset just past the last.
    struct Batch {
        var lines: [LogLine]
        var committed: Int64
    }

    private let condition = NSCondition()
    private var ready: [Batch] = []
    /// Stored batches handed back, to be freed on the reader's thread (off the caller's).
    private var used: [Batch] = []
    private var finished = false
    private var cancelled = false
    private let stopped = DispatchSemaphore(value: 0)
    /// How many parsed chunks may wait for the caller.
    private let depth = 2

    /// Starts reading `fd` (positioned at `offset`); the caller keeps `fd` open until ``close()``.
    init(fd: Int32, offset: Int64) {
        Thread { [self] in
            var splitter = HookLineSplitter(startOffset: offset)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)   // one buffer, reused for every read
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                let lines = splitter.feed(buffer[0..<n])
                if lines.isEmpty { continue }
                let batch = Batch(
                    lines: lines.filter { !$0.isBlank }.map { LogLine(record: $0.record, endOffset: $0.endOffset) },
                    committed: splitter.committedOffset)
                guard put(batch) else { break }
                let spent = condition.withLock {
                    defer { used.removeAll(keepingCapacity: true) }
                    return used
                }
                _ = spent   // freed here
            }
            condition.withLock {
                finished = true
                condition.broadcast()
            }
            stopped.signal()
        }.start()
    }

    /// The next batch in log order; nil at the end of what the log held.
    func next() -> Batch? {
        condition.withLock {
            while ready.isEmpty && !finished { condition.wait() }
            guard !ready.isEmpty else { return nil }
            let batch = ready.removeFirst()
            condition.broadcast()
            return batch
        }
    }

    /// Hands a stored batch back so its memory is freed on the reader's thread.
    func recycle(_ batch: Batch) {
        condition.withLock { used.append(batch) }
    }

    /// Stops the reader and waits for its thread (call before closing the file).
    func close() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
        stopped.wait()
    }

    private func put(_ batch: Batch) -> Bool {
        condition.withLock {
            while ready.count >= depth && !cancelled { condition.wait() }
            guard !cancelled else { return false }
            ready.append(batch)
            condition.broadcast()
            return true
        }
    }
}
