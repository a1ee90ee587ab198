/// The sprites tasks may run on: `base`, `base-2`, … `base-<size>`, each taking up to
/// `tasksPerSprite` tasks at once.
public struct SpritePool: Sendable, Equatable {
    public var base: String
    public var size: Int
    public var tasksPerSprite: Int

    public init(base: String, size: Int, tasksPerSprite: Int) {
        self.base = base
        self.size = min(max(size, 1), 50)
        self.tasksPerSprite = max(tasksPerSprite, 1)
    }

    /// The pool the settings describe: `sprite.name`, `sprite.pool`, `sprite.tasks_per_sprite`
    /// (empty: `max_running`), each read through `setting` (stored value or default).
    public init(setting: (String) -> String) {
        let maxRunning = Int(setting("max_running")) ?? 4
        self.init(base: setting("sprite.name"), size: Int(setting("sprite.pool")) ?? 1,
                  tasksPerSprite: Int(setting("sprite.tasks_per_sprite")) ?? maxRunning)
    }

    /// The sprites' names, the first one `base` itself.
    public var names: [String] { [base] + (1..<size).map { "\(base)-\($0 + 1)" } }

    /// Whether `name` is a sprite of the pool.
    public func contains(_ name: String) -> Bool { names.contains(name) }
}
