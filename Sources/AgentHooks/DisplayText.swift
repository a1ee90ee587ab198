/// Turns arbitrary payload text into one short, safe display line.
public enum DisplayText {
    /// The default maximum length of a summary, in characters.
    public static let defaultLimit = 120

    /// The first non-blank line of `text`, with control characters removed, runs of whitespace
    /// collapsed, and cut to `limit` characters. An ellipsis (`…`) marks text that was cut or that
    /// had further non-blank lines.
    public static func oneLine(_ text: String, limit: Int = defaultLimit) -> String {
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        guard let index = lines.firstIndex(where: { !clean($0).isEmpty }) else { return "" }
        let first = clean(lines[index])
        let more = lines[lines.index(after: index)...].contains { !clean($0).isEmpty }
        return truncate(first, limit: limit, forceEllipsis: more)
    }

    /// `text` without control characters (C0, DEL, C1; tabs and newlines become spaces), with runs
    /// of spaces collapsed and the ends trimmed.
    public static func clean(_ text: some StringProtocol) -> String {
        var result = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
            if isSpace {
                pendingSpace = !result.isEmpty
                continue
            }
            if scalar.properties.generalCategory == .control { continue }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    /// `text` cut to at most `limit` characters, the last being `…` when anything was cut.
    static func truncate(_ text: String, limit: Int, forceEllipsis: Bool = false) -> String {
        let limit = max(limit, 1)
        if text.count <= limit && !forceEllipsis { return text }
        if text.count < limit { return text + "…" }
        return String(text.prefix(limit - 1)) + "…"
    }
}
