import Foundation
import Testing
@testable import SpriteSim
@testable import Sprites

extension SimSuite {
@Suite("REST")
struct SpritesRESTTests {
    @Test func createGetRoundTripThenDeleteGives404() async throws {
        let (client, _, name) = try await SimHarness.fresh("rt")
        let got = try await client.getSprite(name)
        #expect(got.name == name)
        #expect(got.status == "cold")
        #expect(got.id != nil)
        try await client.deleteSprite(name)
        await #expect(throws: SpritesError.self) { try await client.getSprite(name) }
        do { _ = try await client.getSprite(name) } catch let e as SpritesError {
            #expect(e.status == 404)
            #expect(e.description.contains("sprite not found"))
        }
    }

    @Test func duplicateCreateIsAnAPIError() async throws {
        let (client, _, name) = try await SimHarness.fresh("dup")
        do {
            _ = try await client.createSprite(SpriteSpec(name: name))
            Issue.record("duplicate create succeeded")
        } catch let e as SpritesError {
            #expect(e.status == 409)
            #expect(e.description.contains("already exists"))
        }
    }

    @Test func listPaginatesAndUpdateChangesLabels() async throws {
        let (client, _, first) = try await SimHarness.fresh("pg")
        let prefix = String(first.prefix(11))  // "pg-" + 8 chars
        for i in 0..<4 { _ = try await client.createSprite(SpriteSpec(name: "\(prefix)-\(i)")) }
        let page = try await client.listSprites(prefix: prefix, maxResults: 2)
        #expect(page.sprites.count == 2)
        #expect(page.hasMore)
        let all = try await client.listAllSprites(prefix: prefix)
        #expect(all.map(\.name) == [prefix, "\(prefix)-0", "\(prefix)-1", "\(prefix)-2", "\(prefix)-3"])
        let updated = try await client.updateSprite(first, SpriteUpdate(labels: ["task", "x"], urlAuth: "public"))
        #expect(updated.labels == ["task", "x"])
        #expect(updated.urlAuth == "public")
        await #expect(throws: SpritesError.self) { _ = try await client.updateSprite("no-such-sprite", SpriteUpdate(labels: [])) }
    }

    @Test func wrongTokenGivesAClear401() async throws {
        let (_, url) = try await SimHarness.shared.start()
        let bad = SpritesClient(baseURL: url, token: "wrong")
        do {
            _ = try await bad.listSprites()
            Issue.record("listed with a wrong token")
        } catch let e as SpritesError {
            #expect(e.status == 401)
            #expect(e.description.contains("401"))
            #expect(e.description.contains("unauthorized"))
            #expect(!e.description.contains(SimHarness.token))
        }
        // The exec upgrade is refused too, and the refusal is explained as a 401.
        do {
            _ = try await bad.run("whatever", ["true"])
            Issue.record("exec with a wrong token succeeded")
        } catch let e as SpritesError {
            #expect(e.status == 401)
        }
    }

    @Test func rateLimitedGetIsRetriedHonouringRetryAfter() async throws {
        let (client, sim, name) = try await SimHarness.fresh("rl")
        sim.state.faults.withLock { $0.rateLimited["get"] = 2; $0.retryAfter = 1 }
        let start = Date()
        let s = try await client.getSprite(name)
        let elapsed = Date().timeIntervalSince(start)
        #expect(s.name == name)
        #expect(elapsed >= 2.0, "two 429s with Retry-After: 1 must wait about 2 s, waited \(elapsed)")
        let gets = sim.requests.filter { $0.path == "/v1/sprites/\(name)" && $0.method == "GET" }
        #expect(gets.map(\.status).suffix(3) == [429, 429, 200])
    }

    @Test func rateLimitedCreateIsNotRetriedAndCarriesFields() async throws {
        let (client, sim, name) = try await SimHarness.fresh("rc")
        sim.state.faults.withLock { $0.rateLimited["create"] = 1; $0.retryAfter = 7 }
        do {
            _ = try await client.createSprite(SpriteSpec(name: name + "-2"))
            Issue.record("create succeeded despite 429")
        } catch SpritesError.api(let e) {
            #expect(e.status == 429)
            #expect(e.retryAfterSeconds == 7)
            #expect(e.code == "sprite_creation_rate_limited")
            #expect(e.limit == 10)
            #expect(e.description.contains("retry after: 7s"))
        }
        let creates = sim.requests.filter { $0.method == "POST" && $0.path == "/v1/sprites" && $0.status == 429 }
        #expect(creates.count == 1)
    }

