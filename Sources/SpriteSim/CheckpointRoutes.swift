import Foundation
import Hummingbird

/// Checkpoints as copies of the sprite's home folder (§6).
struct CheckpointRoutes {
    let store: SpriteStore

    private func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    func create(_ req: Request, _ name: String) async throws -> Response {
        guard store.get(name) != nil else { return Reply.error(.notFound, "sprite not found") }
        let body = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:]
        let comment = body["comment"] as? String ?? Query(req.uri.query).first("comment")
        var newId = ""
        _ = store.update(name) { r in
            newId = "v\(r.nextCheckpoint)"
            r.nextCheckpoint += 1
        }
        let id = newId
        let store = self.store
        return Reply.ndjson { emit in
            try await emit(["type": "info", "data": "Creating checkpoint...", "time": now()])
            try await emit(["type": "info", "data": "Stopping services...", "time": now()])
            try await emit(["type": "info", "data": "Saving filesystem state...", "time": now()])
            let dest = store.checkpointDir(name, id)
            try? FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
            let r = await Tool.run(["cp", "-a", store.homeDir(name).path, dest.appendingPathComponent("home").path])
            guard r.code == 0 else {
                try await emit(["type": "error", "error": "checkpoint failed: \(r.stderr)", "time": now()])
                return
            }
            _ = store.update(name) { rec in
                rec.checkpoints.append(CheckpointRecord(id: id, createTime: Date(), comment: comment))
            }
            try await emit(["type": "complete", "data": "Checkpoint \(id) created", "time": now()])
        }
    }

    func json(_ c: CheckpointRecord) -> [String: Any] {
        var o: [String: Any] = ["id": c.id, "create_time": Reply.iso(c.createTime), "is_auto": false]
        if let comment = c.comment { o["comment"] = comment }
        return o
    }

    func list(_ name: String) -> Response {
        guard let rec = store.get(name) else { return Reply.error(.notFound, "sprite not found") }
        return Reply.json(.ok, rec.checkpoints.reversed().map(json))
    }

    func get(_ name: String, _ id: String) -> Response {
        guard let rec = store.get(name) else { return Reply.error(.notFound, "sprite not found") }
        guard let c = rec.checkpoints.first(where: { $0.id == id }) else { return Reply.error(.notFound, "checkpoint not found") }
        return Reply.json(.ok, json(c))
    }

    func delete(_ name: String, _ id: String) -> Response {
        guard store.get(name) != nil else { return Reply.error(.notFound, "sprite not found") }
        var found = false
        _ = store.update(name) { r in
            found = r.checkpoints.contains { $0.id == id }
            r.checkpoints.removeAll { $0.id == id }
        }
        guard found else { return Reply.error(.notFound, "checkpoint not found") }
        try? FileManager.default.removeItem(at: store.checkpointDir(name, id))
        return Response(status: .noContent)
    }

    func restore(_ name: String, _ id: String) -> Response {
        guard let rec = store.get(name) else { return Reply.error(.notFound, "sprite not found") }
        guard rec.checkpoints.contains(where: { $0.id == id }) else { return Reply.error(.notFound, "checkpoint not found") }
        let store = self.store
        return Reply.ndjson { emit in
            try await emit(["type": "info", "data": "Restoring checkpoint \(id)...", "time": now()])
            store.dropSockets(of: name)
            store.killSessions(of: name)
            try await emit(["type": "info", "data": "Stopping sessions...", "time": now()])
            let home = store.homeDir(name).path
            _ = await Tool.run(["rm", "-rf", home])
            let r = await Tool.run(["cp", "-a", store.checkpointDir(name, id).appendingPathComponent("home").path, home])
            guard r.code == 0 else {
                try await emit(["type": "error", "error": "restore failed: \(r.stderr)", "time": now()])
                return
            }
            try await emit(["type": "complete", "data": "Restored checkpoint \(id)", "time": now()])
        }
    }
}
