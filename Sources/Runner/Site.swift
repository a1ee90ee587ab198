import Foundation
import Sandbox

/// A place where tasks run, with everything the runner needs there: the sandbox, its tmux server,
/// where the run files and the hook log live, and the hook-source name ingestion stores offsets under.
public struct Site: Sendable {
    /// Which kind of sandbox (the value stored in a task's `sandbox` column).
    public enum Kind: String, Sendable, CaseIterable {
        case local, sprite
    }

    public let kind: Kind
    public let sandbox: any Sandbox
    public let tmux: Tmux
    /// The key of this site's hook log in `hook_sources` (`local`, `sprite:<name>`).
    public let source: String
    /// Run files: the hook script, the hook log, per-task settings, prompts and pane scripts.
    public let runDirectory: String
    /// Work folders of tasks without a project (and, on a sprite, the clones of projects).
    public let workDirectory: String
    /// The setting naming the agent command here (`agent`, `sprite.agent`).
    public let agentSetting: String
    /// The setting naming the permission mode agents start in here.
    public let permissionSetting: String
    /// On a sprite: hold a keep-awake Task while an agent runs there.
    public let keepAwake: Bool

    public init(kind: Kind, sandbox: any Sandbox, tmux: Tmux, source: String, runDirectory: String,
                workDirectory: String, agentSetting: String, permissionSetting: String, keepAwake: Bool = false) {
        self.kind = kind
        self.sandbox = sandbox
        self.tmux = tmux
        self.source = source
        self.runDirectory = runDirectory
        self.workDirectory = workDirectory
        self.agentSetting = agentSetting
        self.permissionSetting = permissionSetting
        self.keepAwake = keepAwake
    }

    /// Every hook line of every task of this site is appended here.
    public var hookLog: String { runDirectory + "/hooks.log" }
    /// The hook script every handler runs.
    public var hookScript: String { runDirectory + "/hook.sh" }
    public func taskDirectory(_ id: Int64) -> String { runDirectory + "/tasks/\(id)" }
    /// Bare mirrors of the projects sent here (sprite), one per project.
    public func mirror(project: String) -> String { runDirectory + "/repos/\(project).git" }
}

/// Makes the sprite site on first use (provisioning the sprite when needed), reporting progress.
public typealias SiteProvider = @Sendable (_ progress: @escaping @Sendable (String) -> Void) async throws -> Site
