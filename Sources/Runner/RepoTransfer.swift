import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// Moves a project's code to a remote site and the agent's work back, as git bundles.
///
/// There: each project has a bare mirror on the site (`<run>/repos/<project>.git`) holding every
/// commit sent so far (one `sent-<sha>` branch per sent commit); a run sends only the commits the
/// mirror lacks, then clones the mirror into the task's folder on `task/<id>-<slug>`.
/// Back: the task's branch is bundled on the site without what came from the mirror, downloaded,
/// and fetched into the local repository as the same branch (fast-forward only).
struct RepoTransfer {
    let runner: TaskRunner
    let site: any Site

    var local: any Sandbox { runner.local.sandbox }
    var remote: any Sandbox { site.sandbox }

    /// What sending a project takes, decided here from the mirror's tips: files to upload, and the
    /// `sh` lines that fetch them into the mirror and make the task's clone there.
    struct Plan {
        var uploads: [(path: String, data: Data)] = []
        /// POSIX `sh` lines (they exit non-zero with a message on stderr when a step fails).
        var script: [String] = []
        var workdir: String
        var branch: String
        var notes: [String] = []
        /// The commit sent (the project's HEAD).
        var head = ""
    }

    /// Plans sending the project's current commit (only what the mirror, whose `tips` are given,
    /// lacks) and making the task's clone.
    func plan(project: String, root: String, taskName: String, branch: String, tips: [String],
              progress: @escaping @Sendable (String) -> Void) async throws -> Plan {
        let head = try await git(local, ["-C", root, "rev-parse", "--verify", "-q", "HEAD^{commit}"],
                                 failure: "project \(project) has no commit to send; commit something first")
        let short = String(head.prefix(7))
        let localBranch = (try? await git(local, ["-C", root, "symbolic-ref", "--short", "-q", "HEAD"], failure: "")) ?? "detached HEAD"
        let dirty = try await local.run(["git", "-C", root, "status", "--porcelain"]).stdoutText
            .split(separator: "\n").count
        let mirror = site.mirror(project: project)
        var plan = Plan(workdir: site.workDirectory + "/\(project)/\(taskName)", branch: branch, head: head)
        // Of the mirror's tips, those this repository knows can be left out of the bundle.
        var known: [String] = []
        if !tips.isEmpty {
            let check = try await local.run(["git", "-C", root, "cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd: nil, env: [:],
                                            stdin: Data((tips.joined(separator: "\n") + "\n").utf8))
            known = check.stdoutText.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                return parts.count == 2 && parts[1] == "commit" ? String(parts[0]) : nil
            }
        }
        let newCommits = Int(try await git(local, ["-C", root, "rev-list", "--count", "HEAD"] + known.map { "^" + $0 }, failure: "git rev-list failed")) ?? 0
        let q = ShellQuote.quote
        if newCommits > 0 {
            progress("… bundling \(short) (\(localBranch), \(newCommits) commit\(newCommits == 1 ? "" : "s") \(site.label) lacks)")
            let file = NSTemporaryDirectory() + "task-send-\(UUID().uuidString).bundle"
            defer { try? FileManager.default.removeItem(atPath: file) }
            _ = try await checked(local, ["git", "-C", root, "bundle", "create", "-q", file, "HEAD"] + known.map { "^" + $0 },
                                  "git bundle create failed")
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            progress("… sending \(Self.size(data.count))")
            let there = mirror + "/incoming-\(short).bundle"
            plan.uploads.append((there, data))
            plan.script.append(
                "git -C \(q(mirror)) fetch -q \(q(there)) \(q("HEAD:refs/heads/sent-" + head)) || { rm -f \(q(there)); echo '\(site.label) could not read the bundle' >&2; exit 1; }; rm -f \(q(there))")
            plan.notes.append("sent \(short) (\(localBranch)) to \(site.label): \(newCommits) new commit\(newCommits == 1 ? "" : "s"), \(Self.size(data.count))")
        } else {
            plan.script.append("git -C \(q(mirror)) update-ref \(q("refs/heads/sent-" + head)) \(head) || { echo 'cannot name \(short) in the mirror' >&2; exit 1; }")
            plan.notes.append("\(short) (\(localBranch)) is on \(site.label) already: nothing new sent")
        }
        if dirty > 0 {
            plan.notes.append("not sent: \(dirty) uncommitted change\(dirty == 1 ? "" : "s") in \(root) (commit them to include them)")
        }
        let name = (try? await git(local, ["-C", root, "config", "user.name"], failure: "")) ?? ""
        let email = (try? await git(local, ["-C", root, "config", "user.email"], failure: "")) ?? ""
        let w = q(plan.workdir)
        plan.script += [
            "if [ ! -d \(w)/.git ]; then mkdir -p \"$(dirname \(w))\" && git clone -q --no-checkout \(q(mirror)) \(w) && git -C \(w) checkout -q -b \(q(branch)) \(head) || { echo 'cannot make the task'\"'\"'s clone on \(site.label)' >&2; exit 1; }; fi",
        ]
        if !name.isEmpty { plan.script.append("git -C \(w) config user.name \(q(name))") }
        if !email.isEmpty { plan.script.append("git -C \(w) config user.email \(q(email))") }
        return plan
    }

