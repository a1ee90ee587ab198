import Foundation
import Hummingbird
import Synchronization

/// Test-only switches under `/_sim/` (no token needed; loopback only).
///
/// - `GET  /_sim/state` — current fault switches and timers
/// - `POST /_sim/faults` — JSON with any of `close_mode` (`normal`, `no-exit-1000`, `no-exit-1011`,
///   `no-frames`), `close_delay`, `latency_ms`, `attach_path_404`, `drop_on_pause`, `token_revoked`,
///   `idle_to_warm`, `warm_to_cold` (seconds), `sprite_version`, `session_id_string`,
///   `control_refused` (the control channel's upgrade answered 404)
/// - `POST /_sim/rate-limit` — `{"endpoints": ["create","exec",…|"*"], "count": N, "retry_after": S}`
/// - `POST /_sim/drop` — abort every open exec socket now (no close frame, no exit frame)
/// - `POST /_sim/pause` — `{"sprite": NAME?, "cold": bool}`: pause one sprite or all now
/// - `POST /_sim/revoke-token` — `{"new_token": T?}`: the current token stops working
/// - `GET  /_sim/requests`, `DELETE /_sim/requests` — the request log
/// - `GET  /_sim/control` — control channels: `{"upgrades": N, "open": N, "operations": N}`
/// - `POST /_sim/reset` — faults back to their start-up values, log cleared
struct AdminRoutes {
    let store: SpriteStore
    let state: SimState

    func register(on router: Router<SimContext>) {
        router.get("/_sim/state") { _, _ in stateJSON() }
        router.post("/_sim/faults") { req, _ in
            guard let o = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) else {
                return Reply.error(.badRequest, "invalid JSON")
            }
            if let m = o["close_mode"] as? String {
                guard let mode = CloseMode(rawValue: m) else { return Reply.error(.badRequest, "unknown close_mode \(m)") }
                state.faults.withLock { $0.closeMode = mode }
            }
            state.faults.withLock { f in
                if let v = Self.double(o["close_delay"]) { f.closeDelay = v }
                if let v = o["latency_ms"] as? Int { f.latencyMs = v }
                if let v = o["attach_path_404"] as? Bool { f.attachPath404 = v }
                if let v = o["drop_on_pause"] as? Bool { f.dropOnPause = v }
                if let v = o["token_revoked"] as? Bool { f.tokenRevoked = v }
                if let v = o["control_refused"] as? Bool { f.controlRefused = v }
                if o.keys.contains("max_sprites") { f.maxSprites = o["max_sprites"] as? Int }
            }
            store.setTimers(idle: Self.double(o["idle_to_warm"]), cold: Self.double(o["warm_to_cold"]))
            if let v = o["sprite_version"] as? String { state.versionBox.withLock { $0 = v } }
            if let v = o["session_id_string"] as? Bool { state.sessionIdAsString.withLock { $0 = v } }
            return stateJSON()
        }
        router.post("/_sim/rate-limit") { req, _ in
            let o = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:]
            let endpoints = o["endpoints"] as? [String] ?? ["*"]
            let count = o["count"] as? Int ?? 1
            state.faults.withLock { f in
                for e in endpoints { f.rateLimited[e] = count }
                if let r = o["retry_after"] as? Int { f.retryAfter = r }
            }
            return stateJSON()
        }
        router.post("/_sim/drop") { _, _ in
            store.dropSockets()
            return Reply.json(.ok, ["dropped": true])
        }
        router.post("/_sim/pause") { req, _ in
            let o = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:]
            let cold = o["cold"] as? Bool ?? false
            let names = (o["sprite"] as? String).map { [$0] } ?? store.all().map(\.name)
            for n in names { store.pause(n, cold: cold, drop: true) }
            return Reply.json(.ok, ["paused": names])
        }
        router.post("/_sim/revoke-token") { req, _ in
            let o = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:]
            if let t = o["new_token"] as? String {
                state.token.withLock { $0 = t }
            } else {
                state.faults.withLock { $0.tokenRevoked = true }
            }
            return Reply.json(.ok, ["revoked": true])
        }
        router.get("/_sim/requests") { _, _ in
            let enc = JSONEncoder()
            enc.dateEncodingStrategy = .iso8601
            let data = (try? enc.encode(state.requests)) ?? Data("[]".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/_sim/control") { _, _ in
            let c = state.control.withLock({ $0 })
            return Reply.json(.ok, ["upgrades": c.upgrades, "open": c.open, "operations": c.operations])
        }
        router.delete("/_sim/requests") { _, _ in
            state.clearLog()
            return Response(status: .noContent)
        }
        router.post("/_sim/reset") { _, _ in
            state.faults.withLock { $0 = state.initialFaults }
            state.token.withLock { $0 = store.options.token }
            store.setTimers(idle: store.options.idleToWarm, cold: store.options.warmToCold)
            state.clearLog()
            return stateJSON()
        }
    }

    static func double(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        return nil
    }

    private func stateJSON() -> Response {
        let f = state.faults.withLock({ $0 })
        let t = store.timerValues
        return Reply.json(.ok, [
            "close_mode": f.closeMode.rawValue, "close_delay": f.closeDelay, "latency_ms": f.latencyMs,
            "rate_limited": f.rateLimited, "retry_after": f.retryAfter, "max_sprites": f.maxSprites.map { $0 as Any } ?? NSNull(), "attach_path_404": f.attachPath404,
            "drop_on_pause": f.dropOnPause, "token_revoked": f.tokenRevoked, "control_refused": f.controlRefused,
            "idle_to_warm": t.idle, "warm_to_cold": t.cold, "sprite_version": state.spriteVersion,
        ])
    }
}
