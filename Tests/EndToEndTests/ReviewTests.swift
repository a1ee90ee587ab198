import Foundation
import Testing

/// Runs `body`, then `cleanUp` — also when `body` throws, so no tmux server, sprite-sim or agent
/// outlives a failing test.
private func withCleanUp(_ cleanUp: () async -> Void, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
}

/// `git -C dir args…`, expected to succeed; its stdout without the trailing newline.
@discardableResult
private func git(_ dir: String, _ args: String...) async throws -> String {
    let r = try await runCommand(["git", "-C", dir] + args)
    #expect(r.status == 0, "git \(args): \(r.stderr)")
    return r.stdout.trimmingCharacters(in: .newlines)
}

/// A repository (from `gitRepository()`) with an identity, for the merge and squash commits.
private func repositoryWithIdentity() async throws -> String {
    let repo = try await gitRepository()
    try await git(repo, "config", "user.name", "Reviewer")
    try await git(repo, "config", "user.email", "reviewer@example.com")
    return repo
}

/// A bare repository as the project's `origin`, with `main` pushed (so `main` tracks it).
private func addOrigin(_ repo: String) async throws -> String {
    let origin = makeTemporaryFolder() + "/origin.git"
    #expect(try await runCommand(["git", "init", "-q", "--bare", origin]).status == 0)
    try await git(repo, "remote", "add", "origin", origin)
    try await git(repo, "push", "-q", "-u", "origin", "main")
    return origin
}

/// A stand-in `gh` in a folder of its own: records its arguments (NUL-separated) in `<folder>/gh.args`
/// and its working folder in `<folder>/gh.cwd`, and prints a pull request's address.
private func standInGh() throws -> (bin: String, args: String, cwd: String) {
    let bin = makeTemporaryFolder() + "/bin"
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    let script = """
        #!/bin/sh
        for a in "$@"; do printf '%s\\0' "$a"; done > '\(bin)/gh.args'
        pwd > '\(bin)/gh.cwd'
        echo https://github.com/example/web/pull/7
        """
    try script.write(toFile: bin + "/gh", atomically: true, encoding: .utf8)
    #expect(chmod(bin + "/gh", 0o755) == 0)
    return (bin, bin + "/gh.args", bin + "/gh.cwd")
}

private func recordedArguments(_ file: String) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: file))
    return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
}

private let testPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"

/// PATH without any folder holding a `gh` (git and sh kept reachable through links of their own).
private func pathWithoutGh() throws -> String {
    let fm = FileManager.default
    let kept = testPath.split(separator: ":").map(String.init).filter { !fm.isExecutableFile(atPath: $0 + "/gh") }
    let links = makeTemporaryFolder() + "/tools"
    try fm.createDirectory(atPath: links, withIntermediateDirectories: true)
    for tool in ["git", "sh"] {
        if let found = testPath.split(separator: ":").map({ "\($0)/\(tool)" }).first(where: fm.isExecutableFile(atPath:)) {
            try fm.createSymbolicLink(atPath: links + "/" + tool, withDestinationPath: found)
        }
    }
    return ([links] + kept).joined(separator: ":")
}

/// diff, merge and pr, end to end: real git, tmux, the stand-in agent and sprite-sim.
@Suite("Reviewing a task's work", .serialized)
struct ReviewTests {
    /// The agent writes and commits a poem (a second verse in a second commit with `verses: 2`),
    /// and with `draft` leaves a draft it never commits; then the session ends (exit 0).
    static func poemTurn(draft: Bool, verses: Int = 1) -> [String: Any] {
        let commit = "git -c user.name=agent -c user.email=agent@example.com commit -q"
        var command = "git add poem.txt && \(commit) -m 'Add the poem'"
        if verses > 1 { command += " && echo 'a frog jumps in' >> poem.txt && \(commit) -am 'Add a second verse'" }
        var tools: [[String: Any]] = [
            ["tool_name": "Write", "tool_input": ["file_path": "poem.txt", "content": "an old silent pond\n"], "effect": "real", "needs_permission": false],
            ["tool_name": "Bash", "tool_input": ["command": command], "effect": "real", "needs_permission": false],
        ]
        if draft {
            tools.append(["tool_name": "Write", "tool_input": ["file_path": "draft.txt", "content": "the sound of water\n"],
                          "effect": "real", "needs_permission": false])
        }
        return ["match": "poem", "tools": tools, "text": "Committed the poem", "exit_code": 0]
    }

    /// The agent rewrites README.md and commits it.
    static var readmeTurn: [String: Any] { [
        "match": "readme",
        "tools": [[
            "tool_name": "Bash", "effect": "real", "needs_permission": false,
            "tool_input": ["command": "echo '# from the agent' > README.md && git -c user.name=agent -c user.email=agent@example.com commit -qam 'Reword the readme'"],
        ] as [String: Any]],
        "text": "Reworded the readme", "exit_code": 0,
    ] }

    /// The agent writes a haiku in a file of its own and commits it.
    static var haikuTurn: [String: Any] { [
        "match": "haiku",
        "tools": [[
            "tool_name": "Bash", "effect": "real", "needs_permission": false,
            "tool_input": ["command": "echo 'autumn moonlight' > haiku.txt && git add haiku.txt && git -c user.name=agent -c user.email=agent@example.com commit -qm 'Add a haiku'"],
        ] as [String: Any]],
        "text": "Wrote a haiku", "exit_code": 0,
    ] }

