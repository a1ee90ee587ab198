import AgentHooks
import Foundation
import TaskCore

/// The one task database a remote site (a sprite) serves, as its `<run directory>/owner` file
/// says: `<database id> <host> <database path>`. Two databases on one sprite would share its hook
/// log (each storing the other's events under its own task ids), its tmux server's `task-<id>`
/// windows and its work folders; so the first database to launch there claims it, and another is
/// refused until the sprite is freed (the file removed).
public struct SiteOwner: Equatable, Sendable {
    public var id: String
    public var host: String
    public var databasePath: String

    public static func file(runDirectory: String) -> String { runDirectory + "/owner" }

    /// This process's database.
    public static func this(_ store: TaskStore) throws -> SiteOwner {
        SiteOwner(id: try store.databaseID(), host: hostName(), databasePath: store.path)
    }

    /// The file's line.
    public var line: String { "\(id) \(host) \(databasePath)" }

    /// Reads a line as the file holds it; nil for anything else.
    public init?(line: String) {
        let parts = line.trimmingCharacters(in: .newlines).split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty else { return nil }
        (id, host, databasePath) = (parts[0], parts[1], parts[2])
    }

    init(id: String, host: String, databasePath: String) {
        (self.id, self.host, self.databasePath) = (id, host, databasePath)
    }

    /// `<path> on <host>`.
    public var description: String { "\(databasePath) on \(host)" }

    /// "serves another task database (<path> on <host>)", what the owner file says of `other`.
    public static func servesAnother(_ other: SiteOwner?) -> String {
        "serves another task database" + (other.map { " (\($0.description))" } ?? "")
    }

    /// The two ways out for a database refused on a site whose owner file is `file`.
    public static func remedy(file: String) -> String {
        "Give this one a sprite of its own (config set sprite.name <name>), or, if that database is gone for good, "
            + "free the sprite: task sprite exec -- rm \(file)"
    }

    /// The refusal of a launch on `label` (whose owner file is `file`) that `other` serves.
    public static func refusal(label: String, other: SiteOwner?, file: String) -> TaskError {
        TaskError.failed(
            "\(label) \(servesAnother(other)): two databases there would mix their tasks' hook events, windows and work folders. "
                + remedy(file: file))
    }

    /// The launch script's lines that claim the site for `self` when no database has it (`set -C`:
    /// of two launching at once one wins) and exit `refused`, with the owner's line on stderr, when
    /// another has it.
    func claimScript(file: String, runDirectory: String, refused: Int32) -> [String] {
        let q = ShellQuote.quote
        return [
            "mkdir -p \(q(runDirectory))",
            "( set -C; printf '%s\\n' \(q(line)) > \(q(file)) ) 2>/dev/null || :",
            "read -r task_owner task_owner_rest < \(q(file)) || :",
            "[ \"$task_owner\" = \(q(id)) ] || { printf '%s %s\\n' \"$task_owner\" \"$task_owner_rest\" >&2; exit \(refused); }",
        ]
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "?" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "?" : name
    }
}
