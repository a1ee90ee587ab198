import Foundation
import Sandbox
import TaskCore

extension TaskRunner {
    /// What a rewind did.
    public struct Rewound: Sendable, Equatable {
        /// The commit the task's branch is back at.
        public var startCommit: String
        /// Where the commits it dropped stay reachable: `refs/task-rewound/<id>/<n> (<n> commits, <sha> <subject>)`.
        public var kept: [String]
        /// Where the folder is (on the sprite, or here).
        public var place: String
        /// What else the site did or could not do (a sprite's files restored from its start checkpoint).
        public var notes: [String] = []
    }

    /// The script that takes a task's folder back to its start commit in one command, wherever the
    /// folder is: uncommitted work is committed first, the branch's head is kept under the next
    /// `refs/task-rewound/<id>/<n>`, then the branch is reset. Exit 3: the folder is gone; 4: the
    /// start commit is not in its repository.
    static let rewindScript = #"""
        dir=$1 start=$2 id=$3
        [ -d "$dir" ] && git -C "$dir" rev-parse --git-dir >/dev/null 2>&1 || exit 3
        cd "$dir" || exit 3
        start=$(git rev-parse --verify -q "$start^{commit}") || exit 4
        if [ -n "$(git status --porcelain)" ]; then
          set --
          [ -n "$(git config user.email)" ] || set -- -c user.name=task -c user.email=task@localhost
          git add -A && git "$@" commit -q --no-verify -m "task #$id: uncommitted work kept by rewind" || exit 5
        fi
        head=$(git rev-parse HEAD) || exit 5
        if [ "$head" != "$start" ]; then
          n=1
          while git rev-parse -q --verify "refs/task-rewound/$id/$n" >/dev/null; do n=$((n + 1)); done
          git update-ref "refs/task-rewound/$id/$n" "$head" || exit 5
          count=$(git rev-list --count "$start..$head")
          if [ "$count" = 1 ]; then word=commit; else word=commits; fi
          printf 'refs/task-rewound/%s/%s (%s %s, %s)\n' "$id" "$n" "$count" "$word" "$(git log -1 --format='%h %s' "$head")"
        fi
        git reset -q --hard "$start" || exit 5
        """#

    /// Takes a finished or blocked task back to where it started: its folder and branch to the
    /// commit its first launch started from, losing nothing (the dropped commits stay under
    /// `refs/task-rewound/<id>/<n>`, uncommitted work committed first). Ends a blocked task's
    /// agent window; the task goes back to the backlog, and its log says so.
    public func rewind(taskID: Int64) async throws -> Rewound {
        try catchUp()
        try? await catchUp(taskID: taskID)
        let task = try store.task(id: taskID)
        guard task.startedAt != nil else {
            throw TaskError.failed("#\(taskID) never started, so there is nothing to go back to; run it with: run \(taskID)")
        }
        if task.status == .processing || task.status == .queued {
            throw TaskError.failed(
                "#\(taskID) is \(task.status.rawValue); stop it first (stop \(taskID)), or wait until it waits for input, then rewind it")
        }
        guard let start = try store.startCommit(taskID: taskID), let folder = task.worktreePath else {
            throw TaskError.failed(
                "#\(taskID) has no start commit to go back to: it ran outside a git project, or before this version kept one")
        }
        let site = try await site(for: task)
        // What the site will restore besides the folder, checked before anything changes.
        let restore = try await site.rewindPlan(task, runner: self)
        let place = site.onSite.isEmpty ? "here" : String(site.onSite.dropFirst())
        if let pane = task.paneID, (try? await site.tmux.paneExists(pane)) == true {
            try? await site.tmux.killWindow(pane: pane)
        }
        let r = try await site.sandbox.run(["sh", "-c", Self.rewindScript, "sh", folder, start, String(taskID)])
        let short = String(start.prefix(7))
        switch r.status {
        case 0: break
        case 3: throw TaskError.failed("#\(taskID)'s folder \(folder) is gone \(place), so there is nothing to rewind")
        case 4: throw TaskError.failed("#\(taskID)'s start commit \(short) is not in \(folder) \(place)")
        default:
            throw TaskError.failed("cannot rewind #\(taskID) in \(folder) \(place): "
                + r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let kept = r.stdoutText.split(separator: "\n").map(String.init)
        let notes = try await site.finishRewind(task, plan: restore, keptRefs: kept.compactMap { $0.split(separator: " ").first.map(String.init) },
                                                runner: self)
        try store.clearPane(id: taskID)
        try store.setStatus(id: taskID, .backlog, detail: "rewound to \(short)", cause: .user)
        try store.appendLog(
            taskID: taskID, kind: "system",
            message: "rewound to \(short), where it started" + (kept.isEmpty ? " (nothing to keep)" : "; kept " + kept.joined(separator: "; "))
                + notes.map { "; " + $0 }.joined())
        await startQueued()
        return Rewound(startCommit: start, kept: kept, place: place, notes: notes)
    }
}
