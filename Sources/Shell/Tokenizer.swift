import TaskCore

/// Splits a shell line into commands (separated by `;` or newlines) and words, with the
/// quoting people expect: '...' literal, "..." with \" \\ \$ escapes, \ outside quotes.
/// A `#` at the start of a word begins a comment.
public enum Tokenizer {
    public static func commands(_ line: String) throws -> [[String]] {
        var result: [[String]] = []
        var words: [String] = []
        var word = ""
        var inWord = false
        var it = Array(line.unicodeScalars)[...]
        func endWord() {
            if inWord { words.append(word) }
            word = ""
            inWord = false
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { result.append(words) }
            words = []
        }
        while let c = it.popFirst() {
            switch c {
            case " ", "\t", "\r":
                endWord()
            case ";", "\n":
                endCommand()
            case "#" where !inWord:
                while let n = it.first, n != "\n" { it.removeFirst() }
            case "\\":
                guard let n = it.popFirst() else { throw TaskError.usage("the line ends with a lone \\") }
                if n != "\n" { word.unicodeScalars.append(n) }
                inWord = true
            case "'":
                inWord = true
                var closed = false
                while let n = it.popFirst() {
                    if n == "'" { closed = true; break }
                    word.unicodeScalars.append(n)
                }
                if !closed { throw TaskError.usage("unterminated ' quote") }
            case "\"":
                inWord = true
                var closed = false
                while let n = it.popFirst() {
                    if n == "\"" { closed = true; break }
                    if n == "\\", let e = it.first, e == "\"" || e == "\\" || e == "$" || e == "`" {
                        word.unicodeScalars.append(e)
                        it.removeFirst()
                        continue
                    }
                    word.unicodeScalars.append(n)
                }
                if !closed { throw TaskError.usage("unterminated \" quote") }
            default:
                word.unicodeScalars.append(c)
                inWord = true
            }
        }
        endCommand()
        return result
    }

    /// Quotes a word so that `commands` reads it back unchanged.
    public static func quote(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_./:@%+=,#".unicodeScalars.contains($0))
                && $0 != "#"
        }
        if plain && !word.isEmpty { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
