import AgentHooks
import Foundation
import Sandbox
import TaskCore

// Reviewing a task's work, the same way for a task on this machine and one on the sprite: its
// diff (computed where the work is), merging its branch into the project's checkout, and pushing
// it with a pull request.

extension TaskRunner {
    /// What `diff` prints: the patch, a `--stat` summary, or only the changed files' names.
    public enum DiffFormat: Sendable, Equatable {
        case patch
        /// `--stat`, this many columns wide (nil: git's width for a pipe).
        case stat(width: Int?)
        case nameOnly
    }

    /// A task's changes: its branch against the commit it started from, and what its agent left
    /// uncommitted in its work folder, both as git printed them.
    public struct TaskDiff: Sendable {
        public var branch: String
        /// The commit the task started from (a full sha).
        public var start: String
        /// Whether `start` is the commit the branch was created from, as git recorded it (the
        /// branch's reflog); else it is a merge base (with the project's HEAD, or on the sprite
        /// with what the mirror had), which is what a task whose branch was rebased needs too.
        public var startRecorded: Bool
        /// `git diff <start> <branch>`.
        public var committed: Data
        /// The work folder's changes against its HEAD, untracked files included (ignored ones not).
        public var uncommitted: Data
        /// The work folder read for `uncommitted`; nil when it is gone (after a merge, say).
        public var workdir: String?
        /// Where it was computed.
        /// Where it was computed: nothing for this machine, " on the sprite NAME".
        public var computedOn: String
        /// Things to tell the user besides the diff.
        public var notes: [String] = []
    }

    /// A task with a branch to review, and its project's repository on this machine.
    public struct ReviewSubject: Sendable {
        var task: TaskRecord
        var branch: String
        var project: String
        /// The repository's top folder (`git rev-parse --show-toplevel` of the project).
        var root: String
    }

