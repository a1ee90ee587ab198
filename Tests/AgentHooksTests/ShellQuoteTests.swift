import Foundation
import Testing
@testable import AgentHooks

@Suite struct ShellQuoteTests {
    @Test(arguments: nastyTexts)
    func quotedWordExpandsToItself(text: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { removeTree(dir) }
        let result = try runProcess(["sh", "-c", "printf '%s' \(ShellQuote.quote(text))"], cwd: dir)
        #expect(result.status == 0)
        #expect(result.stdout == text)
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"))
    }

    @Test func joinKeepsWordBoundaries() throws {
        let words = ["a b", "it's", "", "$(x)", "c\nd"]
        let result = try runProcess(["sh", "-c", "for w in \(ShellQuote.join(words)); do printf '<%s>' \"$w\"; done"])
        #expect(result.stdout == words.map { "<\($0)>" }.joined())
    }

    @Test func quoteIfNeededLeavesPlainWords() {
        #expect(ShellQuote.quoteIfNeeded("PreToolUse") == "PreToolUse")
        #expect(ShellQuote.quoteIfNeeded("/a/b-c_d.e") == "/a/b-c_d.e")
        #expect(ShellQuote.quoteIfNeeded("a b") == "'a b'")
        #expect(ShellQuote.quoteIfNeeded("") == "''")
        #expect(ShellQuote.quoteIfNeeded("x$y") == "'x$y'")
        #expect(ShellQuote.quote("it's") == #"'it'\''s'"#)
    }
}
