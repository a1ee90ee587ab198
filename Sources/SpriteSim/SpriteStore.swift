import Foundation
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// A sprite as persisted under `--root/state.json`.
struct SpriteRecord: Codable, Sendable {
    var id: String
    var name: String
    var createdAt: Date
    var updatedAt: Date
    var labels: [String] = []
    var environment: [String: String] = [:]
    var urlAuth = "sprite"
    var config: [String: String] = [:]
    var status = "cold"
    var checkpoints: [CheckpointRecord] = []
    var nextCheckpoint = 0
    var lastRunningAt: Date?
    var lastWarmingAt: Date?
}

struct CheckpointRecord: Codable, Sendable {
    var id: String
    var createTime: Date
    var comment: String?
}

/// Everything persisted.
struct PersistedState: Codable {
    var orgId = String(UUID().uuidString.prefix(8)).lowercased()
    var sprites: [String: SpriteRecord] = [:]
}

/// Owns the sprites: their records (persisted), folders, sessions, open sockets and lifecycle.
final class SpriteStore: Sendable {
    let root: URL
    let options: SimOptions
    private let state: Mutex<PersistedState>
    /// Sessions by sprite name then pid; finished ones are kept (exit code) for kill's 410.
    private let sessions = Mutex<[String: [Int32: ProcessSession]]>([:])
    private let finished = Mutex<[String: [Int32: Int]]>([:])
    /// Open exec sockets, so a pause or a fault can drop them.
    private let sockets = Mutex<[UUID: (sprite: String, drop: @Sendable () -> Void)]>([:])
    private let activity = Mutex<[String: Date]>([:])
    private let timers: Mutex<(idle: Double, cold: Double)>

