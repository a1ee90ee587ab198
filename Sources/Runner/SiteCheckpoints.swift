import Foundation
import TaskCore

/// A sprite's checkpoints, as the runner needs them: one made before a task first starts there
/// (`task #N start`), found again by its comment, and restored (`rewind`, `sprite.fresh`).
public protocol SiteCheckpoints: Sendable {
    /// Makes a checkpoint with `comment`; returns what the API said ("Checkpoint v3 created").
    func create(comment: String) async throws -> String
    /// The id of the oldest checkpoint with `comment`, nil when there is none.
    func find(comment: String) async throws -> String?
    /// Restores checkpoint `id` (the sprite's sessions end; its filesystem goes back).
    func restore(id: String) async throws -> String
}

/// The comments checkpoints task makes are found by.
public enum SpriteCheckpointsComments {
    /// The checkpoint made before task `id` first starts on a sprite.
    public static func start(_ id: Int64) -> String { "task #\(id) start" }
    /// The checkpoint provisioning makes.
    public static let provisioned = "task: provisioned"
}

extension TaskRunner {
    /// Whether a task's first start on a sprite is preceded by a checkpoint (`sprite.start_checkpoint`:
    /// `auto` when each task has a sprite of its own — where `rewind` may restore it — `on`, `off`).
    /// A checkpoint costs a request and the sprite's time to save its disk before the agent starts.
    var takesStartCheckpoints: Bool {
        switch setting("sprite.start_checkpoint") {
        case "on": true
        case "off": false
        default: pool.tasksPerSprite == 1
        }
    }

    /// Whether each new task starts on the sprite as provisioned (`sprite.fresh`, with one task per sprite).
    var startsFresh: Bool { setting("sprite.fresh") == "on" && pool.tasksPerSprite == 1 }
}
