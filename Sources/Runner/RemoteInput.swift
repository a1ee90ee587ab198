import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// Typing into an agent's pane on a remote site in two round trips plus the pause before Enter:
/// one look (the pane is there; its input line is empty), then one command that types the text,
/// presses Enter after the pause and waits in the hook log for the agent's UserPromptSubmit,
/// bringing back the lines it read — polling would cost a round trip a look.
struct RemoteInput {
    let runner: TaskRunner
    let site: any Site

    func send(_ task: TaskRecord, text: String, timeout: Double) async throws -> TaskRunner.SendOutcome {
        guard task.status.isActive, let pane = task.paneID else {
            throw TaskError.failed("#\(task.id) has no running agent (it is \(task.status.rawValue))")
        }
        let look = try await site.sandbox.probe(["sh", "-c", site.tmux.lookScript(pane: pane)])
        let lines = look.stdoutText.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard look.status == 0, lines.first.map(String.init) == pane else {
            throw TaskError.failed("#\(task.id)'s agent window \(pane) is gone")
        }
        try TaskRunner.refuseDraft(lines.count > 1 ? String(lines[1]) : "", taskID: task.id)
        let before = try runner.store.lastEventID(taskID: task.id) ?? 0
        let state = try runner.store.hookSource(site.source)
        let script = site.tmux.typeScript(pane: pane, text: text) + " >/dev/null\n"
            + HookLogFile.readFragment(site.hookLog, from: state.offset,
                                       waitingFor: "{\"task\":\(task.id),\"event\":\"UserPromptSubmit\"", seconds: Int(timeout.rounded(.up)))
        let r = try await site.sandbox.run(["sh", "-s"], cwd: nil, env: [:], stdin: Data((script + "\n").utf8))
        try await runner.ingestor.ingest(read: r, of: site, from: state)
        let wanted = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for e in try runner.store.events(taskID: task.id, afterID: before) where e.event == "UserPromptSubmit" {
            if HookRecord(line: e.rawJSON).prompt?.trimmingCharacters(in: .whitespacesAndNewlines) == wanted { return .confirmed }
        }
        return .unconfirmed
    }
}
