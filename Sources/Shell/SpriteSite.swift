import Foundation
import Runner
import Sandbox
import SpriteSandbox
import Sprites
import TaskCore

/// Wires the sprite into the runner: a site on the sprite named by `sprite.name`, provisioned on
/// first use, its errors worded for the user.
enum SpriteSite {
    /// The runner's sprite provider; nil without a token.
    static func provider(_ ctx: CommandContext) -> SiteProvider? {
        guard SpriteAccess.findToken(ctx) != nil else { return nil }
        return { progress in
            let (client, found) = try SpriteAccess.client(ctx)
            let name = try SpriteAccess.name(ctx)
            do {
                let sandbox = try await SpriteProvisioner(client: client, sprite: name).ready { step in
                    let mark = switch step.kind {
                    case .ok: "✓"
                    case .working: "…"
                    case .missing: "✗"
                    }
                    progress("\(mark) \(step.text)")
                }
                let id = try await client.getSprite(name).id
                return site(sandbox, id: id)
            } catch let e as SpritesError {
                throw SpriteAccess.describe(e, ctx: ctx, name: name, tokenSource: found.source, notFound: nil)
            }
        }
    }

    /// The site on a provisioned sprite. Its hook source names the sprite's id too: a sprite made
    /// anew under the same name starts a new hook log, read from its first byte.
    static func site(_ sandbox: SpriteSandbox, id: String?) -> Site {
        let home = sandbox.homeDirectory
        return Site(
            kind: .sprite, sandbox: sandbox, tmux: Tmux(sandbox: sandbox, socket: "task"),
            source: "sprite:\(sandbox.sprite)" + (id.map { ":\($0)" } ?? ""), runDirectory: home + "/.task", workDirectory: home + "/work",
            agentSetting: "sprite.agent", permissionSetting: "sprite.permission_mode", keepAwake: true)
    }
}
