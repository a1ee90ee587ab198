import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// Which kind of sandbox a task runs in (the value stored in a task's `sandbox` column).
public enum SiteKind: String, Sendable, CaseIterable {
    case local, sprite
}

/// A place where tasks run, with everything the runner needs there — the sandbox, its tmux
/// server, where the run files and the hook log live, the hook-source name ingestion stores
/// offsets under — and what differs from one place to another: how a task is launched there, how
/// its hook log is read, how its work comes back to the project. This machine is ``LocalSite``;
/// each sprite of the pool is a ``SpriteSite``. The runner never asks which one it has.
public protocol Site: Sendable {
    /// The kind of sandbox (stored in a task's `sandbox` column).
    var kind: SiteKind { get }
    /// The site's name (stored in a task's `site` column): `local`, or the sprite's name.
    var name: String { get }
    /// How messages name it: "this machine", "the sprite task-sandbox".
    var label: String { get }
    /// Where, after a verb: nothing for this machine, " on the sprite task-sandbox".
    var onSite: String { get }
    var sandbox: any Sandbox { get }
    var tmux: Tmux { get }
    /// The key of this site's hook log in `hook_sources` (`local`, `sprite:<name>:<id>`).
    var source: String { get }
    /// Run files: the hook script, the hook log, per-task settings, prompts and pane scripts.
    var runDirectory: String { get }
    /// Work folders of tasks without a project (and, on a sprite, the clones of projects).
    var workDirectory: String { get }
    /// The setting naming the agent command here (`agent`, `sprite.agent`).
    var agentSetting: String { get }
    /// The setting naming the permission mode agents start in here.
    var permissionSetting: String { get }
    /// Each read of the hook log is a round trip: skip it while a live stream ingests the log,
    /// and wait for an event in one command rather than by polling.
    var readsAreRoundTrips: Bool { get }
    /// What ends every agent window here at once, for a task found without its window:
    /// "a cold pause ends every process", "a restart of this machine or a tmux kill-server ends them".
    var windowsEndWhen: String { get }
    /// What a task's folder here is called: "worktree", "clone on the sprite task-sandbox".
    var workdirNoun: String { get }
    /// Environment variables passed to the agent here besides `agent_env`'s.
    var agentEnvironmentNames: Set<String> { get }

    /// Checks what can be checked before a slot is taken; returns the agent command.
    func preflight(_ runner: TaskRunner) async throws -> String
    /// Starts `task` (which holds a slot here) in a tmux window.
    func start(_ task: TaskRecord, mode: TaskRunner.Mode, runner: TaskRunner,
               progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome
    /// Stores what the hook log holds past the stored offset; with `pattern`, first waits up to
    /// `seconds` for a line containing it, where that saves round trips.
    func catchUp(_ ingestor: Ingestor, waitingFor pattern: String?, seconds: Int) async throws
    /// Makes ready for a live tail of the hook log.
    func prepare(_ tail: inout HookLogTail) throws
    /// What the agent's state file here says of an API key's last 20 characters.
    func apiKeyAnswer(suffix: String) async throws -> TrustConfig.KeyAnswer
    /// Makes the task's branch present in its project's repository on this machine; returns the
    /// commits it brought (nil: the branch was there already).
    func bringBranchHome(_ task: TaskRecord, runner: TaskRunner) async throws -> [String]?
    /// Removes a merged task's folder; says whether it did, or why it kept it.
    func removeWorkdir(_ workdir: String, git: ReviewGit) async throws -> (removed: Bool, kept: String?)
    /// What a rewind of `task` restores here besides its folder (a sprite's start checkpoint),
    /// checked before anything changes; throws when the rewind must be refused.
    func rewindPlan(_ task: TaskRecord, runner: TaskRunner) async throws -> RewindPlan
    /// Completes a rewind whose folder went back (`keptRefs` hold the dropped commits); returns
    /// what it did or could not do.
    func finishRewind(_ task: TaskRecord, plan: RewindPlan, keptRefs: [String], runner: TaskRunner) async throws -> [String]
    /// The task's changes, computed where its work is.
    func diff(_ subject: TaskRunner.ReviewSubject, options: [String], runner: TaskRunner) async throws -> TaskRunner.TaskDiff
}

extension Site {
    /// Every hook line of every task of this site is appended here.
    public var hookLog: String { runDirectory + "/hooks.log" }
    /// The hook script every handler runs.
    public var hookScript: String { runDirectory + "/hook.sh" }
    public func taskDirectory(_ id: Int64) -> String { runDirectory + "/tasks/\(id)" }
    /// Bare mirrors of the projects sent here (sprite), one per project.
    public func mirror(project: String) -> String { runDirectory + "/repos/\(project).git" }
}

/// What a rewind restores besides the task's folder.
public enum RewindPlan: Sendable, Equatable {
    /// Nothing more (this machine; a sprite without start checkpoints).
    case folderOnly
    /// The sprite's files, from checkpoint `id`.
    case checkpoint(id: String)
    /// The start checkpoint should be there and is not (deleted by hand): said, the folder still goes back.
    case checkpointMissing(comment: String)
}

/// Makes the site of a sprite of the pool on first use (provisioning the sprite when needed),
/// reporting progress.
public typealias SiteProvider = @Sendable (_ sprite: String, _ progress: @escaping @Sendable (String) -> Void) async throws -> any Site
