import AgentHooks
import Foundation
import Sandbox
import Synchronization
import TaskCore

/// Runs tasks in a sandbox — this machine, or a sprite — the same way: prepares the work folder,
/// starts the agent in a tmux window with hooks that append to the site's hook log, ingests that
/// log into the store (status changes included), talks to the agent's pane, and starts queued
/// tasks when slots free.
public final class TaskRunner: Sendable {
    public let store: TaskStore
    public let paths: RunPaths
    public let environment: [String: String]
    /// This machine.
    public let local: LocalSite
    /// Makes the site of a sprite of the pool (nil without a Sprites token).
    private let spriteProvider: SiteProvider?
    /// The sprites' sites by name, made (and provisioned) once each.
    private let spriteSites = Mutex<[String: Task<any Site, any Error>]>([:])
    /// Stores what every site's hook log gets, exactly once, and tells the listener.
    public let ingestor: Ingestor
    /// Whether a remote launch waits for the agent's first hook in its own command.
    public let firstHookWait = FirstHookWait()

    /// The hook-log source name of the local sandbox.
    public static let localSource = "local"

    public init(store: TaskStore, home: String, environment: [String: String], sprite: SiteProvider? = nil) {
        self.store = store
        self.paths = RunPaths(home: home)
        self.environment = environment
        let socket = environment["TASK_TMUX_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "task"
        self.local = LocalSite(
            sandbox: LocalSandbox(), tmuxSocket: socket, runDirectory: paths.runDirectory, workDirectory: paths.workDirectory)
        self.spriteProvider = sprite
        self.ingestor = Ingestor(store: store, environment: environment)
    }

    /// Whether tasks can run on a sprite (a Sprites token is configured).
    public var hasSprite: Bool { spriteProvider != nil }

    /// The effective value of a setting: environment override, else stored, else default.
    public func setting(_ key: String) -> String {
        guard let def = try? Settings.definition(key) else { return "" }
        if let env = def.environment, let v = environment[env], !v.isEmpty { return v }
        return (try? store.setting(key)) ?? def.defaultValue
    }

    // MARK: - Sites

    /// The site named `name` (a task's `site` column): this machine, or a sprite of the pool,
    /// made (and the sprite provisioned) on first use.
    public func site(named name: String, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> any Site {
        if name == local.name { return local }
        guard let provider = spriteProvider else {
            throw TaskError.failed("tasks cannot run on a sprite without a Sprites token: set SPRITES_TOKEN or save one with: sprite token <TOKEN>")
        }
        // Check and set in one step: concurrent callers share one provisioning, never start two.
        let making: Task<any Site, any Error> = spriteSites.withLock { sites in
            if let current = sites[name] { return current }
            let task = Task { try await provider(name, progress) }
            sites[name] = task
            return task
        }
        do {
            return try await making.value
        } catch {
            spriteSites.withLock { if $0[name] == making { $0[name] = nil } }   // the next caller tries again
            throw error
        }
    }

    /// The site a task runs (or ran, or is placed) on.
    public func site(for task: TaskRecord) async throws -> any Site {
        try await site(named: siteName(of: task))
    }

    /// The name of a task's site; a task stored before sites had names ran on the first sprite.
    func siteName(of task: TaskRecord) -> String {
        if let name = task.site { return name }
        return task.sandbox == SiteKind.sprite.rawValue ? pool.names[0] : local.name
    }

    /// The sprites of the pool: `sprite.name`, `sprite.name-2`, … (`sprite.pool` of them), and how
    /// many tasks each takes at once (`sprite.tasks_per_sprite`, default `max_running`).
    public var pool: SpritePool { SpritePool(setting: setting) }

    /// The `max_running` setting.
    var maxRunning: Int { Int(setting("max_running")) ?? 4 }

    /// Where a task of `kind` may start: this machine, or any sprite of the pool with room.
    func places(_ kind: SiteKind) -> Places {
        switch kind {
        case .local:
            return Places(sandbox: kind.rawValue, sites: [local.name], perSite: maxRunning, fullDetail: "")
        case .sprite:
            let pool = self.pool
            return Places(sandbox: kind.rawValue, sites: pool.names, perSite: pool.tasksPerSprite,
                          fullDetail: "waiting for a place on a sprite (sprite.pool \(pool.size), sprite.tasks_per_sprite \(pool.tasksPerSprite))")
        }
    }

    /// Where a queued or re-run task may start: a task whose work is on a site (it ran there)
    /// goes back there; one that never ran goes wherever its kind has room.
    func places(for task: TaskRecord) -> Places { placesOfTasks()(task) }

    /// ``places(for:)`` for many tasks, the settings read once (a queue drain asks it of each
    /// queued task inside its write transaction).
    func placesOfTasks() -> (TaskRecord) -> Places {
        let byKind = Dictionary(uniqueKeysWithValues: SiteKind.allCases.map { ($0, places($0)) })
        return { task in
            var places = byKind[SiteKind(rawValue: task.sandbox ?? "local") ?? .local] ?? byKind[.local]!
            if task.worktreePath != nil, let name = task.site { places.sites = [name] }
            return places
        }
    }

    // MARK: - Ingestion (the Ingestor's, for the site a task is on)

    /// Stores what `site`'s hook log holds past the stored offset (``Ingestor/catchUp(_:waitingFor:seconds:)``).
    public func catchUp(site: any Site, waitingFor pattern: String? = nil, seconds: Int = 0) async throws {
        try await ingestor.catchUp(site, waitingFor: pattern, seconds: seconds)
    }

    /// The local hook log's catch-up, from synchronous code (every command starts with it).
    @discardableResult
    public func catchUp() throws -> Int { try ingestor.catchUpLocal(local) }

    /// Catches up the site a task is on, unless a live stream already stores what its log gets.
    public func catchUp(taskID: Int64) async throws {
        let site = try await self.site(for: try store.task(id: taskID))
        if site.readsAreRoundTrips, ingestor.isLive(site.source) { return }
        try await catchUp(site: site)
    }

    /// Stores lines a live tail read (``Ingestor/ingestLive(_:committed:tail:source:)``) and starts
    /// queued tasks when one finished.
    public func ingestLive(_ lines: [HookLineSplitter.Line], committed: Int64, tail: HookLogTail,
                           source: String = TaskRunner.localSource) async throws {
        let events = try ingestor.ingestLive(lines, committed: committed, tail: tail, source: source)
        if events.contains(where: { $0.transition?.status.isFinished == true }) {
            await startQueued()
        }
    }

    /// A live tail of `site`'s hook log (this machine's by default).
    public func liveTail(site: (any Site)? = nil, catchUp: Bool = true) async throws -> HookLogTail {
        try await ingestor.liveTail(site ?? local, catchUp: catchUp)
    }

    public func setListener(_ f: (@Sendable ([IngestedEvent]) -> Void)?) { ingestor.setListener(f) }
    public func setLive(_ source: String, _ live: Bool) { ingestor.setLive(source, live) }
    public func takeNotices() -> [String] { ingestor.takeNotices() }

    // MARK: - Launching

    public enum LaunchOutcome: Equatable, Sendable {
        /// Started in `workdir`, in tmux pane `pane`; `notes` tell what was sent where.
        case started(pane: String, workdir: String, notes: [String])
        case queued(position: Int)
    }

    public enum Mode: Sendable {
        case fresh(prompt: String)
        case resume(sessionID: String, prompt: String)
    }

    /// Starts a task's agent on a site of `sandbox` (this machine, or the least busy sprite of the
    /// pool), or queues it when `max_running` agents already run or every such site is full.
    public func run(taskID: Int64, sandbox: SiteKind = .local, pullWhenDone: Bool = false,
                    progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> LaunchOutcome {
        try catchUp()
        let task = try store.task(id: taskID)
        if task.status.isActive {
            throw TaskError.failed("#\(task.id) is \(task.status.rawValue) already")
        }
        if pullWhenDone && task.projectName == nil {
            throw TaskError.failed("#\(task.id) has no project, so there is no branch to pull")
        }
        let outcome = try await launch(task, places: places(sandbox), mode: .fresh(prompt: task.prompt), progress: progress)
        try store.setPullWhenDone(id: taskID, pullWhenDone)
        return outcome
    }

    /// Checks what can be checked before a slot is taken (on a site already made: the agent is
    /// there, its API key is not rejected), claims a slot on a site of `places` atomically, and
    /// starts the agent there — or leaves the task queued. A site that cannot take it now (the
    /// account's limit on sprites) leaves it queued with the reason, tried again later.
    func launch(_ task: TaskRecord, places: Places, mode: Mode, progress: @escaping @Sendable (String) -> Void) async throws -> LaunchOutcome {
        if places.sites.count == 1 {
            do {
                _ = try await site(named: places.sites[0], progress: progress).preflight(self)
            } catch {
                guard let wait = SiteUnavailable.from(error) else { throw error }
                return .queued(position: try store.requeue(id: task.id, sandbox: places.sandbox, detail: wait.detail, notBefore: now() + wait.retryAfter))
            }
        }
        switch try store.claimSlot(id: task.id, limit: maxRunning, places: places) {
        case .queued(let position):
            return .queued(position: position)
        case .claimed(let name):
            return try await start(task, on: name, sandbox: places.sandbox, mode: mode, progress: progress)
        }
    }

    /// Starts `task`, which holds a slot on site `name`. A site that cannot take it now (the
    /// account's limit on sprites) puts it back in the queue with the reason, to be tried again
    /// later; any other failure puts the task back where it was, saying why.
    func start(_ task: TaskRecord, on name: String, sandbox: String, mode: Mode,
               progress: @escaping @Sendable (String) -> Void) async throws -> LaunchOutcome {
        do {
            let site = try await site(named: name, progress: progress)
            return try await site.start(task, mode: mode, runner: self, progress: progress)
        } catch {
            if let wait = SiteUnavailable.from(error) {
                return .queued(position: try store.requeue(id: task.id, sandbox: sandbox, detail: wait.detail, notBefore: now() + wait.retryAfter))
            }
            _ = try? store.setStatus(id: task.id, task.status, detail: "could not start: \(error)", cause: .system)
            throw error
        }
    }

    /// The session a launch starts (a new id, or the one resumed) and the text it is given.
    static func session(for mode: Mode) -> (id: String, session: AgentCommand.Session, prompt: String) {
        switch mode {
        case .fresh(let p):
            let id = UUID().uuidString.lowercased()
            return (id, .new(id: id), p)
        case .resume(let id, let p):
            return (id, .resume(id: id), p)
        }
    }

    /// The agent's permissions for a `permission_mode` setting.
    static func permissions(_ mode: String) -> AgentCommand.Permissions {
        mode == "bypassPermissions" ? .skip : mode == "default" ? .configured : .mode(mode)
    }

    /// Agent credentials and stand-in switches that must reach the pane even when the tmux server
    /// was started earlier with another environment. They go into the 0600 pane script, never
    /// argv. Which credentials: the `agent_env` setting.
    func passThroughEnvironment(_ site: any Site) -> [String: String] {
        var names = Set(setting("agent_env").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        names.insert("IS_SANDBOX")
        names.formUnion(site.agentEnvironmentNames)
        return environment.filter { names.contains($0.key) || $0.key.hasPrefix("FAKE_CLAUDE_") }
    }

    func installHookScript(_ site: any Site) async throws {
        let sandbox = site.sandbox
        let wanted = Data(HookScript.text.utf8)
        if (try? await sandbox.readFile(path: site.hookScript)) != wanted {
            try await sandbox.createDirectory(path: site.runDirectory)
            try await sandbox.writeFile(path: site.hookScript, data: wanted, mode: 0o755)
        }
        if try await !sandbox.fileExists(path: site.hookLog) {
            try await sandbox.writeFile(path: site.hookLog, data: Data(), mode: 0o600)
        }
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

    /// Whether a queued task waits while a slot is free (two reads; the claim itself is a write
    /// transaction, which every command need not take).
    public func mayStartQueued() -> Bool {
        (try? store.hasStartableQueued(limit: maxRunning)) == true
    }

    /// Starts queued tasks while slots are free; returns what it started. Each queued task is
    /// claimed in one transaction, on a site with room (the least busy sprite of the pool), so of
    /// several processes that see a slot free up, one starts it. The tasks claimed together start
    /// on their sites at once (several sprites are woken or provisioned together), each site's in
    /// order.
    @discardableResult
    public func startQueued() async -> [(Int64, LaunchOutcome)] {
        var started: [(Int64, LaunchOutcome)] = []
        while true {
            var claimed: [TaskRecord] = []
            let limit = maxRunning, places = placesOfTasks()
            while let next = try? store.claimNextQueued(limit: limit, places: places) {
                claimed.append(next)
            }
            guard !claimed.isEmpty else { return started }
            var order: [String] = []
            var bySite: [String: [TaskRecord]] = [:]
            for task in claimed {
                let name = siteName(of: task)
                if bySite[name] == nil { order.append(name) }
                bySite[name, default: []].append(task)
            }
            let sites = order.map { ($0, bySite[$0] ?? []) }
            started += await withTaskGroup(of: [(Int64, LaunchOutcome)].self) { group in
                for (name, tasks) in sites {
                    group.addTask { await self.start(claimed: tasks, on: name) }
                }
                var all: [(Int64, LaunchOutcome)] = []
                for await some in group { all += some }
                return all
            }
            // Tasks sent back to the queue (a sprite not to be had now) wait until their not_before:
            // the next claim passes them by.
        }
    }

    /// Starts tasks claimed on site `name`, in order; returns those that started. A site that
    /// cannot be had now sends them all back to the queue, saying why.
    func start(claimed tasks: [TaskRecord], on name: String) async -> [(Int64, LaunchOutcome)] {
        do {
            _ = try await site(named: name)
        } catch {
            for task in tasks {
                if let wait = SiteUnavailable.from(error) {
                    _ = try? store.requeue(id: task.id, sandbox: task.sandbox ?? "local", detail: wait.detail, notBefore: now() + wait.retryAfter)
                } else {
                    _ = try? store.setStatus(id: task.id, .failed, detail: "could not start: \(error)", cause: .system)
                }
            }
            return []
        }
        var started: [(Int64, LaunchOutcome)] = []
        for task in tasks {
            do {
                let outcome = try await start(task, on: name, sandbox: task.sandbox ?? "local", mode: .fresh(prompt: task.prompt), progress: { _ in })
                if case .started = outcome { started.append((task.id, outcome)) }
            } catch {
                _ = try? store.setStatus(id: task.id, .failed, detail: "could not start: \(error)", cause: .system)
            }
        }
        return started
    }

    // MARK: - Talking to the agent

    func livePane(_ taskID: Int64) async throws -> (TaskRecord, any Site, String) {
        let site = try await site(for: try store.task(id: taskID))
        try await catchUp(site: site)
        let task = try store.task(id: taskID)
        guard task.status.isActive, let pane = task.paneID else {
            throw TaskError.failed("#\(task.id) has no running agent (it is \(task.status.rawValue))")
        }
        guard try await site.tmux.paneExists(pane) else {
            throw TaskError.failed("#\(task.id)'s agent window \(pane) is gone")
        }
        return (task, site, pane)
    }

    public enum SendOutcome: Equatable, Sendable {
        case confirmed
        case unconfirmed
    }

    /// Types `text` into the agent's pane and waits for the matching UserPromptSubmit.
    public func send(taskID: Int64, text: String, timeout: Double = 10) async throws -> SendOutcome {
        let known = try store.task(id: taskID)
        let knownSite = try await site(for: known)
        if knownSite.readsAreRoundTrips, !ingestor.isLive(knownSite.source) {
            return try await RemoteInput(runner: self, site: knownSite).send(known, text: text, timeout: timeout)
        }
        let (_, site, pane) = try await livePane(taskID)
        let before = try store.lastEventID(taskID: taskID) ?? 0
        try Self.refuseDraft((try? await site.tmux.capturePane(pane: pane)) ?? "", taskID: taskID)
        try await site.tmux.sendText(pane: pane, text: text)
        if try await waitForPrompt(taskID: taskID, site: site, text: text, after: before, timeout: timeout) { return .confirmed }
        // The text may still sit in the composer (an Enter swallowed as part of a paste): press Enter once more.
        let screen = (try? await site.tmux.capturePane(pane: pane)) ?? ""
        if let lastLine = text.split(separator: "\n").last, screen.contains(lastLine) {
            try await site.tmux.sendKeys(pane: pane, keys: ["Enter"])
            if try await waitForPrompt(taskID: taskID, site: site, text: text, after: before, timeout: min(timeout, 3)) {
                return .confirmed
            }
        }
        return .unconfirmed
    }

    /// Text already in the agent's input line would go out with the message: say so instead.
    static func refuseDraft(_ screen: String, taskID: Int64) throws {
        guard let draft = PaneScreen.draft(screen) else { return }
        throw TaskError.failed(
            "#\(taskID)'s input line already holds \"\(DisplayText.oneLine(draft, limit: 60))\", which would go out with your message; "
                + "clear it with: keys \(taskID) C-u (or attach \(taskID))")
    }

    func waitForPrompt(taskID: Int64, site: any Site, text: String, after: Int64, timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let wanted = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while Date() < deadline {
            // A live stream stores the site's events as they come: then only the store is polled.
            // Otherwise the log is read each time — an exec on a sprite, so at most 10 a second.
            let live = site.readsAreRoundTrips && ingestor.isLive(site.source)
            if !live { try await catchUp(site: site) }
            for e in try store.events(taskID: taskID, afterID: after) where e.event == "UserPromptSubmit" {
                if HookRecord(line: e.rawJSON).prompt?.trimmingCharacters(in: .whitespacesAndNewlines) == wanted { return true }
            }
            try await Task.sleep(for: .milliseconds(live ? 5 : site.readsAreRoundTrips ? 100 : 20))
        }
        return false
    }

    /// Presses keys in the agent's pane (tmux key names: Escape, Enter, 1, C-c, Up…).
    public func keys(taskID: Int64, keys: [String]) async throws {
        let (_, site, pane) = try await livePane(taskID)
        try await site.tmux.sendKeys(pane: pane, keys: keys)
    }

    /// Where and how to attach this terminal to the task's pane: run `argv` with the sandbox's
    /// ``Sandbox/interactive(_:)``.
    public func attachCommand(taskID: Int64) async throws -> (sandbox: any Sandbox, argv: [String]) {
        let (_, site, pane) = try await livePane(taskID)
        return (site.sandbox, site.tmux.attachCommand(pane: pane))
    }


    /// Finds tasks of `site` that are running by the store but whose agent window is gone with no
    /// exit record — a cold pause of a sprite, a restart of this machine or a `kill-server` ends
    /// every process — and marks them failed, so they hold no slot and say what happened. One
    /// command lists the site's panes. Returns a line per task. A site that cannot be reached or
    /// told now is left alone.
    @discardableResult
    public func reconcile(site: any Site) async -> [String] {
        guard let candidates = try? store.tasksWithPanes(site: site.name), !candidates.isEmpty,
              let live = try? await site.tmux.livePanes() else { return [] }
        let gone = candidates.filter { !live.contains($0.paneID ?? "") }
        guard !gone.isEmpty else { return [] }
        _ = try? await catchUp(site: site)   // their exit records may be there
        var lines: [String] = []
        for task in gone {
            guard let now = try? store.task(id: task.id), now.status.isActive, let pane = now.paneID, pane == task.paneID else { continue }
            let detail = "the agent's window\(site.onSite) is gone without an exit record (\(site.windowsEndWhen))"
            if (try? store.setStatusIfQuiet(id: task.id, expecting: [.processing, .blocked], lastEventID: try? store.lastEventID(taskID: task.id),
                                            to: .failed, detail: detail, cause: .agent)) == true {
                try? store.clearPane(id: task.id)
                lines.append("#\(task.id) ✗ failed — \(detail)")
            }
        }
        if !lines.isEmpty { await startQueued() }
        return lines
    }

    // MARK: - Ending and retrying

    /// Interrupts the agent, ends its window and marks the task cancelled.
    public func stop(taskID: Int64, grace: Duration = .milliseconds(500)) async throws {
        try catchUp()
        let task = try store.task(id: taskID)
        guard task.status.isActive else { throw TaskError.failed("#\(task.id) is not running (it is \(task.status.rawValue))") }
        try store.setStatus(id: taskID, .cancelled, detail: "stopped by user")
        if let pane = task.paneID, let site = try? await site(for: task), (try? await site.tmux.paneExists(pane)) == true {
            try? await site.tmux.sendKeys(pane: pane, keys: ["Escape"])
            try await Task.sleep(for: grace)
            try? await site.tmux.killWindow(pane: pane)
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
        if let pane = task.paneID, let site = try? await site(for: task), (try? await site.tmux.paneExists(pane)) == true {
            try? await site.tmux.killWindow(pane: pane)
        }
        try store.clearPane(id: taskID)
        await startQueued()
    }

    /// Runs a finished task again, on the site it ran on: resumes its Claude session when the
    /// transcript still exists, else starts fresh with the feedback added to the prompt.
    public func retry(taskID: Int64, feedback: String?) async throws -> (LaunchOutcome, resumed: Bool) {
        try catchUp()
        let task = try store.task(id: taskID)
        if task.status.isActive {
            throw TaskError.failed("#\(task.id) is \(task.status.rawValue); use send to talk to it, or stop it first")
        }
        let site = try await site(for: task)
        try store.appendLog(taskID: taskID, kind: "system", message: "--- Continuation ---")
        if let feedback { try store.appendLog(taskID: taskID, kind: "user", message: "Feedback: \(feedback)") }
        if let sid = task.sessionID, let transcript = try store.transcriptPath(taskID: taskID),
           (try? await site.sandbox.fileExists(path: transcript)) == true {
            let outcome = try await launch(task, places: places(for: task), mode: .resume(sessionID: sid, prompt: feedback ?? "Please continue."),
                                           progress: { _ in })
            return (outcome, true)
        }
        let prompt = feedback.map { task.prompt + "\n\nFeedback: " + $0 } ?? task.prompt
        return (try await launch(task, places: places(for: task), mode: .fresh(prompt: prompt), progress: { _ in }), false)
    }
}

extension TaskRunner {
    /// Complete lines of a task's transcript read from a byte offset.
    public struct TranscriptChunk: Sendable {
        public var path: String
        public var lines: [Data]
        /// The offset just past the last complete line (read from here next time).
        public var nextOffset: Int64
        /// More of the file may follow right away (the read stopped at its size limit).
        public var more: Bool
    }

    /// How much of a transcript one read brings: reads stream, a long transcript is never held whole.
    public static let transcriptChunk: Int64 = 4 << 20

    /// The agent's transcript (JSONL, one record a line) of a task from byte `offset`, read in the
    /// sandbox the task ran in. The path is the one the agent reported (`transcript_path`, never
    /// computed); nil when it reported none yet.
    public func transcript(taskID: Int64, from offset: Int64) async throws -> TranscriptChunk? {
        let task = try store.task(id: taskID)
        try? await catchUp(taskID: task.id)
        guard let path = try store.transcriptPath(taskID: taskID) else { return nil }
        let site = try await site(for: task)
        let read: Data?
        do {
            read = try await site.sandbox.bytes(of: path, from: offset, limit: Self.transcriptChunk)
        } catch let e as SandboxError {
            throw TaskError.failed("cannot read \(path): \(e)")
        }
        guard let data = read else {
            throw TaskError.failed("#\(taskID)'s transcript \(path) is gone (the agent deletes old ones after cleanupPeriodDays)")
        }
        let chunk = ChunkLines(data, limit: Self.transcriptChunk)
        return TranscriptChunk(path: path, lines: chunk.lines, nextOffset: offset + chunk.consumed, more: chunk.more)
    }
}
