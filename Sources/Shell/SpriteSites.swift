import Foundation
import Runner
import Sandbox
import SpriteSandbox
import Sprites
import TaskCore

/// Wires the sprites of the pool into the runner: the site on a sprite, provisioned on first
/// use, its errors worded for the user.
enum SpriteSites {
    /// The runner's sprite provider; nil without a token.
    static func provider(_ ctx: CommandContext) -> SiteProvider? {
        guard SpriteAccess.findToken(ctx) != nil else { return nil }
        return { name, progress in
            let (client, found) = try SpriteAccess.client(ctx)
            let cache = SpriteSiteCache(ctx: ctx, name: name)
            // A sprite provisioned before: no request at all (a launch's one look at the sprite
            // finds an outdated hook script and replaces it; a sprite gone answers 404, which
            // forgets this).
            if let known = cache.load() {
                return site(SpriteSandbox(client: client, sprite: name, homeDirectory: known.home), id: known.id)
            }
            do {
                let sandbox = try await SpriteProvisioner(client: client, sprite: name).ready { step in
                    let mark = switch step.kind {
                    case .ok: "✓"
                    case .working: "…"
                    case .missing: "✗"
                    }
                    // Several sprites of the pool may be provisioned at once: each line says which.
                    progress("\(mark) " + (step.text.hasPrefix("sprite \(name) ") ? step.text : "\(name): \(step.text)"))
                }
                let id = try await client.getSprite(name).id
                cache.save(home: sandbox.homeDirectory, id: id)
                return site(sandbox, id: id)
            } catch let e as SpritesError {
                if let (reason, after) = SpriteSandbox.limit(e) { throw SiteUnavailable(reason: reason, retryAfter: after) }
                throw SpriteAccess.describe(e, ctx: ctx, name: name, tokenSource: found.source, notFound: nil)
            }
        }
    }

    /// The site on a provisioned sprite.
    static func site(_ sandbox: SpriteSandbox, id: String?) -> SpriteSite {
        SpriteSite(name: sandbox.sprite, sandbox: sandbox, home: sandbox.homeDirectory, id: id,
                   checkpoints: APICheckpoints(client: sandbox.client, sprite: sandbox.sprite))
    }
}

/// A sprite's checkpoints through the Sprites API.
struct APICheckpoints: SiteCheckpoints {
    let client: SpritesClient
    let sprite: String

    func create(comment: String) async throws -> String {
        try await Self.finish(client.createCheckpoint(sprite, comment: comment), what: "the checkpoint")
    }

    func find(comment: String) async throws -> String? {
        try await client.listCheckpoints(sprite).filter { $0.comment == comment }.min { $0.createTime ?? .distantPast < $1.createTime ?? .distantPast }?.id
    }

    func restore(id: String) async throws -> String {
        try await Self.finish(client.restoreCheckpoint(sprite, id: id), what: "the restore of \(id)")
    }

    /// Waits for a checkpoint or restore stream's end: its last word, or its error.
    static func finish(_ stream: AsyncThrowingStream<ProgressEvent, any Error>, what: String) async throws -> String {
        var done = ""
        for try await e in stream {
            if e.type == "error" { throw TaskError.failed("\(what) failed: " + (e.text.isEmpty ? "no reason given" : e.text)) }
            if e.type == "complete" { done = e.text }
        }
        return done.isEmpty ? "\(what) is done" : done
    }
}

/// What this machine knows of a provisioned sprite (its home folder and id), so a one-shot command
/// starts working on it without asking the API first: `$TASK_HOME/run/sprite-<name>.json`, for one
/// API address. `sprite up` writes it afresh; `sprite destroy` and any "no such sprite" answer remove it.
struct SpriteSiteCache {
    let ctx: CommandContext
    let name: String

    struct Known: Codable {
        var api: String
        var home: String
        var id: String?
    }

    var path: String { ctx.paths.home + "/run/sprite-" + name.replacingOccurrences(of: "/", with: "_") + ".json" }

    func load() -> Known? {
        guard let data = FileManager.default.contents(atPath: path),
              let known = try? JSONDecoder().decode(Known.self, from: data),
              known.api == SpriteAccess.baseURL(ctx), known.home.hasPrefix("/") else { return nil }
        return known
    }

    func save(home: String, id: String?) {
        guard let data = try? JSONEncoder().encode(Known(api: SpriteAccess.baseURL(ctx), home: home, id: id)) else { return }
        try? FileManager.default.createDirectory(atPath: ctx.paths.home + "/run", withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)
    }

    func forget() { try? FileManager.default.removeItem(atPath: path) }
}