    @Test func checkpointCreateListRestore() async throws {
        let (client, _, name) = try await SimHarness.fresh("cp")
        try await client.writeFile(name, path: "/home/sprite/state.txt", data: Array("one".utf8))
        var events: [ProgressEvent] = []
        for try await e in client.createCheckpoint(name, comment: "first") { events.append(e) }
        #expect(events.first?.type == "info")
        #expect(events.last?.type == "complete")
        #expect(events.last?.text == "Checkpoint v0 created")
        let list = try await client.listCheckpoints(name)
        #expect(list.map(\.id) == ["v0"])
        #expect(list.first?.comment == "first")
        #expect(try await client.getCheckpoint(name, id: "v0").id == "v0")
        try await client.writeFile(name, path: "/home/sprite/state.txt", data: Array("two".utf8))
        var restore: [ProgressEvent] = []
        for try await e in client.restoreCheckpoint(name, id: "v0") { restore.append(e) }
        #expect(restore.last?.type == "complete")
        #expect(try await client.readFile(name, path: "/home/sprite/state.txt").text == "one")
        do {
            for try await _ in client.restoreCheckpoint(name, id: "v9") {}
            Issue.record("restoring a missing checkpoint succeeded")
        } catch let e as SpritesError { #expect(e.status == 404) }
    }

    @Test func filesystemWriteReadListDelete() async throws {
        let (client, _, name) = try await SimHarness.fresh("fs")
        let bytes: [UInt8] = (0..<3000).map { UInt8($0 % 251) }
        try await client.writeFile(name, path: "/home/sprite/d/e/blob.bin", data: bytes, mode: 0o600)
        #expect(try await client.readFile(name, path: "/home/sprite/d/e/blob.bin") == bytes)
        #expect(try await client.readFile(name, path: "e/blob.bin", workingDir: "/home/sprite/d") == bytes)
        let entries = try await client.listFiles(name, path: "/home/sprite/d/e")
        #expect(entries.map(\.name) == ["blob.bin"])
        #expect(entries.first?.size == 3000)
        #expect(entries.first?.mode == "0600")
        let stat = try await client.listFiles(name, path: "/home/sprite/d/e/blob.bin")
        #expect(stat.count == 1 && stat[0].isDirectory == false)
        do {
            try await client.deleteFile(name, path: "/home/sprite/d")
            Issue.record("non-recursive delete of a full folder succeeded")
        } catch SpritesError.api(let e) { #expect(e.code == "ENOTEMPTY") }
        let deleted = try await client.deleteFile(name, path: "/home/sprite/d", recursive: true)
        #expect(deleted.contains("/home/sprite/d/e/blob.bin"))
        do {
            _ = try await client.readFile(name, path: "/home/sprite/d/e/blob.bin")
            Issue.record("read a deleted file")
        } catch SpritesError.api(let e) {
            #expect(e.status == 404)
            #expect(e.code == "ENOENT")
        }
        do {
            try await client.writeFile(name, path: "/home/sprite/x/y.txt", data: [1], mkdirParents: false)
            Issue.record("write without mkdirParents into a missing folder succeeded")
        } catch SpritesError.api(let e) { #expect(e.status == 404) }
    }

    @Test func tokenConfigPrecedenceAndMasking() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)").path
        try SpritesConfig.saveToken("from-file-token", configDirectory: dir)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/" + SpritesConfig.credentialsFileName)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect(try SpritesConfig.token(configDirectory: dir, environment: [:]) == "from-file-token")
        #expect(try SpritesConfig.token(configDirectory: dir, environment: ["SPRITE_TOKEN": "legacy"]) == "legacy")
        #expect(try SpritesConfig.token(configDirectory: dir, environment: ["SPRITE_TOKEN": "legacy", "SPRITES_TOKEN": "new"]) == "new")
        #expect(throws: SpritesError.self) { try SpritesConfig.token(configDirectory: nil, environment: [:]) }
        #expect(SpritesConfig.masked("") == "…(0 chars)")
        #expect(SpritesConfig.masked("abc") == "…(3 chars)")
        #expect(SpritesConfig.masked("org/id/tokid/secretvalue") == "org/…(24 chars)")
        #expect(SpritesConfig.baseURL(environment: ["SPRITES_API_URL": "http://x:1/"]) == "http://x:1")
        #expect(SpritesConfig.baseURL(environment: [:]) == "https://api.sprites.dev")
    }
}
}
