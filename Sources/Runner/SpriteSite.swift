import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// One sprite of the pool: a task's work is a clone of its project's mirror there (sent as a git
/// bundle), its agent runs in the sprite's tmux server holding a keep-awake task, and its hook
/// log is read over the Sprites API — each read a round trip, so reads wait for what they want in
/// one command, and a live stream stores the log while a shell is open.
public struct SpriteSite: Site {
    public let name: String
    public let sandbox: any Sandbox
    public let tmux: Tmux
    public let source: String
    public let runDirectory: String
    public let workDirectory: String
    /// The sprite's checkpoints (nil: none are taken or restored).
    public let checkpoints: (any SiteCheckpoints)?

    /// The site on the provisioned sprite `name` whose home folder is `home`. Its hook source
    /// names the sprite's `id` too: a sprite made anew under the same name starts a new hook log,
    /// read from its first byte.
    public init(name: String, sandbox: any Sandbox, home: String, id: String?, checkpoints: (any SiteCheckpoints)? = nil) {
        self.checkpoints = checkpoints
        self.name = name
        self.sandbox = sandbox
        self.tmux = Tmux(sandbox: sandbox, socket: "task")
        self.source = "sprite:\(name)" + (id.map { ":\($0)" } ?? "")
        self.runDirectory = Self.runDirectory(home: home)
        self.workDirectory = home + "/work"
    }

    /// Where the task's files, hook log and mirrors are on a sprite whose home folder is `home`.
    public static func runDirectory(home: String) -> String { home + "/.task" }

    public var kind: SiteKind { .sprite }
    public var label: String { "the sprite \(name)" }
    public var onSite: String { " on the sprite \(name)" }
    public var agentSetting: String { "sprite.agent" }
    public var permissionSetting: String { "sprite.permission_mode" }
    public var readsAreRoundTrips: Bool { true }
    public var windowsEndWhen: String { "a cold pause ends every process" }
    public var agentEnvironmentNames: Set<String> { [] }
    public var workdirNoun: String { "clone on the sprite \(name)" }

    /// Nothing before a slot: the launch's one command checks the agent and the key there.
    public func preflight(_ runner: TaskRunner) async throws -> String { runner.setting(agentSetting) }

    /// Before a task first starts here (it has no work folder yet; an attempt that failed before
    /// the launch does not count): the sprite as provisioned again (`sprite.fresh`), then a
    /// checkpoint named for the task (`task #N start`) that `rewind` restores.
    public func start(_ task: TaskRecord, mode: TaskRunner.Mode, runner: TaskRunner,
                      progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        if case .fresh = mode, task.worktreePath == nil, let checkpoints {
            if runner.startsFresh {
                if let id = try await checkpoints.find(comment: SpriteCheckpointsComments.provisioned) {
                    progress("… \(name): restoring checkpoint \(id) (sprite.fresh)")
                    try await restore(id, with: checkpoints, runner: runner)
                } else {
                    progress("✗ \(name): no provisioning checkpoint to start from (sprite.fresh); starting as it is")
                }
            }
            if runner.takesStartCheckpoints {
                let done = try await checkpoints.create(comment: SpriteCheckpointsComments.start(task.id))
                progress("✓ \(name): \(done) (\(SpriteCheckpointsComments.start(task.id)))")
            }
        }
        return try await RemoteLaunch(runner: runner, site: self).start(task, mode: mode, progress: progress)
    }

    /// Restores checkpoint `id`. The hook log goes back with the files: everything in it was
    /// stored, so the log it restores is read as a new generation without a word.
    func restore(_ id: String, with checkpoints: any SiteCheckpoints, runner: TaskRunner) async throws {
        _ = try? await runner.catchUp(site: self)
        let state = try runner.store.hookSource(source)
        if let file = state.fileID { try runner.store.markRotating(source: source, fileID: file) }
        _ = try await checkpoints.restore(id: id)
    }

