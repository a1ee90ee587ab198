import Foundation

/// Where `task` keeps its data: `$TASK_HOME`, else `~/.local/share/task`.
public struct TaskPaths: Sendable, Equatable {
    public var home: String
    public var database: String

    public init(home: String, database: String? = nil) {
        self.home = home
        self.database = database ?? (home as NSString).appendingPathComponent("task.db")
    }

    /// Resolves the data folder from the environment; `databaseOverride` is `--db PATH`.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        databaseOverride: String? = nil
    ) -> TaskPaths {
        let home: String
        if let h = environment["TASK_HOME"], !h.isEmpty {
            home = h
        } else {
            let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            home = (userHome as NSString).appendingPathComponent(".local/share/task")
        }
        return TaskPaths(home: home, database: databaseOverride)
    }

    /// Creates the data folder (and the database's folder) when missing.
    public func createDirectories() throws {
        let fm = FileManager.default
        for dir in [home, (database as NSString).deletingLastPathComponent] where !dir.isEmpty {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir, isDirectory: &isDir) {
                if !isDir.boolValue { throw TaskError.failed("\(dir) exists and is not a folder") }
                continue
            }
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw TaskError.failed("cannot create \(dir): \(error.localizedDescription)")
            }
        }
    }
}
