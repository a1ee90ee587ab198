import Foundation
import Sandbox
import TaskCore

/// What an agent's pane shows, read for the commands that answer it.
public enum PaneScreen {
    /// Whether `screen` shows a permission dialog (several wordings, spec §9).
    public static func showsPermissionDialog(_ screen: String) -> Bool {
        let markers = ["Do you want to proceed", "Do you want to make this edit", "Do you want to create", "Do you want to allow"]
        return markers.contains { screen.contains($0) } && screen.contains("1. Yes")
    }

    /// The text waiting in the agent's input line (`❯ text`), nil when it is empty or not shown.
    /// A menu's selected option (`❯ 1. Yes`) is not input.
    public static func draft(_ screen: String) -> String? {
        guard let line = screen.split(separator: "\n").last(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("❯") })
        else { return nil }
        let text = line.trimmingCharacters(in: .whitespaces).dropFirst().trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        if let dot = text.firstIndex(of: "."), !text[..<dot].isEmpty, text[..<dot].allSatisfy(\.isNumber) { return nil }
        return text
    }
}

extension TaskRunner {
    /// How to answer a permission dialog.
    public enum PermissionAnswer: Sendable {
        case approve, approveAlways, deny

        /// The key the dialog takes (spec §9: digits, or Esc to deny).
        var key: String {
            switch self {
            case .approve: "1"
            case .approveAlways: "2"
            case .deny: "Escape"
            }
        }
    }

    /// Answers the permission dialog open in a task's pane, after checking that one is open.
    /// Returns the tool it was about (when the task's status names one).
    @discardableResult
    public func answerPermission(taskID: Int64, _ answer: PermissionAnswer) async throws -> String? {
        let (task, site, pane) = try await livePane(taskID)
        let screen = (try? await site.tmux.capturePane(pane: pane)) ?? ""
        guard PaneScreen.showsPermissionDialog(screen) else {
            let shows = StartupScreen.tellingLine(screen)
            throw TaskError.failed("#\(taskID) has no permission dialog open (it is \(task.status.rawValue); its pane shows: \(shows))")
        }
        try await site.tmux.sendKeys(pane: pane, keys: [answer.key])
        guard let detail = task.statusDetail, let range = detail.range(of: "waiting for permission for ") else { return nil }
        return String(detail[range.upperBound...])
    }

    /// Presses keys in the agent's pane. When the task is not at a permission dialog or a
    /// start-up screen, returns what the pane shows afterwards (a digit typed at the input line
    /// goes into the next message, so the user should know).
    public func pressKeys(taskID: Int64, keys: [String]) async throws -> String? {
        let (task, site, pane) = try await livePane(taskID)
        try await site.tmux.sendKeys(pane: pane, keys: keys)
        let reason = task.status == .blocked ? BlockReason(detail: task.statusDetail) : nil
        if reason == .permission || reason == .startup { return nil }
        try await Task.sleep(for: .milliseconds(100))
        let screen = (try? await site.tmux.capturePane(pane: pane)) ?? ""
        return PaneScreen.draft(screen).map { "its input line now holds: \($0)" } ?? "its pane shows: \(StartupScreen.tellingLine(screen))"
    }
}
