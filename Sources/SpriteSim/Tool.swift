import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a short helper program (cp, rm) to completion off the cooperative pool.
enum Tool {
    static func run(_ argv: [String]) async -> (code: Int32, stderr: String) {
        await withCheckedContinuation { cont in
            Thread {
                cont.resume(returning: runBlocking(argv))
            }.start()
        }
    }

    static func runBlocking(_ argv: [String]) -> (code: Int32, stderr: String) {
        let spec = CommandSpec(argv: argv, path: argv[0], environment: ["PATH": "/usr/bin:/bin"],
                               directory: "/", tty: false, rows: 24, cols: 80, stdin: false)
        guard let l = try? Spawner.launch(spec) else { return (127, "cannot start \(argv[0])") }
        close(l.stdout)
        var err = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(l.stderr, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            err += buf[0..<n]
        }
        close(l.stderr)
        var status: Int32 = 0
        while waitpid(l.pid, &status, 0) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xff, String(decoding: err, as: UTF8.self))
    }
}