    /// What a pull brought.
    struct Pulled {
        var branch: String
        /// `<short sha> <subject>`, newest first.
        var commits: [String]
    }

    /// Brings the task's branch back into the local repository `root`.
    func pull(task: TaskRecord, root: String) async throws -> Pulled {
        guard let workdir = task.worktreePath, let branch = task.branch else {
            throw TaskError.failed("#\(task.id) has no branch on \(site.label) to pull")
        }
        let there = site.runDirectory + "/tasks/\(task.id)/pull.bundle"
        let bundle = #"""
            cd "$1" || exit 3
            git rev-parse --verify -q "refs/heads/$2" >/dev/null || exit 4
            if [ -z "$(git rev-list -n 1 "refs/heads/$2" --not --remotes=origin)" ]; then exit 5; fi
            mkdir -p "$(dirname "$3")" && git bundle create -q "$3" "refs/heads/$2" --not --remotes=origin
            """#
        let made = try await remote.run(["sh", "-c", bundle, "sh", workdir, branch, there])
        switch made.status {
        case 0: break
        case 3: throw TaskError.failed("#\(task.id)'s folder \(workdir) is gone from \(site.label)")
        case 4: throw TaskError.failed("#\(task.id)'s branch \(branch) does not exist on \(site.label)")
        case 5: return Pulled(branch: branch, commits: [])
        default: throw TaskError.failed("git bundle failed on \(site.label): \(made.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let data = try await remote.readFile(path: there)
        _ = try? await remote.run(["rm", "-f", there])
        let file = NSTemporaryDirectory() + "task-pull-\(UUID().uuidString).bundle"
        try data.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try await checked(local, ["git", "-C", root, "fetch", "-q", file, "refs/heads/\(branch)"],
                              "git fetch of the bundle failed")
        let fetched = try await git(local, ["-C", root, "rev-parse", "FETCH_HEAD"], failure: "git fetch gave no FETCH_HEAD")
        let old = try? await git(local, ["-C", root, "rev-parse", "--verify", "-q", "refs/heads/\(branch)"], failure: "")
        if let old, !old.isEmpty {
            if old == fetched { return Pulled(branch: branch, commits: []) }
            let ff = try await local.run(["git", "-C", root, "merge-base", "--is-ancestor", old, fetched])
            guard ff.status == 0 else {
                throw TaskError.failed("the local branch \(branch) has commits the sprite's lacks; not overwritten (the sprite's is at \(fetched.prefix(7)))")
            }
        }
        let range = (old.map { [fetched, "^" + $0] } ?? [fetched, "--not", "--branches"])
        let log = try await checked(local, ["git", "-C", root, "log", "--format=%h %s"] + range, "git log failed")
        _ = try await checked(local, ["git", "-C", root, "update-ref", "refs/heads/\(branch)", fetched] + (old.map { [$0] } ?? []),
                              "cannot update \(branch)")
        return Pulled(branch: branch, commits: log.stdoutText.split(separator: "\n").map(String.init))
    }

    /// Brings `refs` of the task's clone (commits a rewind dropped) into the local repository
    /// `root` under the same names, before the clone goes (a checkpoint restored).
    func keepHome(task: TaskRecord, refs: [String], root: String) async throws {
        guard let workdir = task.worktreePath, !refs.isEmpty else { return }
        let there = site.runDirectory + "/tasks/\(task.id)/kept.bundle"
        let bundle = #"""
            cd "$1" || exit 3
            out=$2
            shift 2
            mkdir -p "$(dirname "$out")" || exit 6
            [ -n "$(git rev-list -n 1 "$@" --not --remotes=origin)" ] || exit 5
            git bundle create -q "$out" "$@" --not --remotes=origin || exit 6
            """#
        let made = try await remote.run(["sh", "-c", bundle, "sh", workdir, there] + refs)
        let file = NSTemporaryDirectory() + "task-kept-\(UUID().uuidString).bundle"
        defer { try? FileManager.default.removeItem(atPath: file) }
        switch made.status {
        case 0:
            let data = try await remote.readFile(path: there)
            _ = try? await remote.run(["rm", "-f", there])
            try data.write(to: URL(fileURLWithPath: file))
            _ = try await checked(local, ["git", "-C", root, "fetch", "-q", file] + refs.map { "+\($0):\($0)" },
                                  "cannot keep \(refs.joined(separator: ", ")) in \(root)")
        case 5:
            // Every dropped commit came from here: point the refs at them.
            for ref in refs {
                let sha = try await git(remote, ["-C", workdir, "rev-parse", ref], failure: "cannot read \(ref) on \(site.label)")
                _ = try await checked(local, ["git", "-C", root, "update-ref", ref, sha], "cannot keep \(ref) in \(root)")
            }
        default:
            throw TaskError.failed("cannot bring \(refs.joined(separator: ", ")) from \(site.label): "
                + made.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    // MARK: - Helpers

    /// Runs git and returns its trimmed stdout; `failure` (plus git's message) when it fails.
    func git(_ sandbox: any Sandbox, _ args: [String], failure: String) async throws -> String {
        try await checked(sandbox, ["git"] + args, failure).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func checked(_ sandbox: any Sandbox, _ argv: [String], _ failure: String) async throws -> CommandResult {
        let r = try await sandbox.run(argv)
        guard r.status == 0 else {
            let detail = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw TaskError.failed(failure + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return r
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / 1048576) : String(format: "%.1f KiB", Double(bytes) / 1024)
    }
}

extension TaskRunner {
    /// Brings a task's branch back from the site it ran on into its project's repository.
    public func pull(taskID: Int64) async throws -> (branch: String, commits: [String]) {
        let task = try store.task(id: taskID)
        guard let projectName = task.projectName else { throw TaskError.failed("#\(taskID) has no project, so there is no branch to pull") }
        let site = try await site(for: task)
        guard site.name != local.name else {
            throw TaskError.failed("#\(taskID) ran on this machine: its branch \(task.branch ?? "-") is in the repository already")
        }
        let project = try store.project(named: projectName)
        let top = try await local.sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
        guard top.status == 0 else { throw TaskError.failed("project \(projectName) (\(project.path)) is not a git repository") }
        let root = top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let pulled = try await RepoTransfer(runner: self, site: site).pull(task: task, root: root)
        try store.appendLog(taskID: taskID, kind: "system",
                            message: "pulled \(pulled.branch): \(pulled.commits.count) new commit\(pulled.commits.count == 1 ? "" : "s")")
        return (pulled.branch, pulled.commits)
    }

    /// Pulls every ended task marked `run --pull`; returns a line per task for the user.
    public func pullFinished() async -> [String] {
        var lines: [String] = []
        for id in (try? store.tasksToPull()) ?? [] {
            try? store.setPullWhenDone(id: id, false)
            do {
                let (branch, commits) = try await pull(taskID: id)
                lines.append("#\(id) pulled \(branch): " + (commits.isEmpty ? "no new commits" : commits.joined(separator: "; ")))
            } catch {
                lines.append("#\(id) pull failed: \(error)")
            }
        }
        return lines
    }
}
