import AgentHooks
import Foundation
import Sandbox
import Synchronization
import TaskCore

/// Runs tasks in the local sandbox: prepares the work folder, starts the agent in a tmux window
/// with hooks that append to the hook log, ingests that log into the store (status changes
/// included), talks to the agent's pane, and starts queued tasks when slots free.
public final class TaskRunner: Sendable {
    public let store: TaskStore
    public let paths: RunPaths
    public let environment: [String: String]
    public let sandbox: LocalSandbox
    public let tmux: Tmux
    /// Called with every batch of newly stored events (the shell prints them above the prompt).
    private let listener = Mutex<(@Sendable ([IngestedEvent]) -> Void)?>(nil)
    /// Serializes catch-ups in this process.
    private let ingestLock = Mutex(())

    /// The hook-log source name of the local sandbox.
    public static let localSource = "local"

    public init(store: TaskStore, home: String, environment: [String: String]) {
        self.store = store
        self.paths = RunPaths(home: home)
        self.environment = environment
        self.sandbox = LocalSandbox()
        let socket = environment["TASK_TMUX_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "task"
        self.tmux = Tmux(sandbox: sandbox, socket: socket)
    }

    public func setListener(_ f: (@Sendable ([IngestedEvent]) -> Void)?) {
        listener.withLock { $0 = f }
    }

    func setting(_ key: String) -> String {
        guard let def = try? Settings.definition(key) else { return "" }
        if let env = def.environment, let v = environment[env], !v.isEmpty { return v }
        return (try? store.setting(key)) ?? def.defaultValue
    }

    // MARK: - Ingestion

    /// Stores every complete line of the local hook log past the stored offset; returns what was stored.
    @discardableResult
    public func catchUp() throws -> [IngestedEvent] {
        let events: [IngestedEvent] = try ingestLock.withLock { _ in
            let offset = try store.hookOffset(source: Self.localSource)
            guard let fh = FileHandle(forReadingAtPath: paths.hookLog) else { return [] }
            defer { try? fh.close() }
            let size = Int64(try fh.seekToEnd())
            guard size > offset else { return [] }
            try fh.seek(toOffset: UInt64(offset))
            var splitter = HookLineSplitter(startOffset: offset)
            var all: [IngestedEvent] = []
            while let chunk = try fh.read(upToCount: 4 << 20), !chunk.isEmpty {
                let lines = splitter.feed(chunk)
                if lines.isEmpty { continue }
                all += try ingest(lines, committed: splitter.committedOffset)
            }
            return all
        }
        deliver(events)
        return events
    }

    /// Stores lines read from the hook log (by a catch-up or a live tail).
    func ingest(_ lines: [HookLineSplitter.Line], committed: Int64) throws -> [IngestedEvent] {
        let logLines = lines.filter { !$0.isBlank }.map { LogLine(record: $0.record, endOffset: $0.endOffset) }
        return try store.ingest(source: Self.localSource, lines: logLines, newOffset: committed)
    }

    func deliver(_ events: [IngestedEvent]) {
        guard !events.isEmpty else { return }
        listener.withLock { $0 }?(events)
    }

    /// Ingests lines a live tail read; delivers them and starts queued tasks when one finished.
    public func ingestLive(_ lines: [HookLineSplitter.Line], committed: Int64) async throws {
        let events = try ingestLock.withLock { _ in try ingest(lines, committed: committed) }
        deliver(events)
        if events.contains(where: { $0.transition?.status.isFinished == true }) {
            await startQueued()
        }
    }

    /// A live tail of the local hook log from the stored offset.
    public func liveTail() throws -> HookLogTail {
        try FileManager.default.createDirectory(atPath: paths.runDirectory, withIntermediateDirectories: true)
        var tail = HookLogTail(sandbox: sandbox, path: paths.hookLog, startOffset: try store.hookOffset(source: Self.localSource))
        tail.watchedPID = getpid()
        return tail
    }

    // MARK: - Launching

    public enum LaunchOutcome: Equatable, Sendable {
        case started(pane: String, workdir: String)
        case queued(position: Int)
    }

    enum Mode {
        case fresh(prompt: String)
        case resume(sessionID: String, prompt: String)
    }

    /// Starts a task's agent, or queues it when `max_running` agents already run.
    public func run(taskID: Int64) async throws -> LaunchOutcome {
        try catchUp()
        let task = try store.task(id: taskID)
        if task.status.isActive {
            throw TaskError.failed("#\(task.id) is \(task.status.rawValue) already")
        }
        return try await launch(task, mode: .fresh(prompt: task.prompt))
    }

    func launch(_ task: TaskRecord, mode: Mode) async throws -> LaunchOutcome {
        let agent = setting("agent")
        guard resolveExecutable(agent) != nil else {
            throw TaskError.failed(
                "the agent command '\(agent)' was not found; set it with: config set agent <command> (or TASK_AGENT)")
        }
        let limit = Int(setting("max_running")) ?? 4
        if try store.runningCount() >= limit {
            try store.recordLaunch(
                id: task.id, status: .queued, sandbox: "local", worktree: task.worktreePath, branch: task.branch,
                sessionID: nil, paneID: nil, permissionMode: setting("permission_mode"))
            try store.appendLog(taskID: task.id, kind: "system", message: "queued: \(limit) running already (max_running)")
            return .queued(position: try store.queuedTasks().count)
        }
        return try await start(task, mode: mode, agent: agent)
    }

    func start(_ task: TaskRecord, mode: Mode, agent: String) async throws -> LaunchOutcome {
        let fm = FileManager.default
        let taskDir = paths.taskDirectory(task.id)
        try fm.createDirectory(atPath: taskDir, withIntermediateDirectories: true)
        let (workdir, branch, repoRoot) = try await prepareWorkdir(task)
        try installHookScript()

        let settingsPath = taskDir + "/settings.json"
        try HookSettings(taskID: task.id, hookScriptPath: paths.hookScript, hookLogPath: paths.hookLog).jsonData()
            .write(to: URL(fileURLWithPath: settingsPath), options: .atomic)
        if setting("trust_workspace") == "on" {
            do {
                try TrustConfig.forCurrentUser().trust(directory: workdir, repositoryRoot: repoRoot)
            } catch {
                throw TaskError.failed("cannot mark \(workdir) trusted for the agent: \(error)")
            }
        }
        let promptText: String
        let session: AgentCommand.Session
        let sessionID: String
        switch mode {
        case .fresh(let p):
            sessionID = UUID().uuidString.lowercased()
            session = .new(id: sessionID)
            promptText = p
        case .resume(let id, let p):
            sessionID = id
            session = .resume(id: id)
            promptText = p
        }
        let promptFile = taskDir + "/prompt.txt"
        try Data(promptText.utf8).write(to: URL(fileURLWithPath: promptFile), options: .atomic)
        let mode = setting("permission_mode")
        let permissions: AgentCommand.Permissions =
            mode == "bypassPermissions" ? .skip : mode == "default" ? .configured : .mode(mode)
        let command = AgentCommand(agent: agent, session: session, settingsPath: settingsPath, permissions: permissions)
        let script = PaneScript(
            taskID: task.id, workdir: workdir, command: command, promptFile: promptFile,
            hookLogPath: paths.hookLog, environment: passThroughEnvironment())
        let scriptPath = taskDir + "/pane.sh"
        try writeFile(scriptPath, Data(script.text.utf8), mode: 0o600)

        try await tmux.ensureSession()
        let pane = try await tmux.newWindow(name: "task-\(task.id)", cwd: workdir, command: ["sh", scriptPath])
        try store.recordLaunch(
            id: task.id, status: .processing, sandbox: "local", worktree: workdir, branch: branch,
            sessionID: sessionID, paneID: pane, permissionMode: mode)
        try store.appendLog(taskID: task.id, kind: "system", message: "started \(agent) in \(workdir) (pane \(pane))")
        return .started(pane: pane, workdir: workdir)
    }

    /// Agent credentials and stand-in switches that must reach the pane even when our tmux server
    /// was started earlier with another environment. They go into the 0600 pane script, not argv.
    func passThroughEnvironment() -> [String: String] {
        let names: Set<String> = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CONFIG_DIR", "IS_SANDBOX"]
        return environment.filter { names.contains($0.key) || $0.key.hasPrefix("FAKE_CLAUDE_") }
    }

    func installHookScript() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: paths.runDirectory, withIntermediateDirectories: true)
        if fm.contents(atPath: paths.hookScript) != Data(HookScript.text.utf8) {
            try writeFile(paths.hookScript, Data(HookScript.text.utf8), mode: 0o755)
        }
        if !fm.fileExists(atPath: paths.hookLog) {
            try writeFile(paths.hookLog, Data(), mode: 0o600)
        }
    }

    func writeFile(_ path: String, _ data: Data, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode]) else {
            throw TaskError.failed("cannot write \(path)")
        }
    }

    /// A git worktree on `task/<id>-<slug>` for a project in a repository; the project folder itself
    /// for a project that is not; a fresh folder under `$TASK_HOME/work` without a project.
    func prepareWorkdir(_ task: TaskRecord) async throws -> (workdir: String, branch: String?, repoRoot: String?) {
        let fm = FileManager.default
        let name = "\(task.id)-\(slug(task.title))"
        guard let projectName = task.projectName else {
            let dir = paths.workDirectory + "/" + name
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return (dir, nil, nil)
        }
        let project = try store.project(named: projectName)
        let top = try await sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"], cwd: nil, env: [:], stdin: nil)
        guard top.status == 0 else { return (project.path, nil, nil) }
        let root = top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let branch = task.branch ?? "task/\(name)"
        let dir = task.worktreePath ?? (paths.worktreeDirectory + "/\(projectName)/\(name)")
        if fm.fileExists(atPath: dir + "/.git") { return (dir, branch, root) }
        try fm.createDirectory(atPath: (dir as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let hasBranch = try await sandbox.run(
            ["git", "-C", root, "rev-parse", "--verify", "--quiet", "refs/heads/\(branch)"], cwd: nil, env: [:], stdin: nil)
        let args = hasBranch.status == 0
            ? ["git", "-C", root, "worktree", "add", dir, branch]
            : ["git", "-C", root, "worktree", "add", "-b", branch, dir, "HEAD"]
        let r = try await sandbox.run(args, cwd: nil, env: [:], stdin: nil)
        guard r.status == 0 else {
            throw TaskError.failed("git worktree add failed for #\(task.id): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return (dir, branch, root)
    }

    func resolveExecutable(_ command: String) -> String? {
        let fm = FileManager.default
        if command.contains("/") { return fm.isExecutableFile(atPath: command) ? command : nil }
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(command)"
            if fm.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Starts queued tasks while slots are free; returns what it started.
    @discardableResult
    public func startQueued() async -> [(Int64, LaunchOutcome)] {
        var started: [(Int64, LaunchOutcome)] = []
        let limit = Int(setting("max_running")) ?? 4
        while let next = try? store.firstQueued(), (try? store.runningCount()) ?? limit < limit {
            do {
                let outcome = try await start(next, mode: .fresh(prompt: next.prompt), agent: setting("agent"))
                started.append((next.id, outcome))
            } catch {
                _ = try? store.setStatus(id: next.id, .failed, detail: "could not start: \(error)")
                try? store.appendLog(taskID: next.id, kind: "error", message: "could not start: \(error)")
            }
        }
        return started
    }

    // MARK: - Talking to the agent

    func livePane(_ taskID: Int64) async throws -> (TaskRecord, String) {
        try catchUp()
        let task = try store.task(id: taskID)
        guard task.status.isActive, let pane = task.paneID else {
            throw TaskError.failed("#\(task.id) has no running agent (it is \(task.status.rawValue))")
        }
        guard try await tmux.paneExists(pane) else {
            throw TaskError.failed("#\(task.id)'s agent window \(pane) is gone")
        }
        return (task, pane)
    }

    public enum SendOutcome: Equatable, Sendable {
        case confirmed
        case unconfirmed
    }

    /// Types `text` into the agent's pane and waits for the matching UserPromptSubmit.
    public func send(taskID: Int64, text: String, timeout: Double = 10) async throws -> SendOutcome {
        let (_, pane) = try await livePane(taskID)
        let before = try store.events(taskID: taskID, afterID: 0, limit: 1_000_000).last?.id ?? 0
        try await tmux.sendText(pane: pane, text: text)
        if try await waitForPrompt(taskID: taskID, text: text, after: before, timeout: timeout) { return .confirmed }
        // The text may still sit in the composer (an Enter swallowed as part of a paste): press Enter once more.
        let screen = (try? await tmux.capturePane(pane: pane)) ?? ""
        if let lastLine = text.split(separator: "\n").last, screen.contains(lastLine) {
            try await tmux.sendKeys(pane: pane, keys: ["Enter"])
            if try await waitForPrompt(taskID: taskID, text: text, after: before, timeout: min(timeout, 3)) { return .confirmed }
        }
        return .unconfirmed
    }

    func waitForPrompt(taskID: Int64, text: String, after: Int64, timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let wanted = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while Date() < deadline {
            try catchUp()
            for e in try store.events(taskID: taskID, afterID: after) where e.event == "UserPromptSubmit" {
                if HookRecord(line: e.rawJSON).prompt?.trimmingCharacters(in: .whitespacesAndNewlines) == wanted { return true }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Presses keys in the agent's pane (tmux key names: Escape, Enter, 1, C-c, Up…).
    public func keys(taskID: Int64, keys: [String]) async throws {
        let (_, pane) = try await livePane(taskID)
        try await tmux.sendKeys(pane: pane, keys: keys)
    }

    /// The command that attaches this terminal to the task's pane.
    public func attachCommand(taskID: Int64) async throws -> [String] {
        let (_, pane) = try await livePane(taskID)
        return tmux.attachCommand(pane: pane)
    }

    // MARK: - Ending and retrying

    /// Interrupts the agent, ends its window and marks the task cancelled.
    public func stop(taskID: Int64, grace: Duration = .milliseconds(500)) async throws {
        try catchUp()
        let task = try store.task(id: taskID)
        guard task.status.isActive else { throw TaskError.failed("#\(task.id) is not running (it is \(task.status.rawValue))") }
        try store.setStatus(id: taskID, .cancelled, detail: "stopped by user")
        try store.appendLog(taskID: taskID, kind: "system", message: "stopped by user")
        if let pane = task.paneID, (try? await tmux.paneExists(pane)) == true {
            try? await tmux.sendKeys(pane: pane, keys: ["Escape"])
            try await Task.sleep(for: grace)
            try? await tmux.killWindow(pane: pane)
        }
        try store.clearPane(id: taskID)
        await startQueued()
    }

    /// Closes a task as done: ends its agent session if one is still open.
    public func finish(taskID: Int64) async throws {
        try catchUp()
        let task = try store.task(id: taskID)
        if task.status == .done { throw TaskError.failed("#\(task.id) is done already") }
        try store.setStatus(id: taskID, .done, detail: "closed by user")
        try store.appendLog(taskID: taskID, kind: "system", message: "closed by user")
        if let pane = task.paneID, (try? await tmux.paneExists(pane)) == true {
            try? await tmux.killWindow(pane: pane)
        }
        try store.clearPane(id: taskID)
        await startQueued()
    }

    /// Runs a finished task again: resumes its Claude session when the transcript still exists,
    /// else starts fresh with the feedback added to the prompt.
    public func retry(taskID: Int64, feedback: String?) async throws -> (LaunchOutcome, resumed: Bool) {
        try catchUp()
        let task = try store.task(id: taskID)
        if task.status.isActive {
            throw TaskError.failed("#\(task.id) is \(task.status.rawValue); use send to talk to it, or stop it first")
        }
        try store.appendLog(taskID: taskID, kind: "system", message: "--- Continuation ---")
        if let feedback { try store.appendLog(taskID: taskID, kind: "user", message: "Feedback: \(feedback)") }
        if let sid = task.sessionID, let transcript = try store.transcriptPath(taskID: taskID),
           FileManager.default.fileExists(atPath: transcript) {
            let outcome = try await launch(task, mode: .resume(sessionID: sid, prompt: feedback ?? "Please continue."))
            return (outcome, true)
        }
        let prompt = feedback.map { task.prompt + "\n\nFeedback: " + $0 } ?? task.prompt
        return (try await launch(task, mode: .fresh(prompt: prompt)), false)
    }
}
