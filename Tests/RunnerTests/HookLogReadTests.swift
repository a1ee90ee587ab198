import Foundation
import Sandbox
import Testing
@testable import Runner

/// The one-command read of a hook log, as a sprite runs it (`sh` is dash there, as on Debian).
@Suite("Reading a hook log in one command")
struct HookLogReadTests {
    @Test func aMissingLogIsNoLogAndAPresentOneIsReadFromTheOffset() async throws {
        let dir = NSTemporaryDirectory() + "task-read-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sandbox = LocalSandbox()
        let log = dir + "/hooks.log"
        // A plain `exec 3<missing` ends dash with status 2 before `|| exit 3`: the read says "no log".
        #expect(try await HookLogFile.read(log, from: 0, in: sandbox) == nil)
        try Data("{\"a\":1}\n{\"b\":2}\n".utf8).write(to: URL(fileURLWithPath: log))
        let read = try #require(try await HookLogFile.read(log, from: 8, in: sandbox))
        #expect(String(decoding: read.data, as: UTF8.self) == "{\"b\":2}\n")
        #expect(read.file.size == 16)
    }
}

@Suite("Reconnecting a sprite's stream")
struct ReconnectTests {
    @Test func aDroppedLiveStreamIsReopenedAtOnceThenBackedOff() {
        #expect(LiveSession.backoff(afterFailures: 1) == 0, "a drop of a healthy stream: at once")
        for _ in 0..<50 {
            #expect((0.05...0.15).contains(LiveSession.backoff(afterFailures: 2)))
            #expect((0.1...0.3).contains(LiveSession.backoff(afterFailures: 3)))
            #expect((5...15).contains(LiveSession.backoff(afterFailures: 40)), "capped at 10 s, with jitter")
        }
    }
}

@Suite("Complete lines of a transcript chunk")
struct ChunkLinesTests {
    @Test func aPartialLastLineWaitsAndAnOverlongLineIsSkippedWhole() {
        let c = ChunkLines(Data("{\"a\":1}\n\n{\"b\":2}\n{\"c\"".utf8), limit: 100)
        #expect(c.lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}"])
        #expect(c.consumed == 17 && !c.more && !c.skippedOverlong)
        let full = ChunkLines(Data(repeating: 0x61, count: 8), limit: 8)
        #expect(full.lines.isEmpty && full.consumed == 8 && full.skippedOverlong && full.more)
        let partial = ChunkLines(Data("abc".utf8), limit: 8)
        #expect(partial.lines.isEmpty && partial.consumed == 0 && !partial.skippedOverlong)
    }
}
