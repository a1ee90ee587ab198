import Foundation
import Testing

@testable import Shell
@testable import TaskCore

@Suite("Tokenizer")
struct TokenizerTests {
    @Test func splitsWordsAndCommands() throws {
        #expect(try Tokenizer.commands("new x; list --all") == [["new", "x"], ["list", "--all"]])
        #expect(try Tokenizer.commands("new 'a b' \"c \\\"d\\\"\" e\\ f") == [["new", "a b", "c \"d\"", "e f"]])
        #expect(try Tokenizer.commands("new 'semi;colon' # comment") == [["new", "semi;colon"]])
        #expect(try Tokenizer.commands("  ") == [])
        #expect(try Tokenizer.commands("new ''") == [["new", ""]])
    }

    @Test func unterminatedQuotesAreErrors() {
        #expect(throws: TaskError.usage("unterminated ' quote")) { try Tokenizer.commands("new 'oops") }
        #expect(throws: TaskError.usage("unterminated \" quote")) { try Tokenizer.commands("new \"oops") }
    }

    @Test(arguments: ["plain", "two words", "it's", "$(rm -rf x)", "a;b", "", "#hash", "new\nline"])
    func quoteRoundTrips(word: String) throws {
        #expect(try Tokenizer.commands("x " + Tokenizer.quote(word)) == [["x", word]])
    }
}

@Suite("Suggestions")
struct SuggestTests {
    @Test func nearestCommand() {
        let names = CommandModel.root.topLevelNames
        #expect(Suggest.nearest("lsit", in: names) == "list")
        #expect(Suggest.nearest("shwo", in: names) == "show")
        #expect(Suggest.nearest("proj", in: names) == "project")
        #expect(Suggest.nearest("zzzzzz", in: names) == nil)
    }
}

@Suite("Command model")
struct CommandModelTests {
    @Test func readsTheCommandTreeFromArgumentParser() {
        let root = CommandModel.root
        #expect(root.topLevelNames.contains("list"))
        #expect(root.topLevelNames.contains("ls"))
        #expect(root.subcommand(named: "project")?.subcommands?.map(\.commandName) == ["add", "list", "remove"])
        let show = root.subcommand(named: "show")
        #expect(show?.arguments?.first(where: \.isPositional)?.valueName == "id")
        #expect(show?.arguments?.flatMap(\.flags).contains("--json") == true)
    }
}

@Suite("Completion")
struct CompleterTests {
    let store: TaskStore
    let completer: Completer

    init() throws {
        let dir = NSTemporaryDirectory() + "task-completion-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let s = try TaskStore(path: dir + "/t.db")
        _ = try s.addProject(name: "webapp", path: dir)
        _ = try s.createTask(title: "Fix login", prompt: "", projectName: nil)
        _ = try s.createTask(title: "Write docs", prompt: "", projectName: nil)
        for _ in 3...12 { _ = try s.createTask(title: "filler", prompt: "", projectName: nil) }
        store = s
        completer = Completer(store: { s })
    }

    @Test func completesCommandNames() {
        #expect(completer.action(for: "li") == .insert("st "))
        #expect(completer.action(for: "pro") == .insert("ject "))
        #expect(completer.action(for: "zz") == .none)
    }

    @Test func completesSubcommandsFlagsAndValues() {
        #expect(completer.action(for: "project a") == .insert("dd "))
        #expect(completer.action(for: "list --st") == .insert("atus "))
        #expect(completer.action(for: "list --status bl") == .insert("ocked "))
        #expect(completer.action(for: "new x --project w") == .insert("ebapp "))
        #expect(completer.action(for: "config set verbose o") == .list(["on", "off"]))
        #expect(completer.action(for: "config get max") == .insert("_"))
        #expect(completer.action(for: "config get max_r") == .insert("unning "))
    }

    @Test func listsTaskIdsWithTitles() {
        guard case .list(let lines) = completer.action(for: "show ") else {
            Issue.record("expected a list")
            return
        }
        #expect(lines.first == "1  Fix login  (backlog)")
        #expect(lines.count == 12)
        #expect(completer.action(for: "show 2") == .insert(" "))
        // 1, 10, 11, 12 share the prefix "1"
        if case .list(let ones) = completer.action(for: "show 1") {
            #expect(ones.count == 4)
        } else {
            Issue.record("expected a list for the prefix 1")
        }
    }
}

/// Checkpoint and session ids come from the sprite, through the completer's remote lookup.
@Suite("remote completion")
struct RemoteCompletionTests {
    @Test func checkpointAndSessionArgumentsAskTheSprite() {
        var completer = Completer(store: { nil })
        completer.remote = { kind in
            kind == "checkpoint"
                ? [.init(word: "v0", display: "v0  first"), .init(word: "v1", display: "v1  second")]
                : [.init(word: "4242", display: "4242  active  bash")]
        }
        #expect(completer.action(for: "sprite restore v") == .list(["v0  first", "v1  second"]))
        #expect(completer.action(for: "sprite attach ") == .insert("4242 "))
        #expect(completer.action(for: "show ") == .none, "task ids are not checkpoint ids")
    }
}