    /// The task's start checkpoint, when start checkpoints are taken; refused while another task
    /// runs here (its work would go back too).
    public func rewindPlan(_ task: TaskRecord, runner: TaskRunner) async throws -> RewindPlan {
        guard let checkpoints, runner.takesStartCheckpoints else { return .folderOnly }
        let comment = SpriteCheckpointsComments.start(task.id)
        guard let id = try await checkpoints.find(comment: comment) else { return .checkpointMissing(comment: comment) }
        let others = try runner.store.listTasks(TaskFilter()).filter {
            $0.id != task.id && $0.status.isActive && runner.siteName(of: $0) == name
        }
        if let other = others.first {
            throw TaskError.failed(
                "#\(task.id)'s sprite \(name) also runs #\(other.id), whose work its checkpoint would undo; "
                    + "stop #\(other.id) first (stop \(other.id)) or wait until it ends, then rewind")
        }
        return .checkpoint(id: id)
    }

    /// Brings the dropped commits home (the restore takes the clone with it), then restores the
    /// sprite's files from the start checkpoint.
    public func finishRewind(_ task: TaskRecord, plan: RewindPlan, keptRefs: [String], runner: TaskRunner) async throws -> [String] {
        switch plan {
        case .folderOnly:
            return []
        case .checkpointMissing(let comment):
            return ["no checkpoint \"\(comment)\" on the sprite \(name) (it was not taken, or was deleted): its clone went back, its other files did not"]
        case .checkpoint(let id):
            guard let checkpoints else { return [] }
            var notes: [String] = []
            if !keptRefs.isEmpty, let projectName = task.projectName {
                let project = try runner.store.project(named: projectName)
                let top = try await runner.local.sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
                let root = top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                try await RepoTransfer(runner: runner, site: self).keepHome(task: task, refs: keptRefs, root: root)
                notes.append("kept \(keptRefs.joined(separator: ", ")) here, in \(root)")
            }
            try await restore(id, with: checkpoints, runner: runner)
            notes.append("the sprite \(name)'s files restored from checkpoint \(id) (\(SpriteCheckpointsComments.start(task.id)))")
            return notes
        }
    }

    public func catchUp(_ ingestor: Ingestor, waitingFor pattern: String?, seconds: Int) async throws {
        try await ingestor.catchUpRemote(self, waitingFor: pattern, seconds: seconds)
    }

    public func prepare(_ tail: inout HookLogTail) throws {}

    public func apiKeyAnswer(suffix: String) async throws -> TrustConfig.KeyAnswer {
        TrustConfig.keyAnswer(try await TrustConfig.stateDocument(in: sandbox), suffix: suffix)
    }

    /// The branch is pulled from the sprite's clone.
    public func bringBranchHome(_ task: TaskRecord, runner: TaskRunner) async throws -> [String]? {
        try await runner.pull(taskID: task.id).commits
    }

    /// The clone goes unless it holds uncommitted changes.
    public func removeWorkdir(_ workdir: String, git: ReviewGit) async throws -> (removed: Bool, kept: String?) {
        let script = #"""
            cd "$1" 2>/dev/null || exit 0
            [ -z "$(git status --porcelain 2>/dev/null)" ] || exit 5
            cd / && rm -rf "$1"
            """#
        let r = try await sandbox.run(["sh", "-c", script, "sh", workdir])
        switch r.status {
        case 0: return (true, nil)
        case 5: return (false, "it holds uncommitted changes")
        default: return (false, "rm failed: " + r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Computed in the clone there (nothing pulled); when the clone is gone (a merge removes it),
    /// from the branch as pulled here.
    public func diff(_ subject: TaskRunner.ReviewSubject, options: [String], runner: TaskRunner) async throws -> TaskRunner.TaskDiff {
        let taskID = subject.task.id
        guard let clone = subject.task.worktreePath else {
            throw TaskError.failed("#\(taskID) has no folder on \(label) to diff")
        }
        do {
            return try await TaskRunner.diff(in: sandbox, place: onSite, repository: clone, branch: subject.branch,
                                             workdir: clone, bases: .origin, options: options)
        } catch TaskRunner.DiffScriptError.repositoryGone {
            let here = runner.local
            let pulled = try await here.sandbox.run(
                ["git", "-C", subject.root, "rev-parse", "--verify", "-q", "refs/heads/\(subject.branch)"])
            guard pulled.status == 0 else {
                throw TaskError.failed("#\(taskID)'s folder \(clone) is gone from \(label), and its branch was never pulled")
            }
            var d = try await TaskRunner.diff(in: here.sandbox, place: here.onSite, repository: subject.root, branch: subject.branch,
                                              workdir: nil, bases: .head, options: options)
            d.notes.append("#\(taskID)'s folder is gone from \(label): this is its branch as pulled here")
            return d
        }
    }
}
