import Foundation
import TaskCore

/// Tables and detail views for the terminal.
enum Render {
    static func pad(_ s: String, _ width: Int) -> String {
        let n = s.count
        return n >= width ? s : s + String(repeating: " ", count: width - n)
    }

    /// Cuts a string to `width` characters, ending in "…" when cut.
    static func clip(_ s: String, _ width: Int) -> String {
        guard s.count > width, width > 1 else { return s }
        return String(s.prefix(width - 1)) + "…"
    }

    static func jsonArray(_ items: [JSONText.Value], to out: Output) {
        if items.isEmpty {
            out.line("[]")
            return
        }
        out.write("[\n")
        for (i, item) in items.enumerated() {
            out.write(JSONText.render(item))
            out.write(i == items.count - 1 ? "\n" : ",\n")
        }
        out.line("]")
    }

    static func status(_ s: TaskStatus, _ style: Style) -> String {
        let text = pad(s.rawValue, 10)
        switch s {
        case .backlog: return style.dim(text)
        case .queued: return style.blue(text)
        case .processing: return style.cyan(text)
        case .blocked: return style.yellow(text)
        case .done: return style.green(text)
        case .failed, .cancelled: return style.red(text)
        }
    }

    /// The `list` table, written row by row as the rows are read, byte by byte: no String and no
    /// allocation per row, so 100 000 rows cost little more than SQLite's scan.
    static func taskTable(_ filter: TaskFilter, ctx: CommandContext) throws {
        let style = ctx.style
        // Each status's name and its coloured, padded column, in one byte array read by offset:
        // nothing per row is looked up, hashed or retained.
        var statusBytes: [UInt8] = []
        var statusSpans: [(name: Range<Int>, text: Range<Int>)] = []
        for s in TaskStatus.allCases {
            let n = statusBytes.count
            statusBytes += Array(s.rawValue.utf8)
            let t = statusBytes.count
            statusBytes += Array(status(s, style).utf8)
            statusSpans.append((n..<t, t..<statusBytes.count))
        }
        let t = now()
        let idw = 6, pw = 12
        var header = false
        var out = ByteWriter(capacity: 64 * 1024) { ctx.out.write(buffer: $0) }
        defer { out.release() }
        let store = try ctx.store()
        let projectNames = try store.projectNames().mapValues { Array($0.utf8) }
        // What each task that ran has cost, written before its title (`$0.08`).
        let costs = try store.taskCosts().mapValues { Array(style.dim(String(format: "$%.2f", $0)).utf8) + [0x20] }
        try statusBytes.withUnsafeBufferPointer { statusBuffer in
        try statusSpans.withUnsafeBufferPointer { spans in
        try store.forEachListRow(filter) { row in
            if !header {
                ctx.out.line(style.bold(pad("ID", idw) + "  " + pad("STATUS", 10) + "  " + pad("PROJECT", pw) + "  AGE  TITLE"))
                header = true
            }
            out.reserve(row.title.count + 256)   // a row never straddles a flush
            let start = out.count
            out.append(UInt8(ascii: "#"))
            out.appendDecimal(row.id)
            out.pad(to: start + idw)
            out.append(0x20)
            out.append(0x20)
            if let k = likelyStatus(row.status), spans[k].name.count == row.status.count,
               memcmp(statusBuffer.baseAddress! + spans[k].name.lowerBound, row.status.baseAddress!, row.status.count) == 0 {
                out.append(UnsafeBufferPointer(rebasing: statusBuffer[spans[k].text]))
            } else {
                out.append(row.status)
            }
            out.append(0x20)
            out.append(0x20)
            if let id = row.projectID, let name = projectNames[id] {
                var clipped: [UInt8] = []
                name.withUnsafeBufferPointer { appendClipped($0, width: pw, to: &clipped) }
                clipped.withUnsafeBufferPointer { out.append($0) }
            } else {
                out.append(UInt8(ascii: "-"))
                out.pad(to: out.count + pw - 1)
            }
            out.append(0x20)
            out.append(0x20)
            let ageStart = out.count
            out.appendAge(max(0, Int64(t - row.createdAt)))
            out.pad(to: ageStart + 3)
            out.append(0x20)
            out.append(0x20)
            if !costs.isEmpty, let cost = costs[row.id] { cost.withUnsafeBufferPointer { out.append($0) } }
            if row.sprite.count > 0 {
                // Which sprite of the pool it runs on, before its title.
                Array(style.dim("@" + String(decoding: row.sprite, as: UTF8.self)).utf8 + [0x20]).withUnsafeBufferPointer { out.append($0) }
            }
            if row.detail.count > 0 {
                // A blocked task says why it waits, in a word, before its title.
                let reason = BlockReason(detail: String(decoding: row.detail, as: UTF8.self))
                Array(style.yellow("(" + reason.rawValue + ")").utf8 + [0x20]).withUnsafeBufferPointer { out.append($0) }
            }
            out.append(row.title)
            out.append(0x0A)
        }
        }
        }
        out.flush()
        if !header {
            ctx.out.line(style.dim("no tasks; create one with: new \"<title>\" --prompt \"<what to do>\""))
        }
    }

    /// The index in `TaskStatus.allCases` of the status a stored name most likely is (the caller
    /// checks the bytes).
    static func likelyStatus(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
        guard name.count >= 2 else { return nil }
        let i = StatusOrder.shared
        switch name.count {
        case 7: return name[1] == UInt8(ascii: "l") ? i.blocked : i.backlog
        case 6: return name[0] == UInt8(ascii: "q") ? i.queued : i.failed
        case 10: return i.processing
        case 4: return i.done
        case 9: return i.cancelled
        default: return nil
        }
    }

