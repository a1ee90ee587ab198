import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// This machine: tasks run in git worktrees of their projects, in a tmux server here, and their
/// hooks append to a log the runner reads with system calls.
public struct LocalSite: Site {
    public let sandbox: any Sandbox
    public let tmux: Tmux
    public let runDirectory: String
    public let workDirectory: String

    public init(sandbox: any Sandbox, tmuxSocket: String, runDirectory: String, workDirectory: String) {
        self.sandbox = sandbox
        self.tmux = Tmux(sandbox: sandbox, socket: tmuxSocket)
        self.runDirectory = runDirectory
        self.workDirectory = workDirectory
    }

    public var kind: SiteKind { .local }
    public var name: String { "local" }
    public var label: String { "this machine" }
    public var onSite: String { "" }
    public var windowsEndWhen: String { "a restart of this machine, or tmux kill-server on its server, ends them all" }
    public var source: String { TaskRunner.localSource }
    public var agentSetting: String { "agent" }
    public var permissionSetting: String { "permission_mode" }
    public var readsAreRoundTrips: Bool { false }
    public var agentEnvironmentNames: Set<String> { ["CLAUDE_CONFIG_DIR"] }
    public var workdirNoun: String { "worktree" }

    /// The agent is on the PATH and its API key is not rejected, before a slot is taken.
    public func preflight(_ runner: TaskRunner) async throws -> String {
        let agent = runner.setting(agentSetting)
        guard runner.resolveExecutable(agent) != nil else {
            throw TaskError.failed("the agent command '\(agent)' was not found; set it with: config set agent <command> (or TASK_AGENT)")
        }
        try await runner.checkAPIKeyNotRejected(self)
        return agent
    }

    public func start(_ task: TaskRecord, mode: TaskRunner.Mode, runner: TaskRunner,
                      progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        let agent = runner.setting(agentSetting)
        let sandbox = self.sandbox
        let taskDir = self.taskDirectory(task.id)
        try await sandbox.createDirectory(path: taskDir)
        let prepared = try await prepareWorkdir(task, runner: runner)
        try await runner.installHookScript(self)

        let settingsPath = taskDir + "/settings.json"
        try await sandbox.writeFile(
            path: settingsPath,
            data: try HookSettings(taskID: task.id, hookScriptPath: self.hookScript, hookLogPath: self.hookLog).jsonData(),
            mode: 0o600)
        let agentEnvironment = runner.passThroughEnvironment(self)
        // The agent's API key is approved (its last 20 characters, nothing more) so its start-up
        // screen asking about it never holds the task; trust likewise, unless turned off.
        let keySuffix = agentEnvironment["ANTHROPIC_API_KEY"].flatMap { $0.isEmpty ? nil : TrustConfig.apiKeySuffix($0) }
        let trust = runner.setting("trust_workspace") == "on"
        if trust || keySuffix != nil {
            let paths = trust ? TrustConfig.projectPaths(directory: prepared.workdir, repositoryRoot: prepared.repoRoot) : []
            do {
                try TrustConfig.forCurrentUser().trust(projectPaths: paths, apiKeySuffix: keySuffix)
            } catch {
                throw TaskError.failed("cannot prepare the agent's ~/.claude.json (trust, API key) for \(prepared.workdir): \(error)")
            }
        }
        let (sessionID, session, promptText) = TaskRunner.session(for: mode)
        let promptFile = taskDir + "/prompt.txt"
        try await sandbox.writeFile(path: promptFile, data: Data(promptText.utf8), mode: 0o600)
        let mode = runner.setting(permissionSetting)
        let command = AgentCommand(agent: agent, session: session, settingsPath: settingsPath, permissions: TaskRunner.permissions(mode))
        // Credentials go into a 0600 file the pane script sources and deletes before the agent starts.
        let environmentFile = taskDir + "/env.sh"
        try await sandbox.writeFile(
            path: environmentFile, data: Data(PaneScript.environmentFileText(agentEnvironment).utf8), mode: 0o600)
        let script = PaneScript(
            taskID: task.id, workdir: prepared.workdir, command: command, promptFile: promptFile,
            hookLogPath: self.hookLog, keepAwakeTask: nil,
            environmentFile: environmentFile)
        let scriptPath = taskDir + "/pane.sh"
        try await sandbox.writeFile(path: scriptPath, data: Data(script.text.utf8), mode: 0o600)

        try await self.tmux.ensureSession()
        // Where `rewind` takes the branch back to (the first launch's commit is kept).
        let startCommit = prepared.branch == nil ? nil
            : (try? await sandbox.run(["git", "-C", prepared.workdir, "rev-parse", "--verify", "-q", "HEAD^{commit}"]))
                .flatMap { $0.status == 0 ? $0.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : nil }
        let pane = try await self.tmux.newWindow(name: "task-\(task.id)", cwd: prepared.workdir, command: ["sh", scriptPath])
        try runner.store.recordLaunch(
            id: task.id, sandbox: self.kind.rawValue, worktree: prepared.workdir, branch: prepared.branch,
            sessionID: sessionID, paneID: pane, permissionMode: mode, startCommit: startCommit)
        for note in prepared.notes { try runner.store.appendLog(taskID: task.id, kind: "system", message: note) }
        try runner.store.appendLog(taskID: task.id, kind: "system", message: "started \(agent) in \(prepared.workdir) (pane \(pane))")
        return .started(pane: pane, workdir: prepared.workdir, notes: prepared.notes)
    }

