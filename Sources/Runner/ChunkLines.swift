import Foundation

/// The complete lines of a chunk read from a JSON-lines file (a transcript) at some offset, and
/// how far they reach: the next read starts `consumed` bytes further. A partial last line is left
/// for the next read; a chunk of `limit` bytes without a newline — one line longer than a chunk —
/// is skipped whole rather than read without end.
struct ChunkLines {
    /// The non-empty complete lines, without their newlines.
    var lines: [Data] = []
    /// Bytes of the chunk accounted for.
    var consumed: Int64
    /// Whether an overlong line was skipped.
    var skippedOverlong: Bool
    /// Whether the chunk was as long as asked: more of the file may follow at once.
    var more: Bool

    init(_ data: Data, limit: Int64) {
        var start = data.startIndex
        while let newline = data[start...].firstIndex(of: 0x0A) {
            if newline > start { lines.append(Data(data[start..<newline])) }
            start = newline + 1
        }
        more = Int64(data.count) >= limit
        skippedOverlong = start == data.startIndex && more
        consumed = skippedOverlong ? Int64(data.count) : Int64(start - data.startIndex)
    }
}
