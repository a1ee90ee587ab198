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
        let statuses = TaskStatus.allCases.map { (name: Array($0.rawValue.utf8), text: Array(status($0, style).utf8)) }
        let t = now()
        let idw = 6, pw = 12
        var header = false
        var out: [UInt8] = []
        out.reserveCapacity(80 * 1024)
        let store = try ctx.store()
        let projectNames = try store.projectNames().mapValues { Array($0.utf8) }
        try store.forEachListRow(filter) { row in
            if !header {
                ctx.out.line(style.bold(pad("ID", idw) + "  " + pad("STATUS", 10) + "  " + pad("PROJECT", pw) + "  AGE  TITLE"))
                header = true
            }
            let start = out.count
            out.append(UInt8(ascii: "#"))
            appendDecimal(row.id, to: &out)
            while out.count - start < idw { out.append(0x20) }
            out.append(0x20)
            out.append(0x20)
            if let known = statuses.first(where: { $0.name.elementsEqual(row.status) }) {
                out.append(contentsOf: known.text)
            } else {
                out.append(contentsOf: row.status)
            }
            out.append(0x20)
            out.append(0x20)
            if let id = row.projectID, let name = projectNames[id] {
                name.withUnsafeBufferPointer { appendClipped($0, width: pw, to: &out) }
            } else {
                out.append(UInt8(ascii: "-"))
                for _ in 1..<pw { out.append(0x20) }
            }
            out.append(0x20)
            out.append(0x20)
            appendAge(max(0, Int64(t - row.createdAt)), to: &out)
            out.append(0x20)
            out.append(0x20)
            out.append(contentsOf: row.title)
            out.append(0x0A)
            if out.count >= 64 * 1024 {
                ctx.out.write(bytes: out)
                out.removeAll(keepingCapacity: true)
            }
        }
        ctx.out.write(bytes: out)
        if !header {
            ctx.out.line(style.dim("no tasks; create one with: new \"<title>\" --prompt \"<what to do>\""))
        }
    }

    /// The age as `formatAge` writes it (`3s`, `5m`, `2h`, `4d`), padded to 3 columns.
    static func appendAge(_ seconds: Int64, to out: inout [UInt8]) {
        let start = out.count
        let (value, unit): (Int64, UInt8) =
            seconds < 60 ? (seconds, UInt8(ascii: "s"))
            : seconds < 3600 ? (seconds / 60, UInt8(ascii: "m"))
            : seconds < 86400 ? (seconds / 3600, UInt8(ascii: "h")) : (seconds / 86400, UInt8(ascii: "d"))
        appendDecimal(value, to: &out)
        out.append(unit)
        while out.count - start < 3 { out.append(0x20) }
    }

    static func appendDecimal(_ n: Int64, to out: inout [UInt8]) {
        if n < 0 {
            out.append(contentsOf: String(n).utf8)
            return
        }
        let start = out.count
        var v = n
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        } while v > 0
        out[start...].reverse()
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
        if let v = t.sandbox { fields.append(("sandbox", v)) }
        if let v = t.branch { fields.append(("branch", v)) }
        if let v = t.worktreePath { fields.append(("worktree", v)) }
        if let v = t.sessionID { fields.append(("session", v)) }
        for (k, v) in fields { ctx.out.line(s.dim(pad(k, 10)) + " " + v) }
        ctx.out.line(s.dim("prompt"))
        for l in t.prompt.split(separator: "\n", omittingEmptySubsequences: false) { ctx.out.line("  " + l) }
        if !logs.isEmpty {
            ctx.out.line(s.dim("log"))
            for l in logs { ctx.out.line("  " + s.dim(formatTimestamp(l.createdAt)) + " " + l.kind + ": " + l.message) }
        }
    }
}
