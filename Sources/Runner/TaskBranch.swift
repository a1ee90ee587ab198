import Foundation
import Sandbox
import TaskCore

/// The name a task's branch and work folder take: `task/<id>-<slug>`, chosen at its first launch
/// and kept after. A branch of that name already in the project's repository at a first launch is
/// not this task's — a task of another database (one removed and made anew), or a task deleted —
/// so the first free `task/<id>-<slug>-2`, `-3`, … is taken instead, and the launch says so;
/// the other branch is left as it is.
struct TaskBranch {
    /// `<id>-<slug>[-n]`: the work folder's name, and the branch's after `task/`.
    let name: String
    /// Why the usual name was not taken (for the task's log), when it was not.
    let note: String?
    /// Chosen at this launch, so known to be no branch yet (a recorded one may or may not exist).
    let isNew: Bool

    var branch: String { "task/" + name }

    /// Looks at `root`'s branches (in `sandbox`, where the repository is) only for a first launch.
    static func choose(for task: TaskRecord, root: String, in sandbox: any Sandbox) async throws -> TaskBranch {
        let base = "\(task.id)-\(slug(task.title))"
        if let branch = task.branch {
            return TaskBranch(name: branch.hasPrefix("task/") ? String(branch.dropFirst(5)) : base, note: nil, isNew: false)
        }
        var name = base
        for n in 2...1000 {
            let taken = try await sandbox.run(["git", "-C", root, "rev-parse", "--verify", "--quiet", "refs/heads/task/\(name)"])
            guard taken.status == 0 else { break }
            name = "\(base)-\(n)"
        }
        guard name != base else { return TaskBranch(name: base, note: nil, isNew: true) }
        return TaskBranch(
            name: name,
            note: "the branch task/\(base) is already in \(root) and is not this task's (left as it is); this task works on task/\(name)",
            isNew: true)
    }
}
