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

    static func taskTable(_ tasks: [TaskRecord], ctx: CommandContext) {
        let style = ctx.style
        if tasks.isEmpty {
            ctx.out.line(style.dim("no tasks; create one with: new \"<title>\" --prompt \"<what to do>\""))
            return
        }
        let idw = max(2, String(tasks.last?.id ?? 0).count + 1)
        let pw = min(16, max(7, tasks.map { $0.projectName?.count ?? 1 }.max() ?? 1))
        let t = now()
        ctx.out.line(style.bold(pad("ID", idw) + "  " + pad("STATUS", 10) + "  " + pad("PROJECT", pw) + "  AGE  TITLE"))
        for task in tasks {
            var line = pad("#" + String(task.id), idw)
            line += "  " + status(task.status, style)
            line += "  " + pad(clip(task.projectName ?? "-", pw), pw)
            line += "  " + pad(formatAge(task.createdAt, now: t), 3)
            line += "  " + task.title
            ctx.out.line(line)
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
