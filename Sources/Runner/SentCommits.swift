import Foundation

/// What this machine sent to a remote site's project mirrors: the last commit of each project,
/// in `$TASK_HOME/run/sent/<site source>/<project>`. A launch whose commit was sent before needs
/// no look at the mirror first; a mirror found lacking it (a sprite made anew or restored) makes
/// the launch forget it and look.
struct SentCommits {
    let runner: TaskRunner
    let site: any Site

    private func file(_ project: String) -> String {
        let safe = { (s: String) in s.replacingOccurrences(of: "/", with: "_") }
        return runner.paths.runDirectory + "/sent/" + safe(site.source) + "/" + safe(project)
    }

    /// The commits known to be in the mirror of `project` (none known: nil; a task without a
    /// project needs no mirror: an empty list).
    func known(project: String?) -> [String]? {
        guard let project else { return [] }
        guard let text = try? String(contentsOfFile: file(project), encoding: .utf8) else { return nil }
        let head = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return head.count == 40 || head.count == 64 ? [head] : nil
    }

    func note(_ head: String, project: String) {
        let path = file(project)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? Data((head + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    func forget(project: String?) {
        guard let project else { return }
        try? FileManager.default.removeItem(atPath: file(project))
    }
}
