import Foundation
import Testing
import Sprites

/// Hidden benchmark, run by `scripts/bench-sprites` (enabled only when SPRITES_BENCH_URL is set).
/// Prints `BENCH exec_true_median_ms=…` and `BENCH stream_10mib_ms=…`.
@Suite("bench", .enabled(if: ProcessInfo.processInfo.environment["SPRITES_BENCH_URL"] != nil))
struct SpritesBench {
    @Test func execRoundTripAndStream() async throws {
        let env = ProcessInfo.processInfo.environment
        let client = SpritesClient(baseURL: env["SPRITES_BENCH_URL"]!, token: env["SPRITES_BENCH_TOKEN"] ?? "")
        let sprite = env["SPRITES_BENCH_SPRITE"] ?? "bench"
        let runs = Int(env["SPRITES_BENCH_RUNS"] ?? "50") ?? 50
        _ = try await client.run(sprite, ["true"])  // warm-up
        var times: [Double] = []
        for _ in 0..<runs {
            let t = Date()
            let r = try await client.run(sprite, ["true"])
            times.append(Date().timeIntervalSince(t) * 1000)
            #expect(r.exitCode == 0)
        }
        times.sort()
        // The stream figure is the median of a few runs: one run is too noisy on a shared machine.
        var streams: [Double] = []
        for _ in 0..<(Int(env["SPRITES_BENCH_STREAM_RUNS"] ?? "5") ?? 5) {
            let t = Date()
            let big = try await client.run(sprite, ["head", "-c", "10485760", "/dev/zero"])
            streams.append(Date().timeIntervalSince(t) * 1000)
            #expect(big.stdout.count == 10 << 20)
        }
        streams.sort()
        let streamMs = streams[streams.count / 2]
        print(String(format: "BENCH exec_true_median_ms=%.2f", times[times.count / 2]))
        print(String(format: "BENCH stream_10mib_ms=%.2f", streamMs))
    }
}
