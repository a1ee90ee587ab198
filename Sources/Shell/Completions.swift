import Foundation
import Runner
import TaskCore

/// Candidates for the generated bash/zsh/fish scripts (`.custom` completions re-run the binary).
enum Completions {
    static func openDefaultStore() -> TaskStore? {
        let paths = TaskPaths.resolve()
        guard FileManager.default.fileExists(atPath: paths.database) else { return nil }
        return try? TaskStore(path: paths.database)
    }

    @Sendable static func taskIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let store = openDefaultStore(), let tasks = try? store.listTasks(TaskFilter(includeFinished: true)) else {
            return []
        }
        return tasks.map { String($0.id) }.filter { $0.hasPrefix(prefix) }
    }

    @Sendable static func projects(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let store = openDefaultStore(), let ps = try? store.projects() else { return [] }
        return ps.map(\.name).filter { $0.hasPrefix(prefix) }
    }

    /// The sprites of the pool (`sprite.name`, `sprite.name-2`, …).
    @Sendable static func spriteNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        poolNames(openDefaultStore()).filter { $0.hasPrefix(prefix) }
    }

    /// The pool's names as the stored settings say (the defaults without a store).
    static func poolNames(_ store: TaskStore?) -> [String] {
        func value(_ key: String) -> String {
            ((try? store?.setting(key)) ?? nil) ?? ((try? Settings.definition(key))?.defaultValue ?? "")
        }
        return SpritePool(setting: value).names
    }

    @Sendable static func spriteCheckpoints(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        remote("checkpoint", prefix)
    }

    @Sendable static func spriteSessions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        remote("session", prefix)
    }

    static func remote(_ kind: String, _ prefix: String) -> [String] {
        let env = ProcessInfo.processInfo.environment
        let paths = TaskPaths.resolve(environment: env, databaseOverride: nil)
        guard FileManager.default.fileExists(atPath: paths.database) else { return [] }   // completing creates nothing
        let ctx = CommandContext(paths: paths, environment: env,
                                 out: Output(fd: 1), err: Output(fd: 2), style: Style.detect(fd: 1, environment: env, forceOff: true),
                                 interactive: false)
        return SpriteAccess.candidates(kind, ctx: ctx).map(\.word).filter { $0.hasPrefix(prefix) }
    }
}
