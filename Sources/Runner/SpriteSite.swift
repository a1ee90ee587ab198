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

    /// The site on the provisioned sprite `name` whose home folder is `home`. Its hook source
    /// names the sprite's `id` too: a sprite made anew under the same name starts a new hook log,
    /// read from its first byte.
    public init(name: String, sandbox: any Sandbox, home: String, id: String?) {
        self.name = name
        self.sandbox = sandbox
        self.tmux = Tmux(sandbox: sandbox, socket: "task")
        self.source = "sprite:\(name)" + (id.map { ":\($0)" } ?? "")
        self.runDirectory = home + "/.task"
        self.workDirectory = home + "/work"
    }

    public var kind: SiteKind { .sprite }
    public var label: String { "the sprite \(name)" }
    public var onSite: String { " on the sprite \(name)" }
    public var agentSetting: String { "sprite.agent" }
    public var permissionSetting: String { "sprite.permission_mode" }
    public var readsAreRoundTrips: Bool { true }
    public var agentEnvironmentNames: Set<String> { [] }
    public var workdirNoun: String { "clone on the sprite \(name)" }

    /// Nothing before a slot: the launch's one command checks the agent and the key there.
    public func preflight(_ runner: TaskRunner) async throws -> String { runner.setting(agentSetting) }

    public func start(_ task: TaskRecord, mode: TaskRunner.Mode, runner: TaskRunner,
                      progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        try await RemoteLaunch(runner: runner, site: self).start(task, mode: mode, progress: progress)
    }

    public func catchUp(_ runner: TaskRunner, waitingFor pattern: String?, seconds: Int) async throws {
        try await runner.catchUpRemote(self, waitingFor: pattern, seconds: seconds)
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
