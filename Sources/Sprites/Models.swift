import Foundation

/// A sprite (§3.1). Everything but `name` is optional; unknown keys are ignored.
public struct Sprite: Sendable, Equatable {
    public var name: String
    public var id: String?
    public var organization: String?
    /// `cold`, `warm` or `running`.
    public var status: String?
    public var url: String?
    public var urlAuth: String?
    public var labels: [String]
    public var environment: [String: String]
    public var createdAt: Date?
    public var updatedAt: Date?
    /// The sprite's runtime version (`version`), when the server says.
    public var version: String?
    /// The API's `Sprite-Version` header of the answer this came in (set by `getSprite`).
    public var apiVersion: String?

    init?(json o: [String: Any]) {
        guard let name = o["name"] as? String else { return nil }
        self.name = name
        id = o["id"] as? String
        organization = o["organization"] as? String ?? o["org_slug"] as? String
        status = o["status"] as? String
        url = o["url"] as? String
        urlAuth = (o["url_settings"] as? [String: Any])?["auth"] as? String
        labels = o["labels"] as? [String] ?? []
        environment = o["environment"] as? [String: String] ?? [:]
        createdAt = JSON.date(o["created_at"])
        updatedAt = JSON.date(o["updated_at"])
        version = JSON.string(o["version"])
    }
}

/// Options for creating a sprite (only the name is required).
public struct SpriteSpec: Sendable {
    public var name: String
    public var labels: [String] = []
    public var environment: [String: String] = [:]
    /// `sprite` (token needed for the sprite URL) or `public`.
    public var urlAuth: String?
    public var ramMB: Int?
    public var cpus: Int?
    public var region: String?
    public init(name: String, labels: [String] = [], environment: [String: String] = [:], urlAuth: String? = nil) {
        self.name = name; self.labels = labels; self.environment = environment; self.urlAuth = urlAuth
    }
}

/// Changes for `update`; nil fields are left alone.
public struct SpriteUpdate: Sendable {
    public var labels: [String]?
    public var clearLabels = false
    public var urlAuth: String?
    public init(labels: [String]? = nil, clearLabels: Bool = false, urlAuth: String? = nil) {
        self.labels = labels; self.clearLabels = clearLabels; self.urlAuth = urlAuth
    }
}

/// One page of `list`.
public struct SpritePage: Sendable {
    public var sprites: [Sprite]
    public var hasMore: Bool
    public var nextContinuationToken: String?
}

/// A checkpoint (§6).
public struct Checkpoint: Sendable, Equatable {
    public var id: String
    public var createTime: Date?
    public var comment: String?
    public var isAuto: Bool
    init?(json o: [String: Any]) {
        guard let id = o["id"] as? String else { return nil }
        self.id = id
        createTime = JSON.date(o["create_time"] ?? o["created_at"])
        comment = o["comment"] as? String
        isAuto = o["is_auto"] as? Bool ?? false
    }
}

/// One line of a checkpoint create/restore stream (or a kill stream).
public struct ProgressEvent: Sendable, Equatable {
    /// `info`, `error`, `complete` (checkpoints); `signal`, `timeout`, `exited`, `killed`, `complete`, `error` (kill).
    public var type: String
    /// `data`, `message` or `error`, whichever the line carries.
    public var text: String
    public var exitCode: Int?
    public var time: Date?
    init?(json o: [String: Any]) {
        guard let type = o["type"] as? String else { return nil }
        self.type = type
        text = o["data"] as? String ?? o["message"] as? String ?? o["error"] as? String ?? ""
        exitCode = JSON.int(o["exit_code"])
        time = JSON.date(o["time"])
    }
}

/// A file or directory from `listFiles` (§7).
public struct FileEntry: Sendable, Equatable {
    public var name: String
    public var path: String
    /// `file`, `directory` or `symlink`.
    public var type: String
    public var size: Int
    /// Octal text such as `0644`.
    public var mode: String
    public var modified: Date?
    public var isDirectory: Bool
    init(json o: [String: Any]) {
        name = o["name"] as? String ?? ""
        path = o["path"] as? String ?? ""
        type = o["type"] as? String ?? "file"
        size = JSON.int(o["size"]) ?? 0
        mode = o["mode"] as? String ?? ""
        modified = JSON.date(o["modTime"])
        isDirectory = o["isDir"] as? Bool ?? (type == "directory")
    }
}

/// A server-side exec session (§5.2).
public struct SessionSummary: Sendable, Equatable {
    /// The PID, as a string whatever JSON type the server used.
    public var id: String
    public var command: String
    public var workdir: String?
    public var isActive: Bool
    public var tty: Bool
    public var created: Date?
    public var lastActivity: Date?
    init?(json o: [String: Any]) {
        guard let id = JSON.string(o["id"]) else { return nil }
        self.id = id
        command = o["command"] as? String ?? ""
        workdir = o["workdir"] as? String
        isActive = o["is_active"] as? Bool ?? false
        tty = o["tty"] as? Bool ?? false
        created = JSON.date(o["created"])
        lastActivity = JSON.date(o["last_activity"])
    }
}

/// Splits a byte stream into lines (NDJSON).
struct LineSplitter {
    private var pending: [UInt8] = []
    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        pending += bytes
        var lines: [[UInt8]] = []
        while let nl = pending.firstIndex(of: 0x0a) {
            lines.append(Array(pending[..<nl]))
            pending.removeSubrange(...nl)
        }
        return lines
    }
    mutating func flush() -> [UInt8]? {
        defer { pending = [] }
        return pending.isEmpty ? nil : pending
    }
}