    public func catchUp(_ ingestor: Ingestor, waitingFor pattern: String?, seconds: Int) async throws {
        try ingestor.catchUpLocal(self)
    }

    public func prepare(_ tail: inout HookLogTail) throws {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        tail.watchedPID = getpid()
    }

    public func apiKeyAnswer(suffix: String) async throws -> TrustConfig.KeyAnswer {
        TrustConfig.forCurrentUser().keyAnswer(suffix: suffix)
    }

    /// A local task's branch is in its project's repository already.
    public func bringBranchHome(_ task: TaskRecord, runner: TaskRunner) async throws -> [String]? { nil }

    public func removeWorkdir(_ workdir: String, git: ReviewGit) async throws -> (removed: Bool, kept: String?) {
        try await git.removeWorktree(workdir)
    }

    public func rewindPlan(_ task: TaskRecord, runner: TaskRunner) async throws -> RewindPlan { .folderOnly }

    public func finishRewind(_ task: TaskRecord, plan: RewindPlan, keptRefs: [String], runner: TaskRunner) async throws -> [String] { [] }

    public func diff(_ subject: TaskRunner.ReviewSubject, options: [String], runner: TaskRunner) async throws -> TaskRunner.TaskDiff {
        try await TaskRunner.diff(in: sandbox, place: onSite, repository: subject.root, branch: subject.branch,
                                  workdir: subject.task.worktreePath, bases: .head, options: options)
    }

    /// What a task's work folder is.
    struct PreparedWorkdir {
        var workdir: String
        var branch: String?
        var repoRoot: String?
        var notes: [String] = []
    }

    /// A local task's work folder: a git worktree on `task/<id>-<slug>` for a project in a
    /// repository; the project folder itself for a project that is not; without a project, a fresh
    /// folder under the work folder. (A remote site's is made by ``RemoteLaunch``.)
    func prepareWorkdir(_ task: TaskRecord, runner: TaskRunner) async throws -> PreparedWorkdir {
        let name = "\(task.id)-\(slug(task.title))"
        guard let projectName = task.projectName else {
            let dir = workDirectory + "/" + name
            try await sandbox.createDirectory(path: dir)
            return PreparedWorkdir(workdir: dir)
        }
        let project = try runner.store.project(named: projectName)
        let top = try await sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
        guard top.status == 0 else { return PreparedWorkdir(workdir: project.path) }
        let root = top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let fm = FileManager.default
        let folders = runner.paths.worktreeDirectory + "/\(projectName)/"
        // A worktree made by a launch that ended before it was recorded is this task's.
        let made = task.worktreePath ?? folders + name
        if fm.fileExists(atPath: made + "/.git") {
            return PreparedWorkdir(workdir: made, branch: task.branch ?? "task/\(name)", repoRoot: root)
        }
        let chosen = try await TaskBranch.choose(for: task, root: root, in: sandbox)
        let dir = task.worktreePath ?? folders + chosen.name
        try fm.createDirectory(atPath: (dir as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try await forgetMissingWorktree(dir, root: root)
        // A branch chosen at this launch is no branch yet; a recorded one may be gone.
        var hasBranch = false
        if !chosen.isNew {
            hasBranch = try await sandbox.run(["git", "-C", root, "rev-parse", "--verify", "--quiet", "refs/heads/\(chosen.branch)"]).status == 0
        }
        let args = hasBranch
            ? ["git", "-C", root, "worktree", "add", dir, chosen.branch]
            : ["git", "-C", root, "worktree", "add", "-b", chosen.branch, dir, "HEAD"]
        let r = try await sandbox.run(args)
        guard r.status == 0 else {
            throw TaskError.failed("git worktree add failed for #\(task.id): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return PreparedWorkdir(workdir: dir, branch: chosen.branch, repoRoot: root, notes: chosen.note.map { [$0] } ?? [])
    }

    /// A worktree folder removed by hand (or with the data folder it was in) stays registered in
    /// its repository, and git refuses to add one there again: such a registration of `dir`, which
    /// does not exist, is dropped (`git worktree prune`, which drops only registrations of missing folders).
    func forgetMissingWorktree(_ dir: String, root: String) async throws {
        guard !FileManager.default.fileExists(atPath: dir) else { return }
        let list = try await sandbox.run(["git", "-C", root, "worktree", "list", "--porcelain"])
        guard list.status == 0, list.stdoutText.split(separator: "\n").contains(Substring("worktree " + dir)) else { return }
        _ = try await sandbox.run(["git", "-C", root, "worktree", "prune"])
    }

}
