import Foundation
import Testing
@testable import SpriteSandbox
@testable import Sprites

/// sprite-sim's account limit on sprites at once (`--max-sprites`), as the spec's structured 429.
@Suite("The account's limit on sprites at once")
struct SpriteLimitTests {
    @Test func wakingOneSpriteTooManyIsA429WithTheStructuredErrorAndCreatingIsNot() async throws {
        try await SimProcess.with(tls: false, arguments: ["--max-sprites", "1", "--retry-after", "7"]) { sim in
            let client = SpritesClient(baseURL: sim.url, token: sim.token, retry: .none)
            _ = try await client.createSprite(SpriteSpec(name: "first"))
            _ = try await client.createSprite(SpriteSpec(name: "second"))   // a new sprite is cold: not refused
            let woke = try await client.run("first", ["true"])
            #expect(woke.exitCode == 0)
            do {
                _ = try await client.run("second", ["true"])
                Issue.record("a second sprite woke past the limit")
            } catch let e as SpritesError {
                guard case .api(let api) = e else { Issue.record("not an API error: \(e)"); return }
                #expect(api.status == 429 && api.code == "concurrent_sprite_limit_exceeded")
                #expect(api.limit == 1 && api.currentCount == 1 && api.retryAfterSeconds == 7)
                let (reason, after) = try #require(SpriteSandbox.limit(e))
                #expect(reason == "the account's limit on sprites at once (1) is reached; trying again in 7 s" && after == 7)
            }
            // Raised at run time, the limit lets it wake.
            _ = try sim.admin("faults", #"{"max_sprites":2}"#)
            #expect(try await client.run("second", ["true"]).exitCode == 0)
        }
    }

    @Test func aNegativeLimitIsRefused() async throws {
        #expect(throws: (any Error).self) { try SimProcess.start(tls: false, arguments: ["--max-sprites", "-1"]).stop() }
    }
}
