import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// What a start-up screen is about, in one line: the agent's question, its error, or its first words.
public enum StartupScreen {
    /// Words that mark the line of a screen worth quoting, strongest first.
    static let tellingWords = [
        "do you want", "do you trust", "trust this folder", "api key", "invalid", "error", "login", "log in",
        "found", "please", "approve", "accept", "update", "what's new", "?", "continue",
    ]
    /// Footers that say which keys work, quoted only when nothing else is on the screen.
    static let footers = ["enter to confirm", "esc to", "for shortcuts", "press enter"]

    /// The most telling line of `screen` (a pane's text), trimmed of box-drawing and selection marks;
    /// "(a blank screen)" when it shows nothing.
    public static func tellingLine(_ screen: String) -> String {
        let all = lines(screen)
        guard !all.isEmpty else { return "(a blank screen)" }
        let content = all.filter { line in !footers.contains { line.lowercased().contains($0) } }
        let lines = content.isEmpty ? all : content
        for word in tellingWords {
            if let line = lines.first(where: { $0.lowercased().contains(word) }) { return DisplayText.oneLine(line, limit: 120) }
        }
        return DisplayText.oneLine(lines[0], limit: 120)
    }

    /// Whether `screen` shows nothing yet: an agent still starting, not one held by a screen.
    public static func isBlank(_ screen: String) -> Bool { lines(screen).isEmpty }

    static func lines(_ screen: String) -> [String] { screen.split(separator: "\n").map(clean).filter { !$0.isEmpty } }

    static func clean(_ line: Substring) -> String {
        let frame: Set<Character> = ["│", "╭", "╮", "╰", "╯", "─", "┃", "━", "❯", ">", "|", "·"]
        return String(line).trimmingCharacters(in: .whitespaces)
            .trimmingCharacters(in: CharacterSet(charactersIn: String(frame)).union(.whitespaces))
    }
}

extension TaskRunner {
    /// Seconds without a hook after a launch before the agent is taken to be held at a start-up
    /// screen (setting `start_timeout`; 0 turns the watchdog off).
    var startTimeout: Double { Double(setting("start_timeout")) ?? 15 }

    /// The start-up watchdog: a task launched `start_timeout` seconds ago whose agent has sent no
    /// hook since is held by a screen — a question about an API key, release notes, an MCP
    /// approval, an expired login. Its pane is read and the task becomes `blocked` with "agent
    /// waiting at start-up: <the screen's telling line>"; a later screen updates the quotation.
    /// The agent's first hook moves the task on as usual. A pane that is still blank is an agent
    /// slow to start (a loaded machine), not a screen: it gets a second `start_timeout` before
    /// "(a blank screen)" is reported. Returns the tasks it changed.
    @discardableResult
    public func watchStartups(now: Double = Date().timeIntervalSince1970) async -> [Int64] {
        var changed = await releaseInterruptedLaunches(now: now)
        let timeout = startTimeout
        guard timeout > 0 else { return changed }
        let candidates = ((try? store.launchedTasks(before: now - timeout)) ?? []).filter { task in
            task.status == .processing && task.statusDetail == nil
                || task.status == .blocked && task.statusDetail?.hasPrefix(StatusMachine.startupWaitPrefix) == true
        }
        for task in candidates {
            guard let pane = task.paneID, let started = task.startedAt else { continue }
            let last = try? store.lastEvent(taskID: task.id)
            if let last, last.receivedAt >= started { continue }
            guard let site = try? await site(for: task), let screen = try? await site.tmux.capturePane(pane: pane) else { continue }
            if StartupScreen.isBlank(screen) && now - started < 2 * timeout { continue }
            let detail = "\(StatusMachine.startupWaitPrefix): \(StartupScreen.tellingLine(screen))"
            if (try? store.setStatusIfQuiet(
                id: task.id, expecting: [.processing, .blocked], lastEventID: last?.id, to: .blocked, detail: detail,
                cause: .agent)) == true {
                changed.append(task.id)
            }
        }
        return changed
    }