    /// UTF-8 text cut to `width` characters (the last one "…" when cut) and padded with spaces.
    static func appendClipped(_ text: UnsafeBufferPointer<UInt8>, width: Int, to out: inout [UInt8]) {
        var chars = 0
        for b in text where b & 0xC0 != 0x80 { chars += 1 }
        if chars <= width {
            out.append(contentsOf: text)
            for _ in chars..<width { out.append(0x20) }
            return
        }
        var kept = 0
        for b in text {
            if b & 0xC0 != 0x80 {
                if kept == width - 1 { break }
                kept += 1
            }
            out.append(b)
        }
        out.append(0xE2)  // "…"
        out.append(0x80)
        out.append(0xA6)
    }

    static func taskDetail(_ t: TaskRecord, logs: [TaskLogEntry], ctx: CommandContext) {
        let s = ctx.style
        ctx.out.line(s.bold("#\(t.id) \(t.title)"))
        var fields: [(String, String)] = [("status", t.status.rawValue + (t.statusDetail.map { " — \($0)" } ?? ""))]
        fields.append(("project", t.projectName ?? "-"))
        fields.append(("created", formatTimestamp(t.createdAt)))
        if let v = t.startedAt { fields.append(("started", formatTimestamp(v))) }
        if let v = t.finishedAt { fields.append(("finished", formatTimestamp(v))) }
        if let v = t.exitCode { fields.append(("exit code", String(v))) }
        if let v = t.sandbox { fields.append(("sandbox", v + (v == "sprite" ? " " + (t.site ?? "") : ""))) }
        if let v = t.branch { fields.append(("branch", v)) }
        if let v = t.worktreePath { fields.append(("worktree", v)) }
        if let v = t.sessionID { fields.append(("session", v)) }
        if let v = UsageView.costLine(t.id, ctx: ctx) { fields.append(("cost", v)) }
        for (k, v) in fields { ctx.out.line(s.dim(pad(k, 10)) + " " + v) }
        ctx.out.line(s.dim("prompt"))
        for l in t.prompt.split(separator: "\n", omittingEmptySubsequences: false) { ctx.out.line("  " + l) }
        if !logs.isEmpty {
            ctx.out.line(s.dim("log"))
            for l in logs {
                ctx.out.line("  " + s.dim(formatTimestamp(l.createdAt)) + " " + l.kind + ": "
                    + l.message.replacingOccurrences(of: "\n", with: "\n      "))
            }
        }
    }
}

/// A fixed byte buffer written without per-byte checks beyond room, handed to `flush` when full.
struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0
    private let sink: (UnsafeBufferPointer<UInt8>) -> Void

    init(capacity: Int, sink: @escaping (UnsafeBufferPointer<UInt8>) -> Void) {
        self.capacity = capacity
        self.base = .allocate(capacity: capacity)
        self.sink = sink
    }

    func release() { base.deallocate() }

    /// Flushes first unless `bytes` more fit (a bigger write goes out in pieces).
    mutating func reserve(_ bytes: Int) {
        if count + bytes > capacity { flush() }
    }

    mutating func flush() {
        if count > 0 { sink(UnsafeBufferPointer(start: base, count: count)) }
        count = 0
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { flush() }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard var from = bytes.baseAddress else { return }
        var left = bytes.count
        if count + left <= capacity {   // the usual case: one copy
            (base + count).update(from: from, count: left)
            count += left
            return
        }
        while left > 0 {
            if count == capacity { flush() }
            let n = min(left, capacity - count)
            (base + count).update(from: from, count: n)
            count += n
            from += n
            left -= n
        }
    }

    /// Spaces up to column `end` of what was written since the last flush (within the reserved room).
    mutating func pad(to end: Int) {
        guard end > count else { return }
        let n = min(end, capacity) - count
        (base + count).update(repeating: 0x20, count: n)
        count += n
    }

    mutating func appendDecimal(_ n: Int64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = n.magnitude
        var used = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - used] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                used += 1
            } while v > 0
        }
        if n < 0 { append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { d in
            append(UnsafeBufferPointer(start: d.baseAddress!.assumingMemoryBound(to: UInt8.self) + 20 - used, count: used))
        }
    }

    /// The age as `formatAge` writes it (`3s`, `5m`, `2h`, `4d`).
    mutating func appendAge(_ seconds: Int64) {
        let (value, unit): (Int64, UInt8) =
            seconds < 60 ? (seconds, UInt8(ascii: "s"))
            : seconds < 3600 ? (seconds / 60, UInt8(ascii: "m"))
            : seconds < 86400 ? (seconds / 3600, UInt8(ascii: "h")) : (seconds / 86400, UInt8(ascii: "d"))
        appendDecimal(value)
        append(unit)
    }
}

/// Where each status sits in `TaskStatus.allCases`.
struct StatusOrder {
    let backlog, queued, processing, blocked, done, failed, cancelled: Int

    static let shared: StatusOrder = {
        let all = TaskStatus.allCases
        func index(_ s: TaskStatus) -> Int { all.firstIndex(of: s)! }
        return StatusOrder(backlog: index(.backlog), queued: index(.queued), processing: index(.processing),
                           blocked: index(.blocked), done: index(.done), failed: index(.failed), cancelled: index(.cancelled))
    }()
}
