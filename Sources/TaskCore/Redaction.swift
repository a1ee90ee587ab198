/// Keeps secrets out of the history: a line that sets a token or key is stored redacted.
public enum SecretRedactor {
    static let mask = "********"
    static let secretWords = ["token", "key", "secret", "password", "passwd", "credential"]

    /// The line with every secret value replaced by a mask; the line itself if it has none.
    public static func redact(_ line: String) -> String {
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var maskNext = false
        for i in words.indices {
            let w = words[i]
            if maskNext, !w.isEmpty, !w.hasPrefix("-") {
                words[i] = mask
                maskNext = false
                continue
            }
            // `sprite token <value>`
            if w == "token", i > 0, words[i - 1] == "sprite" { maskNext = true; continue }
            // `--token value`, `--api-key value`
            if w.hasPrefix("--"), isSecretName(String(w.dropFirst(2))), !w.contains("=") {
                maskNext = true
                continue
            }
            // `NAME=value` or `--name=value`
            if let eq = w.firstIndex(of: "=") {
                let name = w[..<eq].trimmingPrefix("--")
                if isSecretName(String(name)) {
                    words[i] = String(w[...eq]) + mask
                    continue
                }
            }
            if looksLikeSecretValue(w) { words[i] = mask }
        }
        return words.joined(separator: " ")
    }

    static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretWords.contains { lower.contains($0) }
    }

    /// Well-known token shapes: Anthropic keys, GitHub tokens, Sprites tokens (org/id/id/value).
    static func looksLikeSecretValue(_ w: String) -> Bool {
        let trimmed = w.trimmingCharacters(in: ["'", "\""])
        if trimmed.hasPrefix("sk-ant-") || trimmed.hasPrefix("ghp_") || trimmed.hasPrefix("github_pat_") {
            return true
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count >= 3 }
            && parts[3].count >= 16 && !trimmed.contains(".")
    }
}

extension Character {
    fileprivate static let quotes: Set<Character> = ["'", "\""]
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
