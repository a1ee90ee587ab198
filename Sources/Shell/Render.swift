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

    /// The `list` table, written row by row as the rows are read.
    static func taskTable(_ filter: TaskFilter, ctx: CommandContext) throws {
        let style = ctx.style
        let store = try ctx.store()
        let statusText = Dictionary(uniqueKeysWithValues: TaskStatus.allCases.map { ($0, status($0, style)) })
        let t = now()
        var header = false
        let idw = 6, pw = 12
        try store.forEachListRow(filter) { row in
            if !header {
                ctx.out.line(style.bold(pad("ID", idw) + "  " + pad("STATUS", 10) + "  " + pad("PROJECT", pw) + "  AGE  TITLE"))
                header = true
            }
            var line = "#" + String(row.id)
            if line.utf8.count < idw { line += String(repeating: " ", count: idw - line.utf8.count) }
            line += "  " + statusText[row.status]! + "  " + pad(clip(row.projectName ?? "-", pw), pw)
            line += "  " + pad(formatAge(row.createdAt, now: t), 3) + "  " + row.title + "\n"
            ctx.out.write(line)
        }
        if !header {
            ctx.out.line(style.dim("no tasks; create one with: new \"<title>\" --prompt \"<what to do>\""))
        }
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
