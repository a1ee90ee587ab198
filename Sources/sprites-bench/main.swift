import Foundation
import Sprites

// The Sprites client's figures for scripts/bench-sprites, from a release build: the median round
// trip of `true` through exec, and the median time to read 10 MiB of stdout. Reads
// SPRITES_BENCH_URL, SPRITES_BENCH_TOKEN, SPRITES_BENCH_SPRITE (bench), SPRITES_BENCH_RUNS (50)
// and SPRITES_BENCH_STREAM_RUNS (5); prints `BENCH exec_true_median_ms=…`, `BENCH stream_10mib_ms=…`.

let env = ProcessInfo.processInfo.environment
guard let url = env["SPRITES_BENCH_URL"] else {
    FileHandle.standardError.write(Data("sprites-bench: set SPRITES_BENCH_URL (see scripts/bench-sprites)\n".utf8))
    exit(64)
}
let client = SpritesClient(baseURL: url, token: env["SPRITES_BENCH_TOKEN"] ?? "")
let sprite = env["SPRITES_BENCH_SPRITE"] ?? "bench"
let runs = Int(env["SPRITES_BENCH_RUNS"] ?? "50") ?? 50
let streamRuns = Int(env["SPRITES_BENCH_STREAM_RUNS"] ?? "5") ?? 5

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

do {
    _ = try await client.run(sprite, ["true"]).check()   // warm-up
    var times: [Double] = []
    for _ in 0..<runs {
        let t = DispatchTime.now()
        try await client.run(sprite, ["true"]).check()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6)
    }
    var streams: [Double] = []
    for _ in 0..<streamRuns {
        let t = DispatchTime.now()
        let big = try await client.run(sprite, ["head", "-c", "10485760", "/dev/zero"])
        streams.append(Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6)
        guard big.stdout.count == 10 << 20 else { throw SpritesError.invalidResponse("short stream: \(big.stdout.count) bytes") }
    }
    print(String(format: "BENCH exec_true_median_ms=%.2f", median(times)))
    print(String(format: "BENCH stream_10mib_ms=%.2f", median(streams)))
} catch {
    FileHandle.standardError.write(Data("sprites-bench: \(error)\n".utf8))
    exit(1)
}
