import Foundation
import Hummingbird
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// Path parameter, percent-decoded.
func param(_ context: SimContext, _ name: String) -> String {
    let raw = context.parameters.get(name) ?? ""
    return raw.removingPercentEncoding ?? raw
}

/// Sprite REST, sessions, kill and checkpoints (§3, §5, §6).
struct RESTRoutes {
    let store: SpriteStore
    let state: SimState

    func register(on router: Router<SimContext>) {
        router.post("/v1/sprites") { req, _ in try await create(req) }
        router.get("/v1/sprites") { req, _ in list(req) }
        router.get("/v1/sprites/:name") { _, ctx in
            guard let rec = store.get(param(ctx, "name")) else { return Reply.error(.notFound, "sprite not found") }
            return Reply.json(.ok, spriteJSON(rec))
        }
        router.put("/v1/sprites/:name") { req, ctx in try await update(req, param(ctx, "name")) }
        router.delete("/v1/sprites/:name") { _, ctx in
            store.delete(param(ctx, "name")) ? Response(status: .noContent) : Reply.error(.notFound, "sprite not found")
        }
        router.get("/v1/sprites/:name/exec") { req, ctx in sessionsOrRefusal(req, ctx) }
        router.get("/v1/sprites/:name/exec/:id") { req, ctx in sessionsOrRefusal(req, ctx) }
        router.post("/v1/sprites/:name/exec/:id/kill") { req, ctx in try await kill(req, ctx) }
        router.post("/v1/sprites/:name/checkpoint") { req, ctx in try await CheckpointRoutes(store: store).create(req, param(ctx, "name")) }
        router.get("/v1/sprites/:name/checkpoints") { _, ctx in CheckpointRoutes(store: store).list(param(ctx, "name")) }
        router.get("/v1/sprites/:name/checkpoints/:id") { _, ctx in
            CheckpointRoutes(store: store).get(param(ctx, "name"), param(ctx, "id"))
        }
        router.delete("/v1/sprites/:name/checkpoints/:id") { _, ctx in
            CheckpointRoutes(store: store).delete(param(ctx, "name"), param(ctx, "id"))
        }
        router.post("/v1/sprites/:name/checkpoints/:id/restore") { _, ctx in
            CheckpointRoutes(store: store).restore(param(ctx, "name"), param(ctx, "id"))
        }
        FilesystemRoutes(store: store).register(on: router)
    }

    func spriteJSON(_ r: SpriteRecord) -> [String: Any] {
        var config: [String: Any] = ["ram_mb": 2048, "cpus": 2, "region": "ord", "storage_gb": 100]
        for (k, v) in r.config { config[k] = Int(v) ?? v }
        return [
            "id": r.id, "name": r.name, "organization": "sim", "status": r.status,
            "url": "https://\(r.name)-\(store.orgId).sprites.app",
            "url_settings": ["auth": r.urlAuth],
            "created_at": Reply.iso(r.createdAt), "updated_at": Reply.iso(r.updatedAt),
            "config": config, "environment": r.environment, "labels": r.labels,
            "last_running_at": Reply.iso(r.lastRunningAt), "last_warming_at": Reply.iso(r.lastWarmingAt),
            "primary_region": "ord", "version": "sim",
        ]
    }

    private func create(_ req: Request) async throws -> Response {
        let body = try await req.body.collect(upTo: 1 << 20)
        guard let obj = Reply.parseBody(body), let name = obj["name"] as? String, !name.isEmpty else {
            return Reply.error(.badRequest, "invalid request body: name is required")
        }
        let labels = obj["labels"] as? [String] ?? []
        let env = obj["environment"] as? [String: String] ?? [:]
        let auth = (obj["url_settings"] as? [String: Any])?["auth"] as? String
        var config: [String: String] = [:]
        for (k, v) in obj["config"] as? [String: Any] ?? [:] { config[k] = "\(v)" }
        switch store.create(name: name, labels: labels, environment: env, urlAuth: auth, config: config) {
        case .created(let rec): return Reply.json(.created, spriteJSON(rec))
        case .duplicate:
            let status: HTTPResponse.Status = store.options.duplicateNameStatus == 400 ? .badRequest : .conflict
            return Reply.error(status, "sprite with name \(name) already exists")
        case .invalid(let msg): return Reply.error(.badRequest, msg)
        }
    }

    private func list(_ req: Request) -> Response {
        let q = Query(req.uri.query)
        let prefix = q.first("prefix") ?? ""
        let max = min(50, Swift.max(1, q.int("max_results") ?? 50))
        let all = store.all().filter { $0.name.hasPrefix(prefix) }
        let start = q.first("continuation_token").flatMap { tok in all.firstIndex { $0.name > tok } } ?? (q.first("continuation_token") == nil ? 0 : all.count)
        let page = Array(all[start..<Swift.min(all.count, start + max)])
        let hasMore = start + page.count < all.count
        let counts = ["running": all.filter { $0.status == "running" }.count,
                      "warm": all.filter { $0.status == "warm" }.count,
                      "cold": all.filter { $0.status == "cold" }.count]
        var out: [String: Any] = [
            "sprites": page.map(spriteJSON), "has_more": hasMore,
            "next_continuation_token": hasMore ? (page.last?.name ?? "") as Any : NSNull(),
            "running_limit": 100, "warm_limit": 100,
        ]
        for (k, v) in counts { out[k] = v }
        out["org"] = ["name": "sim", "running": counts["running"]!, "warm": counts["warm"]!, "cold": counts["cold"]!,
                      "running_limit": 100, "warm_limit": 100]
        return Reply.json(.ok, out)
    }

