import Foundation
import Testing

/// Every command, run the three ways (one-shot, stdin script, -c), with exit codes and stderr.
@Suite("Commands in three modes")
struct CommandModeTests {
    @Test func listPrintsOneAlignedRowPerTask() async throws {
        let env = TaskEnv()
        #expect(try await env.run(["project", "add", "a-very-long-project-name", makeTemporaryFolder()]).status == 0)
        #expect(try await env.run(["new", "Café ☕ first", "--project", "a-very-long-project-name"]).status == 0)
        #expect(try await env.run(["new", "second"]).status == 0)
        #expect(try await env.run(["new", "third"]).status == 0)
        #expect(try await env.run(["done", "3"]).status == 0)
        let lines = try await env.run(["list"]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "done tasks are left out: \(lines)")
        #expect(lines[0] == "ID      STATUS      PROJECT       AGE  TITLE")
        // id in 6 columns, status in 10, the project clipped to 12 (…), the age in 3, then the title.
        #expect(lines[1].hasPrefix("#1      backlog     a-very-long…  "), "\(lines[1])")
        #expect(lines[2].hasPrefix("#2      backlog     -             "), "\(lines[2])")
        for (line, title) in zip(lines.dropFirst(), ["Café ☕ first", "second"]) {
            let age = line.dropFirst(34).prefix(3)
            #expect(age.first?.isNumber == true && ["s ", "m ", "h ", "d "].contains { age.hasSuffix($0) || age.hasSuffix($0.trimmingCharacters(in: .whitespaces)) })
            #expect(line.dropFirst(37) == "  " + title, "\(line)")
        }
        #expect(try await env.run(["list", "--all"]).stdout.contains("#3      done        -"))
    }