    /// The task and its repository; a clear error when it has no branch: no project, a project
    /// that is not a git repository, or a task that never ran.
    func reviewSubject(_ taskID: Int64, _ purpose: String) async throws -> ReviewSubject {
        let task = try store.task(id: taskID)
        guard let projectName = task.projectName else {
            throw TaskError.failed("#\(taskID) has no project, so it has no branch \(purpose)")
        }
        let project = try store.project(named: projectName)
        let top = try await local.sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
        guard top.status == 0 else {
            throw TaskError.failed(
                "#\(taskID)'s project \(projectName) (\(project.path)) is not a git repository, so #\(taskID) has no branch \(purpose)")
        }
        guard let branch = task.branch, !branch.isEmpty else {
            throw TaskError.failed("#\(taskID) has not run yet, so it has no branch \(purpose) (start it with: run \(taskID))")
        }
        return ReviewSubject(task: task, branch: branch, project: projectName,
                             root: top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: - diff

    /// The task's changes, computed where its work is: here for a local task; on the sprite
    /// (through its sandbox, nothing pulled) for a sprite task. `color` asks git for its colours.
    public func diff(taskID: Int64, format: DiffFormat, color: Bool) async throws -> TaskDiff {
        let subject = try await reviewSubject(taskID, "to diff")
        var options = ["--color=" + (color ? "always" : "never")]
        switch format {
        case .patch: break
        case .stat(let width): options.append(width.map { "--stat=\($0)" } ?? "--stat")
        case .nameOnly: options.append("--name-only")
        }
        return try await site(for: subject.task).diff(subject, options: options, runner: self)
    }

    /// What the start commit is compared with when the branch's reflog does not say (or a rebase
    /// moved the branch on): the project's HEAD, or the refs the sprite's clone got from the mirror.
    public enum DiffBases: String, Sendable {
        case head, origin
    }

    enum DiffScriptError: Error {
        case repositoryGone
    }

    /// One `sh` run (one exec on a sprite): finds the start commit, writes both diffs, and prints
    /// `<start> <recorded|merge-base> <workdir state> <bytes> <bytes>` and then the two diffs.
    /// Uncommitted changes are read through a copy of the work folder's index (`GIT_INDEX_FILE`),
    /// so the agent's own index is never touched and untracked files show as new files.
    static let diffScript = #"""
        repo=$1 branch=$2 work=$3 bases=$4
        shift 4
        cd "$repo" 2>/dev/null || exit 3
        tip=$(git rev-parse --verify -q "refs/heads/$branch^{commit}") || exit 4
        created=
        oldest=$(git reflog show --format='%H %gs' "refs/heads/$branch" -- 2>/dev/null | tail -n 1)
        case "$oldest" in
          *" branch: Created from "*) created=${oldest%% *} ;;
        esac
        if [ -n "$created" ] && ! git merge-base --is-ancestor "$created" "$tip" 2>/dev/null; then created=; fi
        merged=no
        if [ "$bases" = origin ]; then
          refs=$(git for-each-ref --format='%(objectname)' refs/remotes/origin/)
        else
          refs=$(git rev-parse --verify -q 'HEAD^{commit}')
          if [ -n "$refs" ] && git merge-base --is-ancestor "$tip" "$refs" 2>/dev/null; then merged=yes; fi
        fi
        base=
        [ -n "$refs" ] && base=$(git merge-base "$tip" $refs 2>/dev/null)
        if [ -n "$created" ] && [ -n "$base" ] && [ "$merged" = no ] && [ "$created" != "$base" ] \
            && git merge-base --is-ancestor "$created" "$base" 2>/dev/null; then
          start=$base how=merge-base
        elif [ -n "$created" ]; then
          start=$created how=recorded
        elif [ -n "$base" ]; then
          start=$base how=merge-base
        else
          echo "cannot tell which commit $branch started from" >&2
          exit 5
        fi
        tmp=$(mktemp -d) || exit 1
        trap 'rm -rf "$tmp"' EXIT
        git diff "$@" "$start" "$tip" -- > "$tmp/committed" || exit 6
        : > "$tmp/work"
        state=none
        if [ -n "$work" ] && [ -d "$work" ] && cd "$work" 2>/dev/null && git rev-parse --verify -q HEAD >/dev/null; then
          state=read
          index=$(git rev-parse --git-path index)
          if [ -f "$index" ]; then cp "$index" "$tmp/index" || exit 1; fi
          if ! GIT_INDEX_FILE="$tmp/index" git add -A 2>"$tmp/err" >/dev/null; then
            cat "$tmp/err" >&2
            exit 7
          fi
          GIT_INDEX_FILE="$tmp/index" git diff --cached "$@" HEAD -- > "$tmp/work" || exit 6
        fi
        printf '%s %s %s %s %s\n' "$start" "$how" "$state" $(wc -c < "$tmp/committed") $(wc -c < "$tmp/work")
        cat "$tmp/committed" "$tmp/work"
        """#

    static func diff(in sandbox: any Sandbox, place: String, repository: String, branch: String, workdir: String?,
                     bases: DiffBases, options: [String]) async throws -> TaskDiff {
        let r: CommandResult
        do {
            r = try await sandbox.probe(["sh", "-c", diffScript, "sh", repository, branch, workdir ?? "", bases.rawValue] + options)
        } catch let e as SandboxError {
            throw TaskError.failed("cannot diff \(branch)\(place): \(e)")
        }
        let detail = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch r.status {
        case 0: break
        case 3: throw DiffScriptError.repositoryGone
        case 4: throw TaskError.failed("the branch \(branch) does not exist in \(repository)\(place)")
        case 5: throw TaskError.failed(detail)
        case 7: throw TaskError.failed("cannot read the uncommitted changes in \(workdir ?? "")\(place): \(detail)")
        default: throw TaskError.failed("git diff failed\(place)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        let out = r.stdout
        guard let newline = out.firstIndex(of: 0x0A) else { throw TaskError.failed("git diff\(place) printed nothing") }
        let fields = String(decoding: out[out.startIndex..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 5, let committedCount = Int(fields[3]), let workCount = Int(fields[4]),
              out.endIndex - (newline + 1) == committedCount + workCount else {
            throw TaskError.failed("git diff\(place) printed something unexpected")
        }
        let body = newline + 1
        return TaskDiff(
            branch: branch, start: fields[0], startRecorded: fields[1] == "recorded",
            committed: Data(out[body..<body + committedCount]),
            uncommitted: Data(out[(body + committedCount)...]),
            workdir: fields[2] == "read" ? workdir : nil, computedOn: place)
    }

    // MARK: - merge

    /// What a merge did.
    public struct MergeOutcome: Sendable {
        public enum Kind: Sendable, Equatable {
            case fastForward
            case mergeCommit
            case squash
        }

        public var branch: String
        /// The branch merged into (the one checked out in the project).
        public var into: String
        public var kind: Kind
        /// The branch's commits that were merged, `<short sha> <subject>`, newest first.
        public var commits: [String]
        /// The merged-into branch's new commit (short).
        public var head: String
        /// For a sprite task: what pulling its branch first brought (`<short sha> <subject>`).
        public var pulled: [String]?
        /// The task's work folder (a worktree here, a clone on the sprite).
        public var workdir: String?
        /// Whether the work folder was removed; when not, `kept` says why.
        public var workdirRemoved: Bool
        public var kept: String?
        /// Where the work folder was.
        /// What its folder was: "worktree", "clone on the sprite NAME".
        public var workdirNoun: String
    }

    /// Merges the task's branch into the branch checked out in its project — fast-forward when
    /// possible, one commit with `squash` — after pulling it first for a sprite task. Refused,
    /// with nothing changed, when the checkout has uncommitted changes or a merge, rebase,
    /// cherry-pick or revert in progress, or when the merge conflicts (aborted; the error lists
    /// the files). Afterwards the task is `done` and its work folder removed; the branch stays.
    public func merge(taskID: Int64, squash: Bool) async throws -> MergeOutcome {
        var subject = try await reviewSubject(taskID, "to merge")
        try? await catchUp(taskID: subject.task.id)
        subject.task = try store.task(id: taskID)
        let task = subject.task
        let (root, branch) = (subject.root, subject.branch)
        if task.status.isActive {
            throw TaskError.failed(
                "#\(taskID) is \(task.status.rawValue) and its agent may still change \(branch); end it first with: done \(taskID) (or stop \(taskID))")
        }
        let git = ReviewGit(sandbox: local.sandbox, root: root)
        let into = try await git.checkedOutBranch(purpose: "merge \(branch) into")
        if into == branch { throw TaskError.failed("the project's checkout is on \(branch) itself; check out the branch to merge into first") }
        try await git.requireNothingInProgress()
        try await git.requireClean()

        let site = try await site(for: task)
        let pulled = try await site.bringBranchHome(task, runner: self)
        guard let tip = try await git.commit("refs/heads/\(branch)") else {
            throw TaskError.failed("the branch \(branch) is not in \(root)")
        }
        guard let head = try await git.commit("HEAD") else { throw TaskError.failed("\(root) has no commit to merge into") }
        if try await git.isAncestor(tip, of: head) {
            throw TaskError.failed("nothing to merge: \(into) has every commit of \(branch) already"
                + (pulled == nil ? "" : " (it was pulled)"))
        }
        let commits = try await git.lines(["log", "--format=%h %s", tip, "^" + head])
        let fastForward = try await git.isAncestor(head, of: tip)
        let environment = ["GIT_MERGE_AUTOEDIT": "no"]
        let merged = try await local.sandbox.run(
            ["git", "-C", root, "merge", "--quiet"] + (squash ? ["--squash"] : ["--ff", "--no-edit"]) + [branch],
            cwd: nil, env: environment, stdin: nil)
        if merged.status != 0 {
            try await git.abandonMerge(branch: branch, into: into, head: head, failure: merged)
        }
        if squash {
            let message = task.title + "\n\nSquashed from \(branch) (task #\(taskID)):\n\n"
                + commits.reversed().map { "* " + $0.drop { $0 != " " }.dropFirst() }.joined(separator: "\n") + "\n"
            let committed = try await local.sandbox.run(["git", "-C", root, "commit", "--quiet", "-F", "-"], cwd: nil, env: [:],
                                                        stdin: Data(message.utf8))
            if committed.status != 0 {
                try await git.abandonMerge(branch: branch, into: into, head: head, failure: committed)
            }
        }
        let now = try await git.commit("HEAD") ?? head
        let kind: MergeOutcome.Kind = squash ? .squash : fastForward && now == tip ? .fastForward : .mergeCommit
        let how = switch kind {
        case .fastForward: "fast-forward"
        case .mergeCommit: "merge commit"
        case .squash: "squashed into one commit"
        }
        try store.setStatus(id: taskID, .done, detail: "merged into \(into)", cause: .user)
        try store.appendLog(taskID: taskID, kind: "system",
                            message: "merged \(branch) into \(into) (\(how), \(commits.count) commit\(commits.count == 1 ? "" : "s")): \(into) is at \(now.prefix(7))")

        var outcome = MergeOutcome(
            branch: branch, into: into, kind: kind, commits: commits, head: String(now.prefix(7)), pulled: pulled,
            workdir: task.worktreePath, workdirRemoved: false, workdirNoun: site.workdirNoun)
        if let workdir = task.worktreePath, workdir != root {
            // The merge is done whatever happens here: a failure to remove is said, not thrown.
            do {
                (outcome.workdirRemoved, outcome.kept) = try await site.removeWorkdir(workdir, git: git)
            } catch {
                outcome.kept = "it could not be removed: \(error)"
            }
            try store.appendLog(taskID: taskID, kind: "system",
                                message: outcome.workdirRemoved ? "removed \(workdir)" : "kept \(workdir): \(outcome.kept ?? "")")
        }
        return outcome
    }

    // MARK: - pull request

    /// What `pr` did.
    public struct PullRequestOutcome: Sendable {
        public var branch: String
        /// Where origin is (its URL).
        public var origin: String
        /// What `git push` reported, line by line.
        public var pushed: [String]
        /// For a sprite task: what pulling its branch first brought.
        public var pulled: [String]?
        /// What `gh pr create` printed (the pull request's address), when gh is installed.
        public var created: String?
        /// Without gh: the command that opens the pull request (its body in `bodyFile`).
        public var command: String?
        public var bodyFile: String?
    }

    /// Pushes the task's branch to its project's `origin` (pulled first for a sprite task) and,
    /// when `gh` is on PATH, opens a pull request (title: the task's title; body: its prompt and
    /// the agent's last message); otherwise says the command to run.
    public func pullRequest(taskID: Int64, draft: Bool) async throws -> PullRequestOutcome {
        let subject = try await reviewSubject(taskID, "to push")
        let task = subject.task
        let (root, branch) = (subject.root, subject.branch)
        let git = ReviewGit(sandbox: local.sandbox, root: root)
        let origin = try await local.sandbox.run(["git", "-C", root, "remote", "get-url", "origin"])
        guard origin.status == 0 else {
            throw TaskError.failed("project \(subject.project) has no remote named origin; add one with: git -C \(ShellQuote.quote(root)) remote add origin <url>")
        }
        let site = try await site(for: task)
        try? await catchUp(taskID: task.id)
        let pulled = try await site.bringBranchHome(task, runner: self)
        guard try await git.commit("refs/heads/\(branch)") != nil else {
            throw TaskError.failed("the branch \(branch) is not in \(root)")
        }
        // No prompt for credentials: the push runs without a terminal.
        let push = try await local.sandbox.run(
            ["git", "-C", root, "push", "--set-upstream", "origin", "refs/heads/\(branch):refs/heads/\(branch)"],
            cwd: nil, env: ["GIT_TERMINAL_PROMPT": "0"], stdin: nil)
        let report = push.stderrText.split(separator: "\n").map { String($0) }.filter { !$0.isEmpty }
        guard push.status == 0 else {
            throw TaskError.failed("git push of \(branch) to origin failed: " + report.joined(separator: "\n"))
        }
        try store.appendLog(taskID: taskID, kind: "system", message: "pushed \(branch) to origin")
        var outcome = PullRequestOutcome(
            branch: branch, origin: origin.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), pushed: report, pulled: pulled)

        var body = "## Task\n\n" + task.prompt.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        if let last = try lastAgentMessage(taskID: taskID)?.trimmingCharacters(in: .whitespacesAndNewlines), !last.isEmpty {
            body += "\n## The agent's last message\n\n" + last + "\n"
        }
        // The base is the checkout's branch when origin has it (its upstream); else gh's default.
        var base: [String] = []
        if let upstream = try? await git.line(["rev-parse", "--abbrev-ref", "HEAD@{upstream}"]), upstream.hasPrefix("origin/"),
           upstream != "origin/\(branch)" {
            base = ["--base", String(upstream.dropFirst("origin/".count))]
        }
        let flags = ["--head", branch] + base + ["--title", task.title]
        let draftFlag = draft ? ["--draft"] : []
        guard resolveExecutable("gh") != nil else {
            let file = paths.taskDirectory(taskID) + "/pr-body.md"
            try FileManager.default.createDirectory(atPath: paths.taskDirectory(taskID), withIntermediateDirectories: true)
            try Data(body.utf8).write(to: URL(fileURLWithPath: file))
            outcome.bodyFile = file
            outcome.command = "cd \(ShellQuote.quoteIfNeeded(root)) && gh pr create "
                + (flags + ["--body-file", file] + draftFlag).map(ShellQuote.quoteIfNeeded).joined(separator: " ")
            return outcome
        }
        // Arguments go as argv; a body too long for one argument goes on stdin.
        let long = body.utf8.count > 100_000
        let created = try await local.sandbox.run(
            ["gh", "pr", "create"] + flags + (long ? ["--body-file", "-"] : ["--body", body]) + draftFlag,
            cwd: root, env: ["GH_PROMPT_DISABLED": "1", "GIT_TERMINAL_PROMPT": "0"], stdin: long ? Data(body.utf8) : nil)
        guard created.status == 0 else {
            let detail = (created.stderrText + created.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TaskError.failed("gh pr create failed (\(branch) is pushed to origin): \(detail)")
        }
        let printed = created.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        outcome.created = printed
        try store.appendLog(taskID: taskID, kind: "system", message: "pull request: \(printed)")
        return outcome
    }

    /// The `last_assistant_message` of the task's newest `Stop` event.
    func lastAgentMessage(taskID: Int64) throws -> String? {
        var newest: String?
        try store.forEachRawEvent(EventFilter(taskID: taskID)) { row in
            if row.event.elementsEqual("Stop".utf8) { newest = row.lineString }
        }
        return newest.flatMap { HookRecord(line: $0).lastAssistantMessage }
    }
}

/// Git in the project's repository on this machine, for merging.
public struct ReviewGit: Sendable {
    let sandbox: any Sandbox
    let root: String

    func run(_ args: [String]) async throws -> CommandResult {
        try await sandbox.run(["git", "-C", root] + args)
    }

    /// Trimmed stdout; an error with git's message when it fails.
    func line(_ args: [String]) async throws -> String {
        let r = try await run(args)
        guard r.status == 0 else {
            throw TaskError.failed("git \(args.first ?? "") failed in \(root): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func lines(_ args: [String]) async throws -> [String] {
        try await line(args).split(separator: "\n").map(String.init)
    }

    /// The full sha of `rev`, nil when there is no such commit.
    func commit(_ rev: String) async throws -> String? {
        let r = try await run(["rev-parse", "--verify", "-q", rev + "^{commit}"])
        return r.status == 0 ? r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    func isAncestor(_ a: String, of b: String) async throws -> Bool {
        try await run(["merge-base", "--is-ancestor", a, b]).status == 0
    }

    /// The branch checked out in the project.
    func checkedOutBranch(purpose: String) async throws -> String {
        let r = try await run(["symbolic-ref", "--short", "-q", "HEAD"])
        guard r.status == 0 else {
            throw TaskError.failed("the project's checkout \(root) is on a detached HEAD; check out the branch to \(purpose) first")
        }
        return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Refuses a merge, rebase, cherry-pick or revert in progress in the checkout.
    func requireNothingInProgress() async throws {
        let markers = [("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase (or git am)"),
                       ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert")]
        let paths = try await lines(["rev-parse"] + markers.flatMap { ["--git-path", $0.0] })
        for (path, (_, what)) in zip(paths, markers) {
            let full = path.hasPrefix("/") ? path : root + "/" + path
            if FileManager.default.fileExists(atPath: full) {
                throw TaskError.failed("\(what) is in progress in \(root); finish or abort it first")
            }
        }
    }

    /// Refuses a checkout with uncommitted changes to tracked files (untracked files are left
    /// alone: git refuses by itself to overwrite one).
    func requireClean() async throws {
        let status = try await run(["status", "--porcelain", "--untracked-files=no"])
        guard status.status == 0 else {
            throw TaskError.failed("git status failed in \(root): \(status.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // Each line is `XY path` (the leading column may be a space: never trimmed).
        let changed = status.stdoutText.split(separator: "\n").filter { $0.count > 3 }
        guard changed.isEmpty else {
            let files = changed.prefix(5).map { String($0.dropFirst(3)) }.joined(separator: ", ")
                + (changed.count > 5 ? " and \(changed.count - 5) more" : "")
            throw TaskError.failed("\(root) has uncommitted changes (\(files)); commit or stash them first")
        }
    }

    /// Undoes a failed merge (conflicts, or a failed squash commit) so the checkout is as it was,
    /// and throws the error that says why, listing conflicting files.
    func abandonMerge(branch: String, into: String, head: String, failure: CommandResult) async throws -> Never {
        let conflicted = (try? await lines(["diff", "--name-only", "--diff-filter=U"])) ?? []
        let merging = try await run(["rev-parse", "--verify", "-q", "MERGE_HEAD"]).status == 0
        let undo = try await run(merging ? ["merge", "--abort"] : ["reset", "--merge"])
        let headNow = try await commit("HEAD")
        let leftOver = try await run(["status", "--porcelain", "--untracked-files=no"]).stdoutText
        let restored = undo.status == 0 && headNow == head && leftOver.isEmpty
        let state = restored
            ? "aborted, nothing changed"
            : "and it could not be undone cleanly (\(undo.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))); look at \(root)"
        if !conflicted.isEmpty {
            throw TaskError.failed(
                "merging \(branch) into \(into) conflicts in \(conflicted.joined(separator: ", ")) — \(state)"
                    + (restored ? " (merge it by hand with: git merge \(branch))" : ""))
        }
        let detail = (failure.stderrText + failure.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
        throw TaskError.failed("merging \(branch) into \(into) failed — \(state): \(detail)")
    }

    /// `git worktree remove` (never forced): (removed, why not).
    func removeWorktree(_ path: String) async throws -> (Bool, String?) {
        guard FileManager.default.fileExists(atPath: path) else {
            _ = try? await run(["worktree", "prune"])
            return (true, nil)
        }
        let r = try await run(["worktree", "remove", path])
        if r.status == 0 { return (true, nil) }
        var why = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if why.contains("contains modified or untracked files") {
            why = "it holds uncommitted changes (git worktree remove --force \(ShellQuote.quote(path)) drops them)"
        } else if why.hasPrefix("fatal: ") {
            why.removeFirst("fatal: ".count)
        }
        return (false, why)
    }
}
