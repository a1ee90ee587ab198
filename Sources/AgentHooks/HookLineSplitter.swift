import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream read from a hook log into complete lines, tracking exact byte offsets.
///
/// Feed it the chunks read from the log, in order, starting at ``init(startOffset:maxLineBytes:)``'s
/// offset. Each complete line (terminated by `\n`) comes out once, without its newline, together
/// with the log offset just past that newline — the offset to store once the line is ingested, so
/// a restart resumes exactly after it. A partial trailing line is held until its newline arrives.
///
/// A line longer than `maxLineBytes` is not buffered whole: its first `maxLineBytes` bytes are kept,
/// the rest is counted and dropped, and it comes out as one ``Line`` with ``Line/isTruncated`` set
/// once its newline is read, so memory stays bounded and offsets stay exact.
public struct HookLineSplitter: Sendable {
    /// One complete line of the log.
    public struct Line: Sendable, Equatable {
        /// The line's bytes without the `\n` (only the first `maxLineBytes` when truncated).
        public var bytes: [UInt8]
        /// The log offset just past this line's `\n`.
        public var endOffset: Int64
        /// The line's full length in bytes, without the `\n`.
        public var length: Int

        /// Creates a line.
        public init(bytes: [UInt8], endOffset: Int64, length: Int) {
            self.bytes = bytes
            self.endOffset = endOffset
            self.length = length
        }

        /// Whether the line was longer than the splitter's maximum, so `bytes` holds only its start.
        public var isTruncated: Bool { length > bytes.count }

        /// Whether the line holds only spaces, tabs or a `\r` (such lines carry no event).
        public var isBlank: Bool {
            bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        }

        /// The line parsed as a hook record.
        public var record: HookRecord {
            HookRecord(line: bytes, truncatedFrom: isTruncated ? length : nil)
        }
    }

    /// The default longest line kept whole: 1 MiB.
    public static let defaultMaxLineBytes = 1 << 20

    /// The longest line kept whole, in bytes.
    public let maxLineBytes: Int
    /// The log offset just past the last complete line emitted (the start offset before any).
    public private(set) var committedOffset: Int64
    private var pending: [UInt8] = []
    private var pendingLength = 0

    /// Creates a splitter for a log read from `startOffset` (which must be a line start).
    public init(startOffset: Int64 = 0, maxLineBytes: Int = HookLineSplitter.defaultMaxLineBytes) {
        self.committedOffset = startOffset
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// The number of bytes read past ``committedOffset`` that belong to a line not yet complete.
    public var pendingByteCount: Int { pendingLength }

    /// Consumes the next chunk of the log and returns the lines it completes, in order.
    public mutating func feed(_ chunk: some Collection<UInt8>) -> [Line] {
        if let array = chunk as? [UInt8] { return feedBytes(array[...]) }
        if let slice = chunk as? ArraySlice<UInt8> { return feedBytes(slice) }
        return feedBytes(Array(chunk)[...])
    }

    /// Consumes the next chunk of the log given as `Data`.
    public mutating func feed(_ data: Data) -> [Line] {
        feedBytes([UInt8](data)[...])
    }

    private mutating func feedBytes(_ chunk: ArraySlice<UInt8>) -> [Line] {
        var lines: [Line] = []
        var segmentStart = chunk.startIndex
        while let newline = Self.newlineIndex(in: chunk, from: segmentStart) {
            append(chunk[segmentStart..<newline])
            committedOffset += Int64(pendingLength) + 1
            lines.append(Line(bytes: pending, endOffset: committedOffset, length: pendingLength))
            pending = []
            pendingLength = 0
            segmentStart = newline + 1
        }
        append(chunk[segmentStart...])
        return lines
    }

    /// The index of the first `\n` at or after `start` (`memchr`, fast even in debug builds).
    private static func newlineIndex(in chunk: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard start < chunk.endIndex else { return nil }
        let offset = start - chunk.startIndex
        let distance: Int? = chunk.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            guard let found = memchr(base + offset, 0x0A, raw.count - offset) else { return nil }
            return UnsafeRawPointer(found) - base
        }
        return distance.map { chunk.startIndex + $0 }
    }

    private mutating func append(_ segment: ArraySlice<UInt8>) {
        let count = segment.count
        guard count > 0 else { return }
        let room = maxLineBytes - pending.count
        if room >= count {
            pending.append(contentsOf: segment)
        } else if room > 0 {
            pending.append(contentsOf: segment.prefix(room))
        }
        pendingLength += count
    }
}
