/// POSIX `sh` quoting.
///
/// Named `ShellQuote` rather than `Shell` because the package already has a module called `Shell`;
/// a public type with a module's name makes `Shell.X` ambiguous in every module that sees both.
public enum ShellQuote {
    /// Returns `text` as one `sh` word that expands to exactly `text`.
    ///
    /// The text is wrapped in single quotes; each `'` inside becomes `'\''`. Inside single quotes
    /// the shell interprets nothing (`$`, backticks, `\`, newlines are all literal), so the result is
    /// safe for any input. The empty string becomes `''`.
    public static func quote(_ text: String) -> String {
        var quoted = "'"
        for scalar in text.unicodeScalars {
            if scalar == "'" {
                quoted += #"'\''"#
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        quoted += "'"
        return quoted
    }

    /// `text` unchanged when it is a non-empty run of letters, digits and `_ - . / , : @ % + =`
    /// (characters `sh` never treats specially), otherwise ``quote(_:)``.
    public static func quoteIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-./,:@%+=".unicodeScalars.contains(scalar))
        }
        return plain ? text : quote(text)
    }

    /// Joins `words` into one `sh` command line, quoting every word.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
