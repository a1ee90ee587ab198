import Foundation

/// A sprite (§3.1). Everything but `name` is optional; unknown keys are ignored.
public struct Sprite: Sendable, Equatable, Decodable {
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

    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        name = try o.required("name")
        id = o.text("id")
        organization = o.text("organization", "org_slug")
        status = o.text("status")
        url = o.text("url")
        urlAuth = o.object("url_settings")?.text("auth")
        labels = o.strings("labels") ?? []
        environment = o.stringMap("environment") ?? [:]
        createdAt = o.date("created_at")
        updatedAt = o.date("updated_at")
        version = o.text("version")
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
public struct SpritePage: Sendable, Decodable {
    public var sprites: [Sprite]
    public var hasMore: Bool
    public var nextContinuationToken: String?

    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        sprites = ((try? o.decode([Each<Sprite>].self, forKey: LooseKey("sprites"))) ?? []).compactMap(\.value)
        nextContinuationToken = o.text("next_continuation_token")
        hasMore = (o.bool("has_more") ?? false) && !(nextContinuationToken ?? "").isEmpty
    }
}

/// A checkpoint (§6).
public struct Checkpoint: Sendable, Equatable, Decodable {
    public var id: String
    public var createTime: Date?
    public var comment: String?
    public var isAuto: Bool
    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        id = try o.required("id")
        createTime = o.date("create_time", "created_at")
        comment = o.text("comment")
        isAuto = o.bool("is_auto") ?? false
    }
}

/// One line of a checkpoint create/restore stream (or a kill stream).
public struct ProgressEvent: Sendable, Equatable, Decodable {
    /// `info`, `error`, `complete` (checkpoints); `signal`, `timeout`, `exited`, `killed`, `complete`, `error` (kill).
    public var type: String
    /// `data`, `message` or `error`, whichever the line carries.
    public var text: String
    public var exitCode: Int?
    public var time: Date?
    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        type = try o.required("type")
        text = o.text("data", "message", "error") ?? ""
        exitCode = o.int("exit_code")
        time = o.date("time")
    }

    /// One NDJSON line as an event; nil for a blank or unparseable line, or one without a type.
    static func line(_ bytes: [UInt8]) -> ProgressEvent? { try? JSONDecoder().decode(ProgressEvent.self, from: Data(bytes)) }
}

/// A file or directory from `listFiles` (§7).
public struct FileEntry: Sendable, Equatable, Decodable {
    public var name: String
    public var path: String
    /// `file`, `directory` or `symlink`.
    public var type: String
    public var size: Int
    /// Octal text such as `0644`.
    public var mode: String
    public var modified: Date?
    public var isDirectory: Bool
    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        name = o.text("name") ?? ""
        path = o.text("path") ?? ""
        type = o.text("type") ?? "file"
        size = o.int("size") ?? 0
        mode = o.text("mode") ?? ""
        modified = o.date("modTime")
        isDirectory = o.bool("isDir") ?? (type == "directory")
    }
}

/// A server-side exec session (§5.2).
public struct SessionSummary: Sendable, Equatable, Decodable {
    /// The PID, as a string whatever JSON type the server used.
    public var id: String
    public var command: String
    public var workdir: String?
    public var isActive: Bool
    public var tty: Bool
    public var created: Date?
    public var lastActivity: Date?
    public init(from decoder: any Decoder) throws {
        let o = try decoder.container(keyedBy: LooseKey.self)
        id = try o.required("id")
        command = o.text("command") ?? ""
        workdir = o.text("workdir")
        isActive = o.bool("is_active") ?? false
        tty = o.bool("tty") ?? false
        created = o.date("created")
        lastActivity = o.date("last_activity")
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