    private func update(_ req: Request, _ name: String) async throws -> Response {
        let body = try await req.body.collect(upTo: 1 << 20)
        guard let obj = Reply.parseBody(body) else { return Reply.error(.badRequest, "invalid request body") }
        guard let rec = store.update(name, { r in
            if let auth = (obj["url_settings"] as? [String: Any])?["auth"] as? String { r.urlAuth = auth }
            if obj["clear_labels"] as? Bool == true { r.labels = [] }
            if let labels = obj["labels"] as? [String] { r.labels = labels }
        }) else { return Reply.error(.notFound, "sprite not found") }
        return Reply.json(.ok, spriteJSON(rec))
    }

    /// `GET …/exec` lists sessions. A GET that still carries `Upgrade` was refused by the
    /// WebSocket router; say why here.
    private func sessionsOrRefusal(_ req: Request, _ ctx: SimContext) -> Response {
        let name = param(ctx, "name")
        guard store.get(name) != nil else { return Reply.error(.notFound, "sprite not found") }
        let id = ctx.parameters.get("id")
        if req.headers[.upgrade] != nil || id != nil {
            let q = Query(req.uri.query)
            if let id {
                if state.faults.withLock({ $0 }).attachPath404 { return Reply.error(.notFound, "not found") }
                if store.session(name, id) == nil { return Reply.error(.notFound, "session not found") }
                return Reply.error(.badRequest, "websocket upgrade required")
            }
            if let legacy = q.first("id"), store.session(name, legacy) == nil {
                return Reply.error(.notFound, "session not found")
            }
            if q.all("cmd").isEmpty, q.first("id") == nil { return Reply.error(.badRequest, "missing cmd parameter") }
            return Reply.error(.badRequest, "websocket upgrade failed")
        }
        let sessions: [[String: Any]] = store.liveSessions(of: name).map { s in
            ["id": Int(s.pid), "command": s.command, "workdir": s.workdir,
             "created": Reply.iso(s.created), "last_activity": Reply.iso(s.lastActivity),
             "is_active": s.isRunning, "tty": s.tty, "bytes_per_second": s.bytesPerSecond]
        }
        return Reply.json(.ok, ["sessions": sessions])
    }

    private func kill(_ req: Request, _ ctx: SimContext) async throws -> Response {
        let name = param(ctx, "name"), id = param(ctx, "id")
        guard store.get(name) != nil else { return Reply.error(.notFound, "sprite not found") }
        let q = Query(req.uri.query)
        let body = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:]
        let sigName = q.first("signal") ?? body["signal"] as? String ?? "SIGTERM"
        let timeout = parseDuration(q.first("timeout")) ?? (body["timeout"] as? Double) ?? (body["timeout"] as? Int).map(Double.init) ?? 10
        guard let session = store.session(name, id) else {
            if store.finishedCode(name, id) != nil { return Reply.error(.gone, "session already exited") }
            return Reply.error(.notFound, "session not found")
        }
        guard let sig = Signals.number(sigName) else { return Reply.error(.badRequest, "unknown signal \(sigName)") }
        return Reply.ndjson { emit in
            try await emit(["type": "signal", "message": "sending \(Signals.canonical(sigName)) to \(id)",
                            "signal": Signals.canonical(sigName), "pid": Int(session.pid)])
            session.signal(sig)
            let deadline = Date().addingTimeInterval(timeout)
            while session.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            if session.isRunning {
                try await emit(["type": "timeout", "message": "process did not exit within \(timeout)s, sending SIGKILL"])
                session.signal(SIGKILL)
                while session.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                try await emit(["type": "killed", "message": "process killed"])
            } else {
                try await emit(["type": "exited", "message": "process exited"])
            }
            try await emit(["type": "complete", "exit_code": session.exitCode ?? -1])
        }
    }
}

/// Signal names as sent over the socket (`TERM`) or to the kill endpoint (`SIGTERM`).
enum Signals {
    static let table: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "TERM": SIGTERM,
        "USR1": SIGUSR1, "USR2": SIGUSR2, "STOP": SIGSTOP, "CONT": SIGCONT, "WINCH": SIGWINCH,
    ]
    static func canonical(_ s: String) -> String {
        let up = s.uppercased()
        return up.hasPrefix("SIG") ? up : "SIG" + up
    }
    static func number(_ s: String) -> Int32? {
        if let n = Int32(s) { return n }
        return table[String(canonical(s).dropFirst(3))]
    }
}
