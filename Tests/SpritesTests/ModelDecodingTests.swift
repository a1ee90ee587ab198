import Foundation
import Testing
@testable import Sprites

/// The API's models decode what the service sends across its versions (spec §3, §5.2, §6).
@Suite("Decoding the API's models")
struct ModelDecodingTests {
    func decode<M: Decodable>(_ type: M.Type, _ json: String) throws -> M {
        try JSONDecoder.model(type, from: Array(json.utf8))
    }

    @Test func spellingsAndScalarTypesOfEachVersionAreRead() throws {
        let s = try decode(Sprite.self, #"{"name":"box","id":"spr_1","org_slug":"acme","url_settings":{"auth":"public"},"labels":["a"],"version":7,"created_at":"2026-12-01T10:00:00.5Z","extra":{"x":1}}"#)
        #expect(s.name == "box" && s.organization == "acme" && s.urlAuth == "public" && s.labels == ["a"] && s.version == "7")
        #expect(s.createdAt == Date(timeIntervalSince1970: 1_796_119_200.5))
        #expect(throws: SpritesError.self) { try decode(Sprite.self, #"{"id":"no name"}"#) }

        let old = try decode(Checkpoint.self, #"{"id":"v3","created_at":1764583200,"comment":"task #1 start"}"#)
        #expect(old.createTime == Date(timeIntervalSince1970: 1_764_583_200) && old.comment == "task #1 start" && !old.isAuto)

        let sessions = try decode(ListBody<SessionSummary>.self, #"{"sessions":[{"id":42,"command":"bash","is_active":true},{"command":"no id"}]}"#)
        #expect(sessions.items.map(\.id) == ["42"], "a number id is its text; an element without one is left out")
        let bare = try decode(ListBody<Checkpoint>.self, #"[{"id":"v0"},{"id":"v1","is_auto":true}]"#)
        #expect(bare.items.map(\.id) == ["v0", "v1"] && bare.items[1].isAuto)

        #expect(ProgressEvent.line(Array(#"{"type":"error","error":"disk full"}"#.utf8))?.text == "disk full")
        #expect(ProgressEvent.line(Array("not json".utf8)) == nil)
        let page = try decode(SpritePage.self, #"{"sprites":[{"name":"a"},{"bad":1}],"has_more":true,"next_continuation_token":""}"#)
        #expect(page.sprites.map(\.name) == ["a"] && !page.hasMore, "no token, no next page")
    }
}