    @Test func oneShotCommandsWork() async throws {
        let env = TaskEnv()
        let created = try await env.run(["new", "Fix login", "--prompt", "make it\nwork"])
        #expect(created.status == 0 && created.stdout == "1\n" && created.stderr.isEmpty)
        let list = try await env.run(["list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("#1") && list.stdout.contains("backlog") && list.stdout.contains("Fix login"))
        let json = try await env.run(["list", "--json"])
        let tasks = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(tasks?.count == 1)
        let t = try #require(tasks?.first)
        for key in ["id", "title", "prompt", "status", "project", "created_at", "started_at", "finished_at"] {
            #expect(t.keys.contains(key), "missing \(key)")
        }
        #expect(t["prompt"] as? String == "make it\nwork")
        #expect(t["status"] as? String == "backlog")
        let show = try await env.run(["show", "1", "--json"])
        let one = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        #expect(one?["title"] as? String == "Fix login")
        #expect(try await env.run(["edit", "1", "--title", "Fix logout"]).status == 0)
        #expect(try await env.run(["show", "1"]).stdout.contains("Fix logout"))
        #expect(try await env.run(["delete", "1"]).stdout == "#1 deleted\n")
        #expect(try await env.run(["list", "--json"]).stdout == "[]\n")
    }

    @Test func scriptOnStdinRunsLinesWithoutPromptOrColour() async throws {
        let env = TaskEnv()
        let r = try await env.script("new first\nnew 'second one'\nlist\n")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("1\n2\nID"))
        #expect(!r.stdout.contains("task>") && !r.stdout.contains("\u{1B}["))
        #expect(r.stderr.isEmpty)
    }

    @Test func scriptStopsAtTheFirstFailingLine() async throws {
        let env = TaskEnv()
        let r = try await env.script("new a\nshow 42\nnew b\n")
        #expect(r.status == 1)
        #expect(r.stderr == "task: no task #42\n")
        #expect(try await env.run(["list", "--json"]).stdout.components(separatedBy: "\"id\"").count == 2)
    }

    @Test func dashCRunsCommandsSeparatedBySemicolons() async throws {
        let env = TaskEnv()
        let r = try await env.run(["-c", "new x; new 'y; z'; list --json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"title\":\"y; z\""))
        let bad = try await env.run(["-c", "new a; lsit; new b"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("unknown command 'lsit'; did you mean 'list'?"))
        #expect(try await env.run(["list", "--json"]).stdout.components(separatedBy: "\"id\"").count == 4)
    }

    @Test func projectsAndConfig() async throws {
        let env = TaskEnv()
        let folder = makeTemporaryFolder()
        #expect(try await env.run(["project", "add", "web", folder]).status == 0)
        let dup = try await env.run(["project", "add", "web", folder])
        #expect(dup.status == 1 && dup.stderr == "task: project 'web' exists already\n")
        #expect(try await env.run(["new", "t", "--project", "web"]).status == 0)
        let unknown = try await env.run(["new", "t", "--project", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no project 'nope'"))
        let plist = try await env.run(["project", "list", "--json"])
        #expect(plist.stdout.contains("\"name\":\"web\"") && plist.stdout.contains("\"tasks\":1"))
        let rm = try await env.run(["project", "remove", "web"])
        #expect(rm.status == 1 && rm.stderr.contains("still has 1 task"))
        #expect(try await env.run(["config", "get", "agent"]).stdout == "claude\n")
        #expect(try await env.run(["config", "set", "agent", "/opt/fake-claude"]).status == 0)
        #expect(try await env.run(["config", "get", "agent"]).stdout == "/opt/fake-claude\n")
        var withEnv = env
        withEnv.extraEnvironment["TASK_AGENT"] = "from-env"
        #expect(try await withEnv.run(["config", "get", "agent"]).stdout == "from-env\n")
        let badValue = try await env.run(["config", "set", "max_running", "many"])
        #expect(badValue.status == 64 && badValue.stderr.contains("whole number"))
        #expect(try await env.run(["set", "verbose", "OFF"]).stdout == "verbose = off\n")
        #expect(try await env.run(["config", "get", "verbose"]).stdout == "off\n")
        let badKey = try await env.run(["config", "set", "colour", "x"])
        #expect(badKey.status == 64 && badKey.stderr.contains("unknown setting 'colour'"))
    }

    @Test func helpListsCommandsAndShowsOne() async throws {
        let env = TaskEnv()
        let all = try await env.run(["help"])
        #expect(all.status == 0)
        for name in ["new", "list", "show", "edit", "delete", "project add", "config set", "history", "quit"] {
            #expect(all.stdout.contains("  " + name), "help lacks \(name)")
        }
        let one = try await env.run(["help", "list"])
        #expect(one.status == 0 && one.stdout.contains("USAGE: task list"))
        #expect(try await env.run(["--help"]).stdout.contains("SUBCOMMANDS"))
    }
}

@Suite("Bad input")
struct BadInputTests {
    @Test(arguments: [
        (["lsit"], Int32(64), "unknown command 'lsit'; did you mean 'list'?"),
        (["show"], 64, "Missing expected argument '<id>'"),
        (["show", "1", "2"], 64, "Unexpected argument '2'"),
        (["show", "abc"], 64, "'abc' is not a task id"),
        (["show", "7"], 1, "no task #7"),
        (["new", "x", "--prompt", "a", "--prompt-file", "b"], 64, "give --prompt or --prompt-file, not both"),
        (["project"], 64, "'project' needs a subcommand"),
        (["list", "--status", "sleeping"], 64, "unknown status 'sleeping'"),
        (["--bogus"], 64, "unknown option --bogus"),
    ])
    func clearErrorsAndExitCodes(args: [String], status: Int32, message: String) async throws {
        let env = TaskEnv()
        let r = try await env.run(args)
        #expect(r.status == status)
        #expect(r.stderr.contains(message), "stderr was: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func hugeTitleIsRefusedButHugePromptIsKept() async throws {
        let env = TaskEnv()
        let r = try await env.run(["new", String(repeating: "t", count: 10_000)])
        #expect(r.status == 64 && r.stderr.contains("limit is 500"))
        let prompt = String(repeating: "p", count: 10_000)
        #expect(try await env.run(["new", "ok", "--prompt", prompt]).status == 0)
        #expect(try await env.run(["show", "1", "--json"]).stdout.contains(prompt))
    }

    @Test func newlinesAndQuotesArriveVerbatim() async throws {
        let env = TaskEnv()
        let prompt = "line 1\nline \"2\" 'three' $(rm -rf x) `echo hi`;\n"
        #expect(try await env.run(["new", "Quote \"it\" 'now'", "--prompt", prompt]).status == 0)
        let json = try await env.run(["show", "1", "--json"]).stdout
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(obj?["prompt"] as? String == prompt)
        #expect(obj?["title"] as? String == "Quote \"it\" 'now'")
        let multiLineTitle = try await env.run(["new", "two\nlines"])
        #expect(multiLineTitle.status == 64 && multiLineTitle.stderr.contains("one line"))
    }

    @Test func invalidUTF8OnStdinStopsWithAClearError() async throws {
        let env = TaskEnv()
        var bytes = Data("new ok\nnew bad".utf8)
        bytes.append(contentsOf: [0xFF, 0xFE, 0x0A])
        bytes.append(Data("new never\n".utf8))
        let r = try await env.run([], stdin: bytes)
        #expect(r.status == 1)
        #expect(r.stderr == "task: line 2 of the input is not valid UTF-8; stopped there\n")
        #expect(try await env.run(["list", "--json"]).stdout.components(separatedBy: "\"id\"").count == 2)
    }

    @Test func unterminatedQuoteInAScriptIsAUsageError() async throws {
        let env = TaskEnv()
        let r = try await env.script("new 'never closed\nnew fine\n")
        #expect(r.status == 64 && r.stderr == "task: line 1: unterminated ' quote\n")
        #expect(try await env.run(["list", "--json"]).stdout == "[]\n")
    }

    @Test func notSQLiteAndReadOnlyDatabasesAreClearErrors() async throws {
        let env = TaskEnv()
        let dir = makeTemporaryFolder()
        let notes = dir + "/notes.db"
        try Data("my notes".utf8).write(to: URL(fileURLWithPath: notes))
        let r = try await env.run(["--db", notes, "list"])
        #expect(r.status == 1 && r.stderr.contains("is not a task database"))
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes")

        let db = dir + "/ro.db"
        #expect(try await env.run(["--db", db, "new", "kept"]).status == 0)
        // Root ignores file modes; the immutable attribute binds even root.
        let locked = try await runCommand(["chattr", "+i", db])
        if locked.status == 0 {
            let ro = try await env.run(["--db", db, "new", "lost"])
            _ = try await runCommand(["chattr", "-i", db])
            #expect(ro.status == 1 && ro.stderr.contains("read-only"), "stderr: \(ro.stderr)")
        }
    }

    @Test func missingHomeIsCreated() async throws {
        let env = TaskEnv()
        #expect(!FileManager.default.fileExists(atPath: env.home))
        #expect(try await env.run(["list"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: env.home + "/task.db"))
    }

    @Test func dbOptionOverridesForOneRun() async throws {
        let env = TaskEnv()
        let other = makeTemporaryFolder() + "/other.db"
        #expect(try await env.run(["--db", other, "new", "elsewhere"]).status == 0)
        #expect(try await env.run(["list", "--json"]).stdout == "[]\n")
        #expect(try await env.run(["--db", other, "list", "--json"]).stdout.contains("elsewhere"))
    }
}