    static let branch = "task/1-write-a-poem"

    // MARK: - On this machine

    @Test func diffShowsTheCommitsAndTheUncommittedFileThenMergeRefusesADirtyCheckoutAndFastForwards() async throws {
        let a = AgentEnv(scenario: scenario([Self.poemTurn(draft: true)]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web", "--run"]).status == 0)
            try await a.waitForStatus(1, "done")
            let worktree = try #require(try await a.task(1)["worktree"] as? String)

            // The branch against its start, then what the agent left uncommitted, under its own line.
            let diff = try await a.run(["diff", "1"])
            #expect(diff.status == 0, "\(diff.stderr)")
            let header = "# uncommitted changes in \(worktree)\n"
            let parts = diff.stdout.components(separatedBy: header)
            try #require(parts.count == 2, "\(diff.stdout)")
            #expect(parts[0].hasPrefix("diff --git a/poem.txt b/poem.txt\nnew file mode 100644\n"), "\(parts[0])")
            #expect(parts[0].hasSuffix("--- /dev/null\n+++ b/poem.txt\n@@ -0,0 +1 @@\n+an old silent pond\n"), "\(parts[0])")
            #expect(parts[1].hasPrefix("diff --git a/draft.txt b/draft.txt\nnew file mode 100644\n"), "\(parts[1])")
            #expect(parts[1].hasSuffix("+++ b/draft.txt\n@@ -0,0 +1 @@\n+the sound of water\n"), "\(parts[1])")
            #expect(!diff.stdout.contains("\u{1B}"), "no colour into a pipe")
            // As a patch it applies to the project's checkout, both parts.
            let patch = makeTemporaryFolder() + "/task.patch"
            try diff.stdout.write(toFile: patch, atomically: true, encoding: .utf8)
            #expect(try await runCommand(["git", "-C", repo, "apply", "--check", patch]).status == 0)

            let stat = try await a.run(["diff", "1", "--stat"])
            #expect(stat.stdout == " poem.txt | 1 +\n 1 file changed, 1 insertion(+)\n" + header
                    + " draft.txt | 1 +\n 1 file changed, 1 insertion(+)\n", "\(stat.stdout)")
            #expect(try await a.run(["diff", "1", "--name-only"]).stdout == "poem.txt\n" + header + "draft.txt\n")
            // Reading the uncommitted changes left the agent's index as it was.
            #expect(try await git(worktree, "status", "--porcelain") == "?? draft.txt")

            // A checkout with uncommitted changes is refused, with nothing changed.
            let head = try await git(repo, "rev-parse", "HEAD")
            try Data("# edited by hand\n".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
            let dirty = try await a.run(["merge", "1"])
            #expect(dirty.status == 1)
            #expect(dirty.stderr == "task: \(repo) has uncommitted changes (README.md); commit or stash them first\n", "\(dirty.stderr)")
            #expect(try await git(repo, "rev-parse", "HEAD") == head)
            #expect(try String(contentsOfFile: repo + "/README.md", encoding: .utf8) == "# edited by hand\n")
            #expect(try await a.task(1)["status_detail"] as? String != "merged into main")
            #expect(FileManager.default.fileExists(atPath: worktree))
            try await git(repo, "checkout", "--", "README.md")
            // So is a merge in progress.
            try Data((head + "\n").utf8).write(to: URL(fileURLWithPath: repo + "/.git/MERGE_HEAD"))
            let busy = try await a.run(["merge", "1"])
            #expect(busy.status == 1 && busy.stderr == "task: a merge is in progress in \(repo); finish or abort it first\n", "\(busy.stderr)")
            try FileManager.default.removeItem(atPath: repo + "/.git/MERGE_HEAD")
            #expect(try await git(repo, "rev-parse", "HEAD") == head)

            // Once the draft is gone, the merge fast-forwards and the worktree goes; the branch stays.
            try FileManager.default.removeItem(atPath: worktree + "/draft.txt")
            let tip = try await git(repo, "rev-parse", Self.branch)
            let merged = try await a.run(["merge", "1"])
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(merged.stdout == """
                #1 merged \(Self.branch) into main (fast-forward, 1 commit)
                  \(tip.prefix(7)) Add the poem
                #1 done; branch \(Self.branch) kept; worktree \(worktree) removed

                """, "\(merged.stdout)")
            #expect(try await git(repo, "rev-parse", "HEAD") == tip)
            #expect(try String(contentsOfFile: repo + "/poem.txt", encoding: .utf8) == "an old silent pond\n")
            #expect(try await git(repo, "status", "--porcelain") == "")
            #expect(!FileManager.default.fileExists(atPath: worktree))
            #expect(try await git(repo, "rev-parse", Self.branch) == tip)
            let task = try await a.task(1)
            #expect(task["status"] as? String == "done" && task["status_detail"] as? String == "merged into main")
            #expect(try await a.run(["logs", "1"]).stdout.contains("merged \(Self.branch) into main (fast-forward, 1 commit)"))

            // The start commit still holds after the merge: the diff is the same poem.
            let after = try await a.run(["diff", "1"])
            #expect(after.status == 0 && after.stdout == parts[0], "\(after.stdout)")
            let again = try await a.run(["merge", "1"])
            #expect(again.status == 1 && again.stderr.contains("nothing to merge: main has every commit of \(Self.branch) already"))
        }
    }

    /// The data folder removed and made anew (a fresh database) on a project whose repository keeps
    /// the old task #1's branch and the registration of its worktree: the new #1 starts, on a branch
    /// of its own, and the old branch keeps its commit.
    @Test func aDataFolderMadeAnewLeavesTheOldTasksBranchAloneAndStartsAgain() async throws {
        let a = AgentEnv(scenario: scenario([Self.poemTurn(draft: false)]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            let make = ["new", "Write a poem", "--prompt", "write a poem", "--project", "web", "--run"]
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(make).status == 0)
            try await a.waitForStatus(1, "done")
            let old = try await git(repo, "rev-parse", Self.branch)
            #expect(try await git(repo, "worktree", "list").contains("1-write-a-poem"))

            a.cleanUp()
            try FileManager.default.removeItem(atPath: a.env.home)
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            let again = try await a.run(make)
            #expect(again.status == 0, "\(again.stderr)")
            try await a.waitForStatus(1, "done")
            let renamed = Self.branch + "-2"
            #expect(try await a.task(1)["branch"] as? String == renamed)
            let note = "the branch \(Self.branch) is already in \(repo) and is not this task's (left as it is); this task works on \(renamed)"
            #expect(again.stdout.contains("\n  " + note + "\n"), "said by the launch: \(again.stdout)")
            #expect(try await a.run(["logs", "1"]).stdout.contains(note))
            #expect(try await git(repo, "rev-parse", Self.branch) == old, "the old branch is left as it was")
            #expect(try await git(repo, "log", "--format=%s", "-1", renamed) == "Add the poem")
            #expect(try await git(repo, "rev-parse", renamed) != old)
        }
    }

    @Test func squashMergesMakeOneCommitDivergedBranchesAMergeCommitAndConflictsAreAbortedCleanly() async throws {
        let a = AgentEnv(scenario: scenario([Self.poemTurn(draft: false, verses: 2), Self.readmeTurn, Self.haikuTurn]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web", "--run"]).status == 0)
            #expect(try await a.run(["new", "Reword the readme", "--prompt", "reword the readme", "--project", "web", "--run"]).status == 0)
            #expect(try await a.run(["new", "Write a haiku", "--prompt", "write a haiku", "--project", "web", "--run"]).status == 0)
            try await a.waitForStatus(1, "done")
            try await a.waitForStatus(2, "done")
            try await a.waitForStatus(3, "done")
            let readmeBranch = "task/2-reword-the-readme"
            let worktree1 = try #require(try await a.task(1)["worktree"] as? String)
            let worktree2 = try #require(try await a.task(2)["worktree"] as? String)
            // Meanwhile the project moved on, touching the same line as task 2.
            try Data("# from a human\n".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
            try await git(repo, "commit", "-qam", "Reword the readme by hand")
            let human = try await git(repo, "rev-parse", "HEAD")

            let squashed = try await a.run(["merge", "1", "--squash"])
            #expect(squashed.status == 0, "\(squashed.stderr)")
            let head = try await git(repo, "rev-parse", "HEAD")
            let lines = squashed.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "#1 merged \(Self.branch) into main (2 commits squashed into \(head.prefix(7)))", "\(squashed.stdout)")
            #expect(lines.count == 4 && lines[1].hasSuffix(" Add a second verse") && lines[2].hasSuffix(" Add the poem"))
            #expect(lines.last == "#1 done; branch \(Self.branch) kept; worktree \(worktree1) removed")
            #expect(try await git(repo, "log", "-1", "--format=%B") == """
                Write a poem

                Squashed from \(Self.branch) (task #1):

                * Add the poem
                * Add a second verse
                """)
            #expect(try await git(repo, "rev-list", "--parents", "-n", "1", "HEAD") == "\(head) \(human)", "one parent: a squash")
            #expect(try String(contentsOfFile: repo + "/poem.txt", encoding: .utf8) == "an old silent pond\na frog jumps in\n")
            #expect(try await git(repo, "rev-parse", "--verify", "-q", Self.branch) != "")
            #expect(!FileManager.default.fileExists(atPath: worktree1))
            #expect(try await a.task(1)["status_detail"] as? String == "merged into main")

            // Task 2 conflicts, with and without --squash: aborted, the checkout as it was.
            for squash in [false, true] {
                let r = try await a.run(["merge", "2"] + (squash ? ["--squash"] : []))
                #expect(r.status == 1)
                #expect(r.stderr == """
                    task: merging \(readmeBranch) into main conflicts in README.md — aborted, nothing changed \
                    (merge it by hand with: git merge \(readmeBranch))

                    """, "\(r.stderr)")
                #expect(try await git(repo, "rev-parse", "HEAD") == head)
                #expect(try await git(repo, "status", "--porcelain") == "")
                #expect(try String(contentsOfFile: repo + "/README.md", encoding: .utf8) == "# from a human\n")
                #expect(!FileManager.default.fileExists(atPath: repo + "/.git/MERGE_HEAD"))
                #expect(FileManager.default.fileExists(atPath: worktree2))
                #expect(try await a.task(2)["status_detail"] as? String != "merged into main")
            }

            // Task 3 branched off before main moved on, without a conflict: a merge commit.
            let haiku = try await a.run(["merge", "3"])
            #expect(haiku.status == 0, "\(haiku.stderr)")
            let mergeCommit = try await git(repo, "rev-parse", "HEAD")
            #expect(haiku.stdout.hasPrefix("#3 merged task/3-write-a-haiku into main (merge commit \(mergeCommit.prefix(7)), 1 commit)\n"),
                    "\(haiku.stdout)")
            #expect(try await git(repo, "rev-list", "--parents", "-n", "1", "HEAD").split(separator: " ").count == 3, "two parents")
            #expect(try await git(repo, "log", "-1", "--format=%s") == "Merge branch 'task/3-write-a-haiku'")
            #expect(try String(contentsOfFile: repo + "/haiku.txt", encoding: .utf8) == "autumn moonlight\n")
        }
    }

    @Test func aBranchRebasedOntoTheProjectIsDiffedFromItsNewBase() async throws {
        let a = AgentEnv(scenario: scenario([Self.poemTurn(draft: false)]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web", "--run"]).status == 0)
            try await a.waitForStatus(1, "done")
            let worktree = try #require(try await a.task(1)["worktree"] as? String)
            // The project moves on and the task's branch is rebased onto it: the project's new
            // commit is not the task's change.
            try Data("from a human\n".utf8).write(to: URL(fileURLWithPath: repo + "/other.txt"))
            try await git(repo, "add", "other.txt")
            try await git(repo, "commit", "-qm", "Add other.txt")
            try await git(worktree, "rebase", "-q", "main")
            #expect(try await a.run(["diff", "1", "--name-only"]).stdout == "poem.txt\n")
            let merged = try await a.run(["merge", "1"])
            #expect(merged.stdout.hasPrefix("#1 merged \(Self.branch) into main (fast-forward, 1 commit)\n"), "\(merged.stdout)")
        }
    }

    @Test func prPushesToOriginAndOpensThePullRequestWithGhOrSaysTheCommand() async throws {
        let gh = try standInGh()
        var a = AgentEnv(scenario: scenario([Self.poemTurn(draft: false)]))
        a.env.extraEnvironment["PATH"] = gh.bin + ":" + testPath
        let withGh = a
        try await withCleanUp({ withGh.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await withGh.run(["project", "add", "web", repo]).status == 0)
            #expect(try await withGh.run(["new", "Write a poem", "--prompt", "write a poem\nabout a pond", "--project", "web", "--run"]).status == 0)
            try await withGh.waitForStatus(1, "done")
            let noOrigin = try await withGh.run(["pr", "1"])
            #expect(noOrigin.status == 1)
            #expect(noOrigin.stderr.hasPrefix("task: project web has no remote named origin; add one with: git -C "), "\(noOrigin.stderr)")
            let origin = try await addOrigin(repo)

            let r = try await withGh.run(["pr", "1", "--draft"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("#1 pushed \(Self.branch) to origin (\(origin))\n  To \(origin)\n"), "\(r.stdout)")
            #expect(r.stdout.contains(" * [new branch]      \(Self.branch) -> \(Self.branch)\n"), "\(r.stdout)")
            #expect(r.stdout.hasSuffix("\n#1 draft pull request: https://github.com/example/web/pull/7\n"), "\(r.stdout)")
            #expect(try await git(origin, "rev-parse", Self.branch) == (try await git(repo, "rev-parse", Self.branch)))
            let body = "## Task\n\nwrite a poem\nabout a pond\n\n## The agent's last message\n\nCommitted the poem\n"
            #expect(try recordedArguments(gh.args) == [
                "pr", "create", "--head", Self.branch, "--base", "main", "--title", "Write a poem", "--body", body, "--draft",
            ])
            #expect(try String(contentsOfFile: gh.cwd, encoding: .utf8) == repo + "\n")
            #expect(try await withGh.run(["pr", "1"]).status == 0)
            #expect(try recordedArguments(gh.args).last == body, "no --draft without it")

            // Without gh: the branch is pushed, and the command to run is said.
            var noGh = withGh
            noGh.env.extraEnvironment["PATH"] = try pathWithoutGh()
            let bare = try await noGh.run(["pr", "1"])
            #expect(bare.status == 0, "\(bare.stderr)")
            let bodyFile = noGh.env.home + "/run/tasks/1/pr-body.md"
            #expect(bare.stdout == """
                #1 pushed \(Self.branch) to origin (\(origin))
                  Everything up-to-date
                gh is not installed; open the pull request with:
                  cd \(repo) && gh pr create --head \(Self.branch) --base main --title 'Write a poem' --body-file \(bodyFile)

                """, "\(bare.stdout)")
            #expect(try String(contentsOfFile: bodyFile, encoding: .utf8) == body)
        }
    }

    @Test func tasksWithoutABranchAndUnknownIdsAreClearErrors() async throws {
        let a = AgentEnv()
        try await withCleanUp({ a.cleanUp() }) {
            let plain = makeTemporaryFolder() + "/plain"
            try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
            let repo = try await repositoryWithIdentity()
            #expect(try await a.run(["project", "add", "plain", plain]).status == 0)
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "No project"]).status == 0)
            #expect(try await a.run(["new", "Plain folder", "--project", "plain"]).status == 0)
            #expect(try await a.run(["new", "Never ran", "--project", "web"]).status == 0)
            for (command, purpose) in [("diff", "to diff"), ("merge", "to merge"), ("pr", "to push")] {
                let none = try await a.run([command, "1"])
                #expect(none.status == 1 && none.stderr == "task: #1 has no project, so it has no branch \(purpose)\n", "\(none.stderr)")
                let notGit = try await a.run([command, "2"])
                #expect(notGit.status == 1, "\(command)")
                #expect(notGit.stderr == "task: #2's project plain (\(plain)) is not a git repository, so #2 has no branch \(purpose)\n",
                        "\(notGit.stderr)")
                let never = try await a.run([command, "#3"])
                #expect(never.status == 1 && never.stderr == "task: #3 has not run yet, so it has no branch \(purpose) (start it with: run 3)\n",
                        "\(never.stderr)")
                let unknown = try await a.run([command, "99"])
                let shown = try await a.run(["show", "99"])
                #expect(unknown.status == 1 && unknown.stderr == shown.stderr, "\(unknown.stderr)")
            }
            #expect(try await a.run(["diff", "3", "--stat", "--name-only"]).status == 64)
            #expect(try await a.run(["diff"]).status == 64)
            #expect(try await a.run(["merge", "x"]).status == 64)
        }
    }

    @Test func onATerminalTheDiffIsInGitsColoursAndALongOneGoesThroughThePager() async throws {
        let a = AgentEnv(scenario: scenario([Self.poemTurn(draft: true)]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web", "--run"]).status == 0)
            try await a.waitForStatus(1, "done")
            let paged = makeTemporaryFolder() + "/paged"
            var env = a.env
            env.extraEnvironment["PAGER"] = "cat > \(paged)"
            // The shell on a 12-row terminal: the diff (15 lines) is paged, in colour; --name-only fits.
            try await withTaskShell(env, width: 100, height: 12) { t in
                try await t.submit("diff 1 --name-only", waitFor: "draft.txt")
                #expect(!FileManager.default.fileExists(atPath: paged), "a short diff is not paged")
                try await t.submit("diff 1", waitFor: "task>")
                try await waitUntil("the pager's output") { FileManager.default.fileExists(atPath: paged) }
                try await waitUntil("the whole diff") {
                    ((try? String(contentsOfFile: paged, encoding: .utf8)) ?? "").contains("the sound of water")
                }
                let text = try String(contentsOfFile: paged, encoding: .utf8)
                #expect(text.contains("\u{1B}[1mdiff --git a/poem.txt b/poem.txt"), "git's colours: \(text.debugDescription)")
                #expect(text.contains("\u{1B}[32m+") && text.contains("an old silent pond"), "\(text.debugDescription)")
                #expect(text.contains("\u{1B}[33m# uncommitted changes in "), "\(text.debugDescription)")
                try FileManager.default.removeItem(atPath: paged)
                let screen = try await t.submit("diff 1 --no-pager", waitFor: "+the sound of water")
                #expect(screen.contains("+an old silent pond"))
                #expect(!FileManager.default.fileExists(atPath: paged))
            }
            // NO_COLOR: the pager still pages, without colour.
            var plain = env
            plain.extraEnvironment["NO_COLOR"] = "1"
            try await withTaskShell(plain, width: 100, height: 12) { t in
                try await t.submit("diff 1", waitFor: "task>")
                try await waitUntil("the pager's output") {
                    ((try? String(contentsOfFile: paged, encoding: .utf8)) ?? "").contains("the sound of water")
                }
                #expect(!(try String(contentsOfFile: paged, encoding: .utf8)).contains("\u{1B}"))
            }
        }
    }

    // MARK: - On the sprite

    @Test func onTheSpriteDiffIsComputedThereAndPrAndMergePullFirst() async throws {
        let sim = try await SpriteSimProcess.start()
        let gh = try standInGh()
        var s = SpriteAgentEnv(sim: sim, scenario: scenario([Self.poemTurn(draft: true)]))
        s.agent.env.extraEnvironment["PATH"] = gh.bin + ":" + testPath
        let env = s
        try await withCleanUp({ env.cleanUp(); env.agent.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            let origin = try await addOrigin(repo)
            #expect(try await env.run(["project", "add", "web", repo]).status == 0)
            #expect(try await env.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web"]).status == 0)
            let started = try await env.run(["run", "1"])
            #expect(started.status == 0 && started.stdout.contains("#1 started on the sprite"), "\(started.stderr)")
            try await waitUntil("the task ends", timeout: 30) { try await env.agent.status(1) == "done" }
            let clone = sim.home() + "/work/web/1-write-a-poem"

            // Computed on the sprite: nothing pulled.
            let diff = try await env.run(["diff", "1"])
            #expect(diff.status == 0, "\(diff.stderr)")
            let parts = diff.stdout.components(separatedBy: "# uncommitted changes in \(clone) on the sprite task-sandbox\n")
            try #require(parts.count == 2, "\(diff.stdout)")
            #expect(parts[0].hasPrefix("diff --git a/poem.txt b/poem.txt\n") && parts[0].hasSuffix("\n+an old silent pond\n"), "\(parts[0])")
            #expect(parts[1].hasPrefix("diff --git a/draft.txt b/draft.txt\n") && parts[1].hasSuffix("\n+the sound of water\n"), "\(parts[1])")
            #expect(try await runCommand(["git", "-C", repo, "rev-parse", "--verify", "-q", Self.branch]).status != 0, "no pull")
            #expect(try await env.run(["diff", "1", "--name-only"]).stdout
                    == "poem.txt\n# uncommitted changes in \(clone) on the sprite task-sandbox\ndraft.txt\n")

            // A dirty checkout is refused before anything is pulled.
            try Data("# edited by hand\n".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
            let dirty = try await env.run(["merge", "1"])
            #expect(dirty.status == 1 && dirty.stderr.contains("has uncommitted changes (README.md)"), "\(dirty.stderr)")
            #expect(try await runCommand(["git", "-C", repo, "rev-parse", "--verify", "-q", Self.branch]).status != 0, "nothing pulled")
            try await git(repo, "checkout", "--", "README.md")

            // pr pulls the branch, pushes it and opens the pull request.
            let pr = try await env.run(["pr", "1", "--draft"])
            #expect(pr.status == 0, "\(pr.stderr)")
            #expect(pr.stdout.hasPrefix("#1 pulled \(Self.branch): 1 new commit\n#1 pushed \(Self.branch) to origin (\(origin))\n"), "\(pr.stdout)")
            #expect(pr.stdout.hasSuffix("#1 draft pull request: https://github.com/example/web/pull/7\n"))
            let args = try recordedArguments(gh.args)
            #expect(Array(args.prefix(8)) == ["pr", "create", "--head", Self.branch, "--base", "main", "--title", "Write a poem"])
            #expect(args.count == 11 && args[9].contains("write a poem") && args[9].contains("Committed the poem") && args[10] == "--draft")
            let tip = try await git(repo, "rev-parse", Self.branch)
            #expect(try await git(origin, "rev-parse", Self.branch) == tip)

            // merge: fast-forward; the clone there keeps the agent's draft, so it stays.
            let merged = try await env.run(["merge", "1"])
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(merged.stdout == """
                #1 pulled \(Self.branch): no new commits
                #1 merged \(Self.branch) into main (fast-forward, 1 commit)
                  \(tip.prefix(7)) Add the poem
                #1 done; branch \(Self.branch) kept; clone on the sprite task-sandbox \(clone) kept: it holds uncommitted changes

                """, "\(merged.stdout)")
            #expect(try await git(repo, "rev-parse", "HEAD") == tip)
            #expect(try String(contentsOfFile: repo + "/poem.txt", encoding: .utf8) == "an old silent pond\n")
            #expect(FileManager.default.fileExists(atPath: clone + "/draft.txt"))
            #expect(try await env.agent.task(1)["status_detail"] as? String == "merged into main")
        }
    }

    @Test func onTheSpriteASquashMergeRemovesTheCloneAndAConflictIsAborted() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([Self.poemTurn(draft: false, verses: 2), Self.readmeTurn]))
        try await withCleanUp({ s.cleanUp(); s.agent.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await s.run(["project", "add", "web", repo]).status == 0)
            #expect(try await s.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web"]).status == 0)
            #expect(try await s.run(["new", "Reword the readme", "--prompt", "reword the readme", "--project", "web"]).status == 0)
            #expect(try await s.run(["run", "1"]).status == 0)
            #expect(try await s.run(["run", "2"]).status == 0)
            try await waitUntil("both tasks end", timeout: 30) {
                let first = try await s.agent.status(1)
                let second = try await s.agent.status(2)
                return first == "done" && second == "done"
            }
            try Data("# from a human\n".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
            try await git(repo, "commit", "-qam", "Reword the readme by hand")
            let human = try await git(repo, "rev-parse", "HEAD")

            let conflict = try await s.run(["merge", "2"])
            #expect(conflict.status == 1)
            #expect(conflict.stdout == "", "\(conflict.stdout)")
            #expect(conflict.stderr.hasPrefix("task: merging task/2-reword-the-readme into main conflicts in README.md — aborted, nothing changed"),
                    "\(conflict.stderr)")
            #expect(try await git(repo, "rev-parse", "HEAD") == human)
            #expect(try await git(repo, "status", "--porcelain") == "")
            #expect(FileManager.default.fileExists(atPath: sim.home() + "/work/web/2-reword-the-readme"))

            let clone = sim.home() + "/work/web/1-write-a-poem"
            let squashed = try await s.run(["merge", "1", "--squash"])
            #expect(squashed.status == 0, "\(squashed.stderr)")
            #expect(squashed.stdout.hasPrefix("#1 pulled \(Self.branch): 2 new commits\n#1 merged \(Self.branch) into main (2 commits squashed into "),
                    "\(squashed.stdout)")
            #expect(squashed.stdout.hasSuffix("#1 done; branch \(Self.branch) kept; clone on the sprite task-sandbox \(clone) removed\n"), "\(squashed.stdout)")
            #expect(try await git(repo, "log", "-1", "--format=%s") == "Write a poem")
            #expect(try await git(repo, "rev-parse", "HEAD^") == human)
            #expect(!FileManager.default.fileExists(atPath: clone))
            // With its clone gone, the diff comes from the branch pulled here.
            let after = try await s.run(["diff", "1", "--name-only"])
            #expect(after.status == 0 && after.stdout == "poem.txt\n", "\(after.stdout) \(after.stderr)")
            #expect(after.stderr.contains("#1's folder is gone from the sprite task-sandbox: this is its branch as pulled here"))
        }
    }
}

/// `rewind`: a task back where it started, here and on the sprite, losing nothing.
@Suite("Rewinding a task", .serialized)
struct RewindTests {
    @Test func aTaskGoesBackToItsStartKeepingItsCommitsAndItsUncommittedWork() async throws {
        let a = AgentEnv(scenario: scenario([ReviewTests.poemTurn(draft: true)]))
        try await withCleanUp({ a.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            let start = try await git(repo, "rev-parse", "HEAD")
            #expect(try await a.run(["project", "add", "web", repo]).status == 0)
            #expect(try await a.run(["new", "Write a poem", "--prompt", "write a poem", "--project", "web"]).status == 0)
            let early = try await a.run(["rewind", "1"])
            #expect(early.status != 0 && early.stderr.contains("#1 never started, so there is nothing to go back to; run it with: run 1"),
                    "\(early.stderr)")
            #expect(try await a.run(["run", "1"]).status == 0)
            try await a.waitForStatus(1, "done")
            let worktree = try #require(try await a.task(1)["worktree"] as? String)
            #expect(FileManager.default.fileExists(atPath: worktree + "/draft.txt"))

            let r = try await a.run(["rewind", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("#1 rewound to \(start.prefix(7)), where it started; it is in the backlog again\n"), "\(r.stdout)")
            #expect(r.stdout.contains("  kept refs/task-rewound/1/1 (2 commits, "), "\(r.stdout)")
            #expect(try await git(worktree, "rev-parse", "HEAD") == start)
            #expect(try await git(worktree, "status", "--porcelain").isEmpty)
            // Nothing lost: the agent's commit and its uncommitted draft are under the kept ref.
            let kept = try await git(repo, "log", "--format=%s", "refs/task-rewound/1/1")
            #expect(kept.contains("Add the poem") && kept.contains("task #1: uncommitted work kept by rewind"), "\(kept)")
            #expect(try await git(repo, "show", "refs/task-rewound/1/1:draft.txt") == "the sound of water")
            #expect(try await a.status(1) == "backlog")
            #expect(try await a.run(["logs", "1"]).stdout.contains("rewound to \(start.prefix(7)), where it started; kept refs/task-rewound/1/1"))

            // Run again from the start, then a second rewind keeps a second ref.
            #expect(try await a.run(["run", "1"]).status == 0)
            try await a.waitForStatus(1, "done")
            let again = try await a.run(["rewind", "1"])
            #expect(again.stdout.contains("kept refs/task-rewound/1/2 "), "\(again.stdout)")
            #expect(try await git(worktree, "rev-parse", "HEAD") == start)
        }
    }

    @Test func aRunningTaskIsRefusedWithWhatToDo() async throws {
        var a = AgentEnv(scenario: scenario([["text": "thinking hard"]]))
        a.env.extraEnvironment["FAKE_CLAUDE_THINK_MS"] = "20000"
        let env = a
        try await withCleanUp({ env.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await env.run(["project", "add", "web", repo]).status == 0)
            #expect(try await env.run(["new", "Slow", "--project", "web", "--run"]).status == 0)
            try await env.waitForStatus(1, "processing")
            let r = try await env.run(["rewind", "1"])
            #expect(r.status != 0 && r.stderr.contains("#1 is processing; stop it first (stop 1), or wait until it waits for input, then rewind it"),
                    "\(r.stderr)")
            #expect(try await env.run(["stop", "1"]).status == 0)
        }
    }

    @Test func onTheSpriteTheCloneGoesBackToItsStart() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([SpriteRunTests.committingTurn]))
        try await withCleanUp({ s.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            let start = try await git(repo, "rev-parse", "HEAD")
            #expect(try await s.run(["project", "add", "web", repo]).status == 0)
            #expect(try await s.run(["new", "Write a poem", "--project", "web", "--run"]).status == 0)
            try await waitUntil("the agent's commit") {
                try await s.run(["events", "1"]).stdout.contains("Committed the poem")
            }
            let clone = sim.home() + "/work/web/1-write-a-poem"
            #expect(try await git(clone, "rev-parse", "HEAD") != start)
            let r = try await s.run(["rewind", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("  kept refs/task-rewound/1/1 (1 commit, ") && r.stdout.contains("Add the poem) on the sprite task-sandbox"), "\(r.stdout)")
            #expect(try await git(clone, "rev-parse", "HEAD") == start)
            #expect(try await git(clone, "log", "-1", "--format=%s", "refs/task-rewound/1/1") == "Add the poem")
            #expect(try await s.agent.status(1) == "backlog")
        }
    }

    /// With a sprite per task, the task's first start is checkpointed (`task #1 start`); a rewind
    /// brings the dropped commits home and restores the sprite's files from that checkpoint. A
    /// checkpoint deleted by hand is said, and the clone still goes back; restoring a sprite
    /// shared with a running task is refused.
    @Test func onItsOwnSpriteRewindRestoresTheSpritesFilesFromTheStartCheckpoint() async throws {
        let sim = try await SpriteSimProcess.start()
        var turn = SpriteRunTests.committingTurn
        var tools = turn["tools"] as! [[String: Any]]
        tools.insert(["tool_name": "Bash", "tool_input": ["command": "echo left > ../../leftover.txt"], "effect": "real", "needs_permission": false], at: 0)
        turn["tools"] = tools
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([turn]))
        try await withCleanUp({ s.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            #expect(try await s.run(["config", "set", "sprite.tasks_per_sprite", "1"]).status == 0)
            #expect(try await s.run(["project", "add", "web", repo]).status == 0)
            #expect(try await s.run(["new", "Write a poem", "--project", "web"]).status == 0)
            let started = try await s.run(["run", "1"])
            #expect(started.stdout.contains("✓ task-sandbox: Checkpoint v1 created (task #1 start)"), "\(started.stdout)")
            try await waitUntil("the agent's commit") {
                try await s.run(["events", "1"]).stdout.contains("Committed the poem")
            }
            let leftover = sim.home() + "/work/leftover.txt"
            #expect(FileManager.default.fileExists(atPath: leftover))
            #expect(try await s.run(["sprite", "checkpoints"]).stdout.contains("task #1 start"))
            let r = try await s.run(["rewind", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("  kept refs/task-rewound/1/1 here, in \(repo)"), "\(r.stdout)")
            #expect(r.stdout.contains("  the sprite task-sandbox's files restored from checkpoint v1 (task #1 start)"), "\(r.stdout)")
            #expect(try await git(repo, "log", "-1", "--format=%s", "refs/task-rewound/1/1") == "Add the poem", "the dropped commit is kept here")
            #expect(!FileManager.default.fileExists(atPath: leftover), "the sprite's files went back")
            #expect(!FileManager.default.fileExists(atPath: sim.home() + "/work/web/1-write-a-poem"), "as before the task's clone")
            #expect(try await s.agent.status(1) == "backlog")

            // A second task; its start checkpoint deleted by hand.
            #expect(try await s.run(["new", "Write a poem again", "--project", "web"]).status == 0)
            #expect(try await s.run(["run", "2"]).status == 0)
            try await waitUntil("the second agent's commit") {
                try await s.run(["events", "2"]).stdout.contains("Committed the poem")
            }
            let deleted = try await runCommand(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                                                "-H", "Authorization: Bearer \(sim.token)", sim.url + "/v1/sprites/task-sandbox/checkpoints/v2"])
            #expect(deleted.stdout == "204", "\(deleted.stdout) \(deleted.stderr)")
            // Another task on the same sprite (start checkpoints on, the sprite shared): refused.
            #expect(try await s.run(["config", "set", "sprite.tasks_per_sprite", "2"]).status == 0)
            #expect(try await s.run(["config", "set", "sprite.start_checkpoint", "on"]).status == 0)
            #expect(try await s.run(["new", "Write a third poem", "--project", "web"]).status == 0)
            #expect(try await s.run(["run", "3"]).status == 0)
            try await s.agent.waitForStatus(3, "blocked")
            let refused = try await s.run(["rewind", "3"])
            #expect(refused.status != 0 && refused.stderr.contains("also runs #2"), "\(refused.stderr)")
            // Without its checkpoint nothing but #2's clone goes back: #3 may run on.
            let gone = try await s.run(["rewind", "2"])
            #expect(gone.status == 0, "\(gone.stderr)")
            #expect(gone.stdout.contains("no checkpoint \"task #2 start\" on the sprite task-sandbox (it was not taken, or was deleted): its clone went back"), "\(gone.stdout)")
            #expect(try await git(sim.home() + "/work/web/2-write-a-poem-again", "log", "-1", "--format=%s") != "Add the poem")
            #expect(try await s.agent.status(3) == "blocked")
            #expect(try await s.run(["stop", "3"]).status == 0)
        }
    }

    /// `sprite.fresh`: before each new task the sprite goes back to its provisioning checkpoint,
    /// so the next task sees none of the last one's leftovers (its project is sent again).
    @Test func aFreshSpriteForEachNewTask() async throws {
        let sim = try await SpriteSimProcess.start()
        var turn = SpriteRunTests.committingTurn
        var tools = turn["tools"] as! [[String: Any]]
        tools.insert(["tool_name": "Bash", "tool_input": ["command": "echo left > \"../../leftover-$(basename \"$PWD\").txt\""], "effect": "real",
                      "needs_permission": false], at: 0)
        turn["tools"] = tools
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([turn]))
        try await withCleanUp({ s.cleanUp() }) {
            let repo = try await repositoryWithIdentity()
            for (key, value) in [("sprite.tasks_per_sprite", "1"), ("sprite.fresh", "on")] {
                #expect(try await s.run(["config", "set", key, value]).status == 0)
            }
            #expect(try await s.run(["project", "add", "web", repo]).status == 0)
            #expect(try await s.run(["new", "Write a poem", "--project", "web", "--run"]).status == 0)
            try await waitUntil("the first agent's commit") {
                try await s.run(["events", "1"]).stdout.contains("Committed the poem")
            }
            let leftover = sim.home() + "/work/leftover-1-write-a-poem.txt"
            #expect(FileManager.default.fileExists(atPath: leftover))
            #expect(try await s.run(["done", "1"]).status == 0)
            let second = try await s.run(["new", "Write another", "--project", "web", "--run"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("… task-sandbox: restoring checkpoint v0 (sprite.fresh)"), "\(second.stdout)")
            #expect(second.stdout.contains("#2 started on the sprite task-sandbox"), "\(second.stdout)")
            try await waitUntil("the second agent's commit") {
                try await s.run(["events", "2"]).stdout.contains("Committed the poem")
            }
            #expect(FileManager.default.fileExists(atPath: sim.home() + "/work/leftover-2-write-another.txt"))
            #expect(!FileManager.default.fileExists(atPath: leftover), "the first task's leftover went with the restore")
            #expect(!FileManager.default.fileExists(atPath: sim.home() + "/work/web/1-write-a-poem"), "and its clone")
            #expect(try await s.run(["sprite", "checkpoints"]).stdout.contains("task #2 start"))
        }
    }
}
