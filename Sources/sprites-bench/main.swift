import Foundation
import Sprites

// The Sprites client's figures for scripts/bench-sprites, from a release build: the median round
// trip of `true` through exec, and the median time to read 10 MiB of stdout. Reads
// SPRITES_BENCH_URL, SPRITES_BENCH_TOKEN, SPRITES_BENCH_SPRITE (bench), SPRITES_BENCH_RUNS (50)
// and SPRITES_BENCH_STREAM_RUNS (5); prints `BENCH exec_true_median_ms=…`, `BENCH stream_10mib_ms=…`.
// Then the control channel's: the median round trip of `true` over it (`control_true_median_ms`)
// and ten sequential `true`s each way (`seq10_exec_ms`, `seq10_control_ms`) — against
// `sprite-sim --latency-ms 100` these show what a round trip per connection costs.
// `https://` trusts SSL_CERT_FILE / SSL_CERT_DIR.

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

    func ms(_ body: () async throws -> Void) async rethrows -> Double {
        let t = DispatchTime.now()
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6
    }
    _ = try await client.run(sprite, ["true"], via: .control).check()   // opens the channel
    var control: [Double] = []
    for _ in 0..<runs { control.append(try await ms { try await client.run(sprite, ["true"], via: .control).check() }) }
    let seqControl = try await ms { for _ in 0..<10 { try await client.run(sprite, ["true"], via: .control).check() } }
    let seqExec = try await ms { for _ in 0..<10 { try await client.run(sprite, ["true"]).check() } }
    let stats = client.controlChannel(sprite).stats
    print(String(format: "BENCH control_true_median_ms=%.2f", median(control)))
    print(String(format: "BENCH seq10_exec_ms=%.1f", seqExec))
    print(String(format: "BENCH seq10_control_ms=%.1f", seqControl))
    print("BENCH control_connections=\(stats.connectionsOpened) control_fallbacks=\(stats.fallbacks)")
} catch {
    FileHandle.standardError.write(Data("sprites-bench: \(error)\n".utf8))
    exit(1)
}