    /// How long a launch may hold a slot without a pane before it is taken as interrupted.
    static let launchGrace: Double = 120

    /// A task that claimed a slot but whose launching process ended before the agent started
    /// (killed mid-launch) would hold the slot for ever: after ``launchGrace`` it fails, saying so.
    func releaseInterruptedLaunches(now: Double) async -> [Int64] {
        let stuck = (try? store.stalledLaunches(before: now - Self.launchGrace)) ?? []
        var released: [Int64] = []
        for task in stuck {
            let detail = "the launch was interrupted before the agent started (its process ended); run it again"
            if (try? store.setStatusIfQuiet(
                id: task.id, expecting: [.processing], lastEventID: try? store.lastEventID(taskID: task.id), to: .failed,
                detail: detail, cause: .system)) == true {
                released.append(task.id)
            }
        }
        if !released.isEmpty { await startQueued() }
        return released
    }

    /// Waits until task `id` reports its first hook since its launch, or `start_timeout` passes and
    /// the watchdog has looked at its screen; a screen still blank is looked at again until it shows
    /// something or the blank screen's second timeout passes (a loaded machine can take seconds to
    /// start the agent). Returns the task as it is then.
    public func awaitStart(taskID: Int64) async throws -> TaskRecord {
        let timeout = startTimeout
        let task = try store.task(id: taskID)
        guard timeout > 0, task.status.isActive, let started = task.startedAt, let site = try? await site(for: task) else {
            return task
        }
        func hooked() throws -> Bool { try store.lastEvent(taskID: taskID).map { $0.receivedAt >= started } ?? false }
        if site.readsAreRoundTrips {
            // The launch waited there for the first hook (firstHookWait), or one command waits now
            // (a poll would take a round trip a look).
            if !firstHookWait.takeWaited(taskID) {
                try await catchUp(site: site, waitingFor: "{\"task\":\(taskID),", seconds: Int(timeout.rounded(.up)))
            }
        } else {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline, try store.task(id: taskID).status.isActive {
                try await catchUp(taskID: taskID)
                if try hooked() { break }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        while true {
            if try hooked() { return try store.task(id: taskID) }
            await watchStartups()
            let now = try store.task(id: taskID)
            guard now.status == .processing, now.statusDetail == nil, Date().timeIntervalSince1970 < started + 2 * timeout else {
                return now
            }
            try await Task.sleep(for: .milliseconds(site.readsAreRoundTrips ? 500 : 200))
            try await catchUp(taskID: taskID)
        }
    }

    /// Refuses a launch whose `ANTHROPIC_API_KEY` the agent was told to reject: every turn would
    /// fail with an invalid-key error. Says how to undo the rejection.
    func checkAPIKeyNotRejected(_ site: any Site) async throws {
        guard let key = passThroughEnvironment(site)["ANTHROPIC_API_KEY"], !key.isEmpty else { return }
        guard try await apiKeyAnswer(site, key: key) == .rejected else { return }
        throw Self.rejectedKey(key, on: site)
    }

    /// The refusal of a launch whose API key the agent's state file on `site` rejects.
    static func rejectedKey(_ key: String, on site: any Site) -> TaskError {
        let file = "~/.claude.json" + site.onSite
        return TaskError.failed(
            "the agent was told to reject this ANTHROPIC_API_KEY (…\(key.suffix(4)) is listed in customApiKeyResponses.rejected of \(file)), "
                + "so every turn would fail; remove that entry from the list (or answer Yes in claude once) and run again")
    }

    /// What the agent's state file on `site` says of `key`.
    public func apiKeyAnswer(_ site: any Site, key: String) async throws -> TrustConfig.KeyAnswer {
        let suffix = TrustConfig.apiKeySuffix(key)
        return try await site.apiKeyAnswer(suffix: suffix)
    }

    /// The agent's environment as a launch on `site` passes it (for `doctor`: names only are shown).
    public func agentEnvironment(_ site: any Site) -> [String: String] { passThroughEnvironment(site) }
}
