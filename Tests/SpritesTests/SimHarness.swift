import Foundation
import Testing
@testable import SpriteSim
import Sprites

/// Every suite that talks to the shared sim runs serialized under this one (faults are global).
@Suite("Sprites against sprite-sim", .serialized)
enum SimSuite {}

/// One in-process sprite-sim for the whole test run (port 0, temp root, close delay 0).
actor SimHarness {
    static let shared = SimHarness()
    static let token = "test-org/abc/tok-1/secret-value"
    private var started: (SpriteSimServer, String)?

    func start() async throws -> (SpriteSimServer, String) {
        if let started { return started }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sprite-sim-tests-\(UUID().uuidString.prefix(8))").path
        var o = SimOptions(root: root, token: Self.token)
        o.faults.closeDelay = 0
        let sim = try SpriteSimServer(options: o)
        let url = try await sim.start()
        started = (sim, url)
        return (sim, url)
    }

    /// A client, the server, and a fresh sprite; faults are reset first.
    static func fresh(_ prefix: String = "t") async throws -> (SpritesClient, SpriteSimServer, String) {
        let (sim, url) = try await shared.start()
        sim.state.faults.withLock { $0 = sim.state.initialFaults }
        let client = SpritesClient(baseURL: url, token: token, retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.05))
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await client.createSprite(SpriteSpec(name: name))
        return (client, sim, name)
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
