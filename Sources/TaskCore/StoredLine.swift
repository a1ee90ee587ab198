import Foundation

/// How a hook line is kept in `hook_events.raw_json`, byte for byte recoverable.
///
/// The hook script writes `{"task":N,"event":"E","ts":T,"data":P}`. The task and the event are
/// the row's `task_id` and `event` already, so a line of exactly that shape is stored as
/// `\u{1}T,P` — about 45 bytes a line (8 % of a typical one) not kept twice — and its
/// `appended_at` is read from `T` rather than stored. Any other line (malformed, cut short, from
/// an older hook script) is kept whole; one that would itself start with byte 1 or 2 gets a
/// byte 2 in front. Readers get the line back with ``shape(_:)`` or ``expand(_:taskID:event:)``.
public enum StoredLine {
    static let compactMark: UInt8 = 1
    static let escapeMark: UInt8 = 2

    /// A stored value, taken apart without a copy.
    public enum Shape {
        /// The line as it was.
        case whole(UnsafeBufferPointer<UInt8>)
        /// A line of the hook script's shape: its `ts` and `data` bytes.
        case compact(ts: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>)
    }

    public static func shape(_ stored: UnsafeBufferPointer<UInt8>) -> Shape {
        guard let first = stored.first else { return .whole(stored) }
        if first == escapeMark { return .whole(UnsafeBufferPointer(rebasing: stored[1...])) }
        guard first == compactMark, let comma = stored[1...].firstIndex(of: UInt8(ascii: ",")) else { return .whole(stored) }
        return .compact(ts: UnsafeBufferPointer(rebasing: stored[1..<comma]), data: UnsafeBufferPointer(rebasing: stored[(comma + 1)...]))
    }

    /// The bytes to store for `line` (the line of an event named `event` for task `taskID`) into
    /// `out`, replacing what it held.
    public static func store(_ line: UnsafeBufferPointer<UInt8>, taskID: Int64?, event: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        if let (ts, data) = parts(line, taskID: taskID, event: event) {
            out.reserveCapacity(ts.count + data.count + 2)
            out.append(compactMark)
            out.append(contentsOf: ts)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: data)
            return
        }
        if let first = line.first, first == compactMark || first == escapeMark { out.append(escapeMark) }
        out.append(contentsOf: line)
    }

    /// The line back, as the hook script wrote it.
    public static func expand(_ stored: String, taskID: Int64?, event: String) -> String {
        var stored = stored
        return stored.withUTF8 { bytes in
            switch shape(bytes) {
            case .whole(let line):
                return String(decoding: line, as: UTF8.self)
            case .compact(let ts, let data):
                return "{\"task\":\(taskID ?? 0),\"event\":\"\(event)\",\"ts\":" + String(decoding: ts, as: UTF8.self)
                    + ",\"data\":" + String(decoding: data, as: UTF8.self) + "}"
            }
        }
    }

    /// The time a compact line was appended (its `ts`), which its row does not store.
    public static func appendedAt(ts: UnsafeBufferPointer<UInt8>) -> Double? {
        // Seconds and up to nine decimals (what `date +%s.%N` writes) without strtod, which took
        // 6 % of `events --json`.
        var whole: Int64 = 0, fraction: Int64 = 0, decimals = -1
        for b in ts {
            if b == UInt8(ascii: ".") {
                guard decimals < 0 else { return nil }
                decimals = 0
            } else if decimals < 0 {
                guard whole < 1 << 40 else { return slowAppendedAt(ts) }
                whole = whole * 10 + Int64(b &- 0x30)
            } else {
                guard decimals < 9 else { return slowAppendedAt(ts) }
                fraction = fraction * 10 + Int64(b &- 0x30)
                decimals += 1
            }
        }
        guard !ts.isEmpty else { return nil }
        return decimals <= 0 ? Double(whole) : Double(whole) + Double(fraction) / Self.powersOfTen[decimals]
    }

    private static let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    static func slowAppendedAt(_ ts: UnsafeBufferPointer<UInt8>) -> Double? {
        guard ts.count < 40 else { return nil }
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &text) { buffer -> Double? in
            buffer.copyBytes(from: UnsafeRawBufferPointer(ts))
            return buffer.withMemoryRebound(to: CChar.self) { chars -> Double? in
                var end: UnsafeMutablePointer<CChar>?
                let value = strtod(chars.baseAddress!, &end)
                return end == chars.baseAddress! + ts.count ? value : nil
            }
        }
    }

    /// The `ts` and `data` of a line of exactly the hook script's shape whose task and event are
    /// `taskID` and `event` (a name of letters, digits and `_`); nil for any other line.
    static func parts(_ line: UnsafeBufferPointer<UInt8>, taskID: Int64?, event: UnsafeBufferPointer<UInt8>)
        -> (ts: UnsafeBufferPointer<UInt8>, data: UnsafeBufferPointer<UInt8>)? {
        guard let taskID, taskID >= 0, !event.isEmpty, line.count > 40, line.last == UInt8(ascii: "}") else { return nil }
        var i = 0
        func expect(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i + n <= line.count, memcmp(line.baseAddress! + i, s.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }
        guard expect("{\"task\":") else { return nil }
        // The task number in its canonical decimal form.
        let digitsStart = i
        var value: Int64 = 0
        while i < line.count, line[i] >= 0x30, line[i] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(line[i] - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
            i += 1
        }
        let digits = i - digitsStart
        guard digits > 0, value == taskID, digits == 1 || line[digitsStart] != 0x30 else { return nil }
        guard expect(",\"event\":\"") else { return nil }
        for b in event {
            let plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
            guard plain, i < line.count, line[i] == b else { return nil }
            i += 1
        }
        guard expect("\",\"ts\":") else { return nil }
        let tsStart = i
        while i < line.count, (line[i] >= 0x30 && line[i] <= 0x39) || line[i] == UInt8(ascii: ".") { i += 1 }
        let tsEnd = i
        guard tsEnd > tsStart, expect(",\"data\":"), i < line.count - 1 else { return nil }
        return (UnsafeBufferPointer(rebasing: line[tsStart..<tsEnd]), UnsafeBufferPointer(rebasing: line[i..<(line.count - 1)]))
    }
}
