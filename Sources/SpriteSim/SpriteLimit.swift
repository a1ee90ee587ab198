import Foundation
import HTTPTypes
import Hummingbird

extension SpriteStore {
    /// The account's limit on sprites at once (`Faults.maxSprites`, spec §2): a request that
    /// would wake a cold sprite (a command, a file, a checkpoint: anything under
    /// `/v1/sprites/<name>/…`) while that many others are running or warm is answered 429
    /// `concurrent_sprite_limit_exceeded`. Creating a sprite is not refused: a new one is cold.
    func limitRefusal(path: String, faults: Faults) -> Response? {
        guard let limit = faults.maxSprites else { return nil }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 4, parts[0] == "v1", parts[1] == "sprites" else { return nil }
        let name = parts[2].removingPercentEncoding ?? parts[2]
        guard let sprite = get(name), sprite.status == "cold" else { return nil }
        let awake = all().filter { $0.status != "cold" && $0.name != name }.count
        guard awake >= limit else { return nil }
        var h = HTTPFields()
        h[HTTPField.Name("Retry-After")!] = String(faults.retryAfter)
        return Reply.json(.tooManyRequests, [
            "error": "concurrent_sprite_limit_exceeded",
            "message": "concurrent sprite limit exceeded: \(awake) of \(limit) sprites are running or warm",
            "limit": limit, "current_count": awake, "retry_after_seconds": faults.retryAfter, "upgrade_available": false,
        ], headers: h)
    }

    /// Whether a WebSocket upgrade to `name` must be refused for the limit (it is then answered
    /// by the HTTP route, whose middleware gives the 429).
    func wouldExceedLimit(_ name: String, faults: Faults) -> Bool {
        limitRefusal(path: "/v1/sprites/\(name)/exec", faults: faults) != nil
    }
}