    init(options: SimOptions) throws {
        self.options = options
        self.root = URL(fileURLWithPath: options.root, isDirectory: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sprites"), withIntermediateDirectories: true)
        let file = root.appendingPathComponent("state.json")
        var loaded = PersistedState()
        if let data = try? Data(contentsOf: file) {
            loaded = try Self.decoder.decode(PersistedState.self, from: data)
        }
        self.state = Mutex(loaded)
        self.timers = Mutex((options.idleToWarm, options.warmToCold))
        for name in loaded.sprites.keys { try? prepareFolders(name) }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601; e.outputFormatting = [.prettyPrinted, .sortedKeys]; return e
    }()
    static let decoder: JSONDecoder = { let d = JSONDecoder(); d.dateDecodingStrategy = .iso8601; return d }()

    var orgId: String { state.withLock { $0.orgId } }

    private func save() {
        let snapshot = state.withLock({ $0 })
        if let data = try? Self.encoder.encode(snapshot) {
            let file = root.appendingPathComponent("state.json")
            try? data.write(to: file, options: .atomic)
        }
    }

    // MARK: folders

    func spriteDir(_ name: String) -> URL { root.appendingPathComponent("sprites").appendingPathComponent(name) }
    func homeDir(_ name: String) -> URL { spriteDir(name).appendingPathComponent("home") }
    func checkpointDir(_ name: String, _ id: String) -> URL {
        spriteDir(name).appendingPathComponent("checkpoints").appendingPathComponent(id)
    }

    private func prepareFolders(_ name: String) throws {
        let fm = FileManager.default
        let dir = spriteDir(name)
        for sub in ["home", "tmux", "bin", "tasks", "checkpoints", "rootfs"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        _ = chmod(dir.appendingPathComponent("tmux").path, 0o700)
        let script = dir.appendingPathComponent("bin/sprite-env")
        try SpriteEnvScript.text.write(to: script, atomically: true, encoding: .utf8)
        _ = chmod(script.path, 0o755)
    }

    // MARK: records

    enum CreateResult { case created(SpriteRecord), duplicate, invalid(String) }

    func create(name: String, labels: [String], environment: [String: String], urlAuth: String?, config: [String: String]) -> CreateResult {
        guard Self.validName(name) else { return .invalid("invalid sprite name: \(name)") }
        let result: CreateResult = state.withLock { st in
            if st.sprites[name] != nil { return .duplicate }
            let now = Date()
            let rec = SpriteRecord(id: UUID().uuidString.lowercased(), name: name, createdAt: now, updatedAt: now,
                                   labels: labels, environment: environment, urlAuth: urlAuth ?? "sprite", config: config)
            st.sprites[name] = rec
            return .created(rec)
        }
        if case .created = result {
            do { try prepareFolders(name) } catch { return .invalid("cannot create sprite folder: \(error)") }
            save()
        }
        return result
    }

    static func validName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 63, !name.hasPrefix("."), !name.hasPrefix("-") else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    func get(_ name: String) -> SpriteRecord? { state.withLock { $0.sprites[name] } }
    func all() -> [SpriteRecord] { state.withLock { Array($0.sprites.values) }.sorted { $0.name < $1.name } }

    func update(_ name: String, _ change: (inout SpriteRecord) -> Void) -> SpriteRecord? {
        let rec: SpriteRecord? = state.withLock { st in
            guard var r = st.sprites[name] else { return nil }
            change(&r)
            r.updatedAt = Date()
            st.sprites[name] = r
            return r
        }
        if rec != nil { save() }
        return rec
    }

    func delete(_ name: String) -> Bool {
        guard state.withLock({ $0.sprites.removeValue(forKey: name) }) != nil else { return false }
        dropSockets(of: name)
        killSessions(of: name)
        killTmux(name)
        try? FileManager.default.removeItem(at: spriteDir(name))
        save()
        return true
    }

    // MARK: sessions

    func register(_ s: ProcessSession) {
        sessions.withLock { table in
            if s.isRunning { table[s.spriteName, default: [:]][s.pid] = s }
        }
    }

    func sessionEnded(_ s: ProcessSession, code: Int) {
        sessions.withLock { _ = $0[s.spriteName]?.removeValue(forKey: s.pid) }
        finished.withLock { $0[s.spriteName, default: [:]][s.pid] = code }
    }

    func session(_ sprite: String, _ id: String) -> ProcessSession? {
        guard let pid = Int32(id) else { return nil }
        return sessions.withLock { $0[sprite]?[pid] }
    }

    func finishedCode(_ sprite: String, _ id: String) -> Int? {
        guard let pid = Int32(id) else { return nil }
        return finished.withLock { $0[sprite]?[pid] }
    }

    func liveSessions(of sprite: String) -> [ProcessSession] {
        sessions.withLock { Array(($0[sprite] ?? [:]).values) }.sorted { $0.pid < $1.pid }
    }

    func killSessions(of sprite: String) {
        for s in liveSessions(of: sprite) { s.signal(SIGKILL) }
    }

    /// Ends every process of the sprite at once, as a VM stop does (SIGKILL, no traps run): its
    /// tmux servers, whatever socket they use, and everything started in them. A process belongs
    /// to the sprite when its environment carries the sprite's `TMUX_TMPDIR`.
    func killTmux(_ name: String) {
        let marker = Array("TMUX_TMPDIR=\(spriteDir(name).appendingPathComponent("tmux").path)".utf8) + [0]
        let me = getpid()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != me,
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let bytes = [UInt8](environ)
            if bytes.starts(with: marker) || bytes.firstRange(of: [0] + marker) != nil { kill(pid, SIGKILL) }
        }
        let sockets = spriteDir(name).appendingPathComponent("tmux/tmux-\(getuid())").path
        for socket in (try? FileManager.default.contentsOfDirectory(atPath: sockets)) ?? [] {
            try? FileManager.default.removeItem(atPath: sockets + "/" + socket)
        }
    }

    /// The environment a command gets: the sprite's defaults, replaced by `env` if given, but
    /// always keeping the sandbox variables (HOME unless set, TMUX_TMPDIR, the Tasks folder).
    func environment(for name: String, requested: [String: String]?, tty: Bool) -> [String: String] {
        let dir = spriteDir(name)
        let home = homeDir(name).path
        var env: [String: String]
        if let requested {
            env = requested
        } else {
            env = ["PATH": "\(dir.path)/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                   "USER": "sprite", "SHELL": "/bin/bash"]
            for (k, v) in get(name)?.environment ?? [:] { env[k] = v }
            if tty { env["TERM"] = "xterm-256color" }
        }
        if env["HOME"] == nil { env["HOME"] = home }
        if env["PATH"] == nil { env["PATH"] = "\(dir.path)/bin:/usr/local/bin:/usr/bin:/bin" }
        env["TMUX_TMPDIR"] = dir.appendingPathComponent("tmux").path
        env["SPRITE_SIM_TASKS"] = dir.appendingPathComponent("tasks").path
        env.removeValue(forKey: "TMUX")
        return env
    }

    // MARK: sockets

    func addSocket(sprite: String, drop: @escaping @Sendable () -> Void) -> UUID {
        let id = UUID()
        sockets.withLock { $0[id] = (sprite, drop) }
        return id
    }

    func removeSocket(_ id: UUID) { sockets.withLock { _ = $0.removeValue(forKey: id) } }

    /// Aborts open exec sockets (no close frame, no exit frame).
    func dropSockets(of sprite: String? = nil) {
        let victims = sockets.withLock { socks in
            let ids = socks.filter { sprite == nil || $0.value.sprite == sprite }.map(\.key)
            return ids.compactMap { socks.removeValue(forKey: $0)?.drop }
        }
        victims.forEach { $0() }
    }

    // MARK: lifecycle

    func setTimers(idle: Double?, cold: Double?) {
        timers.withLock { t in
            if let idle { t.idle = idle }
            if let cold { t.cold = cold }
        }
    }

    var timerValues: (idle: Double, cold: Double) { timers.withLock({ $0 }) }

    /// Marks activity and wakes the sprite. Returns after the wake delay if it was asleep.
    func touch(_ name: String) async {
        activity.withLock { $0[name] = Date() }
        var woke = false
        _ = update(name) { r in
            if r.status != "running" { woke = true; r.status = "running"; r.lastRunningAt = Date() }
        }
        if woke, options.wakeDelay > 0 { try? await Task.sleep(for: .seconds(options.wakeDelay)) }
    }

    func markActive(_ name: String) { activity.withLock { $0[name] = Date() } }

    private func keptAwake(_ name: String, now: Date) -> Bool {
        if liveSessions(of: name).contains(where: { $0.tty && $0.hasAttachedSockets }) { return true }
        let tasks = spriteDir(name).appendingPathComponent("tasks")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: tasks.path)) ?? []
        for f in files {
            let text = (try? String(contentsOf: tasks.appendingPathComponent(f), encoding: .utf8)) ?? ""
            if let exp = text.split(separator: " ").first.flatMap({ Double($0) }), exp > now.timeIntervalSince1970 {
                return true
            }
        }
        return false
    }

    /// One pass of the idle timer: running → warm after `idle`, warm → cold after `cold`.
    func lifecycleTick(dropOnPause: Bool) {
        let now = Date()
        let (idle, cold) = timers.withLock({ $0 })
        for rec in all() {
            let last = activity.withLock { $0[rec.name] } ?? rec.updatedAt
            if rec.status == "running" {
                if keptAwake(rec.name, now: now) { markActive(rec.name); continue }
                if now.timeIntervalSince(last) >= idle { pause(rec.name, cold: false, drop: dropOnPause) }
            } else if rec.status == "warm", let since = rec.lastWarmingAt, now.timeIntervalSince(since) >= cold {
                pause(rec.name, cold: true, drop: dropOnPause)
            }
        }
    }

    /// Pauses a sprite now: drops its sockets; a cold pause also kills its processes.
    func pause(_ name: String, cold: Bool, drop: Bool = true) {
        _ = update(name) { r in
            r.status = cold ? "cold" : "warm"
            if !cold { r.lastWarmingAt = Date() }
        }
        if drop || cold { dropSockets(of: name) }
        if cold {
            killSessions(of: name)
            killTmux(name)
        }
    }
}
