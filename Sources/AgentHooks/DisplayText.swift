/// Turns arbitrary payload text into one short, safe display line.
public enum DisplayText {
    /// The default maximum length of a summary, in characters.
    public static let defaultLimit = 120

    /// The first non-blank line of `text`, with control characters removed, runs of whitespace
    /// collapsed, and cut to `limit` characters. An ellipsis (`…`) marks text that was cut or that
    /// had further non-blank lines.
    public static func oneLine(_ text: String, limit: Int = defaultLimit) -> String {
        // One pass over the bytes: the first line with anything visible, and whether another follows.
        let bytes = Array(text.utf8)
        var start = 0
        var first: String?
        var more = false
        while start < bytes.count {
            var end = start
            while end < bytes.count, lineBreakLength(bytes, end) == 0 { end += 1 }
            let line = cleanBytes(bytes[start..<end])
            if !line.isEmpty {
                if first == nil {
                    first = line
                } else {
                    more = true
                    break
                }
            }
            start = end + max(1, lineBreakLength(bytes, end))
        }
        guard let first else { return "" }
        return truncate(first, limit: limit, forceEllipsis: more)
    }

    /// The length of the line break at `i` as `Character.isNewline` sees them (LF, VT, FF, CR,
    /// CR LF, NEL, LS, PS), 0 for none.
    static func lineBreakLength(_ b: [UInt8], _ i: Int) -> Int {
        guard i < b.count else { return 0 }
        switch b[i] {
        case 0x0A, 0x0B, 0x0C: return 1
        case 0x0D: return i + 1 < b.count && b[i + 1] == 0x0A ? 2 : 1
        case 0xC2 where i + 1 < b.count && b[i + 1] == 0x85: return 2
        case 0xE2 where i + 2 < b.count && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9): return 3
        default: return 0
        }
    }

    /// `text` without control characters (C0, DEL, C1; tabs and newlines become spaces), with runs
    /// of spaces collapsed and the ends trimmed.
    public static func clean(_ text: some StringProtocol) -> String {
        cleanBytes(Array(text.utf8)[...])
    }

    /// `clean` over the UTF-8 bytes of valid text.
    static func cleanBytes(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var pendingSpace = false
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                pendingSpace = !out.isEmpty
                i += 1
                continue
            }
            // C0 controls and DEL; C1 controls are U+0080–U+009F, encoded C2 80 … C2 9F.
            if b < 0x20 || b == 0x7F {
                i += 1
                continue
            }
            if b == 0xC2, i + 1 < bytes.endIndex, (0x80...0x9F).contains(bytes[i + 1]) {
                i += 2
                continue
            }
            if pendingSpace {
                out.append(0x20)
                pendingSpace = false
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` cut to at most `limit` characters, the last being `…` when anything was cut.
    static func truncate(_ text: String, limit: Int, forceEllipsis: Bool = false) -> String {
        let limit = max(limit, 1)
        if text.count <= limit && !forceEllipsis { return text }
        if text.count < limit { return text + "…" }
        return String(text.prefix(limit - 1)) + "…"
    }
}
