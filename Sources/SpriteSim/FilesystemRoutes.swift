import Foundation
import Hummingbird
#if canImport(Glibc)
import Glibc
#endif

/// The filesystem API (§7). Paths under `/home/sprite` (or the real home folder) map to the
/// sprite's home; other absolute paths map into a private `rootfs` folder of the sprite.
struct FilesystemRoutes {
    let store: SpriteStore

    func register(on router: Router<SimContext>) {
        router.get("/v1/sprites/:name/fs/read") { req, ctx in try await handle(req, ctx, read) }
        router.put("/v1/sprites/:name/fs/write") { req, ctx in try await handle(req, ctx, write) }
        router.get("/v1/sprites/:name/fs/list") { req, ctx in try await handle(req, ctx, list) }
        router.delete("/v1/sprites/:name/fs/delete") { req, ctx in try await handle(req, ctx, delete) }
    }

    struct Target {
        var virtual: String
        var real: URL
    }

    private func handle(_ req: Request, _ ctx: SimContext,
                        _ op: (Request, String, Query, [String: Any]) async throws -> Response) async throws -> Response {
        let name = param(ctx, "name")
        guard store.get(name) != nil else { return Reply.error(.notFound, "sprite not found") }
        await store.touch(name)
        var body: [String: Any] = [:]
        if req.method == .delete { body = Reply.parseBody(try await req.body.collect(upTo: 1 << 16)) ?? [:] }
        return try await op(req, name, Query(req.uri.query), body)
    }

    func resolve(_ name: String, path: String, workingDir: String?) -> Target {
        let home = store.homeDir(name).path
        var p = path
        if !p.hasPrefix("/") { p = (workingDir ?? "/home/sprite") + "/" + p }
        var parts: [Substring] = []
        for c in p.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        let virtual = "/" + parts.joined(separator: "/")
        let real: String
        if virtual == "/home/sprite" || virtual.hasPrefix("/home/sprite/") {
            real = home + virtual.dropFirst("/home/sprite".count)
        } else if virtual == home || virtual.hasPrefix(home + "/") {
            real = virtual
        } else {
            real = store.spriteDir(name).appendingPathComponent("rootfs").path + virtual
        }
        return Target(virtual: virtual, real: URL(fileURLWithPath: real))
    }

    private func target(_ name: String, _ q: Query, _ body: [String: Any]) -> Target? {
        guard let path = q.first("path") ?? body["path"] as? String, !path.isEmpty else { return nil }
        return resolve(name, path: path, workingDir: q.first("workingDir") ?? body["workingDir"] as? String)
    }

    private func missingPath() -> Response { Reply.fsError(.badRequest, "path is required", code: "EINVAL", path: "") }

    private func read(_ req: Request, _ name: String, _ q: Query, _ body: [String: Any]) async throws -> Response {
        guard let t = target(name, q, body) else { return missingPath() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: t.real.path, isDirectory: &isDir) else {
            return Reply.fsError(.notFound, "no such file or directory", code: "ENOENT", path: t.virtual)
        }
        if isDir.boolValue { return Reply.fsError(.badRequest, "is a directory", code: "EISDIR", path: t.virtual) }
        guard let data = FileManager.default.contents(atPath: t.real.path) else {
            return Reply.fsError(.forbidden, "permission denied", code: "EACCES", path: t.virtual)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func write(_ req: Request, _ name: String, _ q: Query, _ body: [String: Any]) async throws -> Response {
        guard let t = target(name, q, body) else { return missingPath() }
        let data = try await req.body.collect(upTo: 1 << 30)
        let mkdirs = q.bool("mkdirParents") ?? q.bool("mkdir") ?? false
        let mode = q.first("mode").flatMap { Int($0, radix: 8) } ?? 0o644
        let fm = FileManager.default
        let parent = t.real.deletingLastPathComponent()
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: parent.path, isDirectory: &isDir) {
            guard mkdirs else { return Reply.fsError(.notFound, "parent directory does not exist", code: "ENOENT", path: t.virtual) }
            do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
                return Reply.fsError(.badRequest, "cannot create parent directory", code: "ENOTDIR", path: t.virtual)
            }
        } else if !isDir.boolValue {
            return Reply.fsError(.badRequest, "parent is not a directory", code: "ENOTDIR", path: t.virtual)
        }
        if fm.fileExists(atPath: t.real.path, isDirectory: &isDir), isDir.boolValue {
            return Reply.fsError(.badRequest, "is a directory", code: "EISDIR", path: t.virtual)
        }
        guard fm.createFile(atPath: t.real.path, contents: Data(data.readableBytesView)) else {
            return Reply.fsError(.internalServerError, "write failed", code: "EIO", path: t.virtual)
        }
        _ = chmod(t.real.path, mode_t(mode))
        return Reply.json(.ok, ["path": t.virtual, "size": data.readableBytes, "mode": String(format: "%04o", mode)])
    }

    private func entry(_ url: URL, virtual: String) -> [String: Any]? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path) else { return nil }
        let type = attrs[.type] as? FileAttributeType
        let kind = type == .typeDirectory ? "directory" : type == .typeSymbolicLink ? "symlink" : "file"
        let perms = (attrs[.posixPermissions] as? Int) ?? 0o644
        return ["name": url.lastPathComponent, "path": virtual, "type": kind,
                "size": (attrs[.size] as? Int) ?? 0, "mode": String(format: "%04o", perms),
                "modTime": Reply.iso(attrs[.modificationDate] as? Date), "isDir": kind == "directory"]
    }

    private func list(_ req: Request, _ name: String, _ q: Query, _ body: [String: Any]) async throws -> Response {
        guard let t = target(name, q, body) else { return missingPath() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: t.real.path, isDirectory: &isDir) else {
            return Reply.fsError(.notFound, "no such file or directory", code: "ENOENT", path: t.virtual)
        }
        var entries: [[String: Any]] = []
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: t.real.path)) ?? []
            for n in names.sorted() {
                let v = t.virtual == "/" ? "/" + n : t.virtual + "/" + n
                if let e = entry(t.real.appendingPathComponent(n), virtual: v) { entries.append(e) }
            }
        } else if let e = entry(t.real, virtual: t.virtual) {
            entries.append(e)
        }
        return Reply.json(.ok, ["path": t.virtual, "entries": entries, "count": entries.count])
    }

    private func delete(_ req: Request, _ name: String, _ q: Query, _ body: [String: Any]) async throws -> Response {
        guard let t = target(name, q, body) else { return missingPath() }
        let recursive = q.bool("recursive") ?? (body["recursive"] as? Bool) ?? false
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: t.real.path, isDirectory: &isDir) else {
            return Reply.fsError(.notFound, "no such file or directory", code: "ENOENT", path: t.virtual)
        }
        if t.real.path == store.homeDir(name).path {
            return Reply.fsError(.badRequest, "refusing to delete the home folder", code: "EINVAL", path: t.virtual)
        }
        var deleted = [t.virtual]
        if isDir.boolValue {
            let children = (try? fm.subpathsOfDirectory(atPath: t.real.path)) ?? []
            if !children.isEmpty && !recursive {
                return Reply.fsError(.badRequest, "directory not empty", code: "ENOTEMPTY", path: t.virtual)
            }
            deleted += children.sorted().map { t.virtual + "/" + $0 }
        }
        do { try fm.removeItem(at: t.real) } catch {
            return Reply.fsError(.internalServerError, "delete failed", code: "EIO", path: t.virtual)
        }
        return Reply.json(.ok, ["deleted": deleted, "count": deleted.count])
    }
}
