import Foundation
import Testing
@testable import AgentHooks

/// A deterministic pseudo-random generator so failures reproduce (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The reference answer: lines of `log` after `start` (a line start), with their end offsets.
func referenceLines(_ log: [UInt8], from start: Int) -> [(bytes: [UInt8], end: Int64)] {
    var result: [(bytes: [UInt8], end: Int64)] = []
    var lineStart = start
    for index in start..<log.count where log[index] == UInt8(ascii: "\n") {
        result.append((Array(log[lineStart..<index]), Int64(index + 1)))
        lineStart = index + 1
    }
    return result
}

@Suite struct HookLineSplitterTests {
    @Test func simpleLinesAndPartialTail() {
        var splitter = HookLineSplitter(startOffset: 100)
        var lines = splitter.feed(Array("ab\ncd\nef".utf8))
        #expect(lines.map(\.bytes) == [Array("ab".utf8), Array("cd".utf8)])
        #expect(lines.map(\.endOffset) == [103, 106])
        #expect(splitter.committedOffset == 106)
        #expect(splitter.pendingByteCount == 2)
        lines = splitter.feed(Array("g".utf8))
        #expect(lines.isEmpty)
        lines = splitter.feed(Array("\n".utf8))
        #expect(lines == [HookLineSplitter.Line(bytes: Array("efg".utf8), endOffset: 110, length: 3)])
        #expect(splitter.pendingByteCount == 0)
    }

    @Test func emptyChunksAndBlankLines() {
        var splitter = HookLineSplitter()
        #expect(splitter.feed([UInt8]()).isEmpty)
        let lines = splitter.feed(Array("\n\n \r\nx\n".utf8))
        #expect(lines.map(\.endOffset) == [1, 2, 5, 7])
        #expect(lines.map(\.isBlank) == [true, true, true, false])
        #expect(splitter.feed(Data("y\n".utf8)).map(\.endOffset) == [9])
    }

    @Test func randomChunkingMatchesReference() {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        for round in 0..<300 {
            var log: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<40, using: &generator) {
                let length = Int.random(in: 0..<(round % 3 == 0 ? 3 : 200), using: &generator)
                log += (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }.map { $0 == 10 ? 11 : $0 }
                log.append(10)
            }
            log += (0..<Int.random(in: 0..<5, using: &generator)).map { _ in UInt8(ascii: "p") }
            let starts = [0] + referenceLines(log, from: 0).map { Int($0.end) }
            let start = starts.randomElement(using: &generator)!
            let expected = referenceLines(log, from: start)

            var splitter = HookLineSplitter(startOffset: Int64(start))
            var got: [HookLineSplitter.Line] = []
            var position = start
            while position < log.count {
                let size = Int.random(in: 1...max(1, min(log.count - position, round % 2 == 0 ? 7 : 500)), using: &generator)
                got += splitter.feed(log[position..<(position + size)])
                position += size
            }
            #expect(got.map(\.bytes) == expected.map(\.bytes), "round \(round)")
            #expect(got.map(\.endOffset) == expected.map(\.end), "round \(round)")
            #expect(got.allSatisfy { !$0.isTruncated })
            #expect(splitter.committedOffset == expected.last?.end ?? Int64(start))
            #expect(Int(splitter.committedOffset) + splitter.pendingByteCount == log.count)
        }
    }

    @Test func resumingFromEveryCommittedOffsetGivesTheRest() {
        var generator = SeededGenerator(seed: 7)
        let log = Array((0..<50).map { "{\"n\":\($0),\"pad\":\"\(String(repeating: "z", count: $0 * 3))\"}\n" }.joined().utf8)
        var splitter = HookLineSplitter()
        var seen: [[UInt8]] = []
        var stored: Int64 = 0
        var position = 0
        var crashes = 0
        while position < log.count {
            // Read a random chunk; a third of the time "crash" before storing its lines and
            // resume from the last stored offset, as ingestion after a restart does.
            let size = Int.random(in: 1...64, using: &generator)
            let end = min(log.count, position + size)
            let lines = splitter.feed(log[position..<end])
            if Int.random(in: 0..<3, using: &generator) > 0 {
                seen += lines.map(\.bytes)
                stored = lines.last?.endOffset ?? stored
                position = end
            } else {
                crashes += 1
                splitter = HookLineSplitter(startOffset: stored)
                position = Int(stored)
            }
        }
        #expect(crashes > 10)
        #expect(seen == referenceLines(log, from: 0).map(\.bytes))
    }

    @Test func oversizedLineIsTruncatedWithExactOffsets() {
        var splitter = HookLineSplitter(startOffset: 10, maxLineBytes: 16)
        var lines: [HookLineSplitter.Line] = []
        lines += splitter.feed(Array("short\n".utf8))
        let huge = [UInt8](repeating: UInt8(ascii: "h"), count: 1000)
        for chunk in stride(from: 0, to: huge.count, by: 33) {
            lines += splitter.feed(huge[chunk..<min(huge.count, chunk + 33)])
            #expect(splitter.pendingByteCount == min(huge.count, chunk + 33))
        }
        lines += splitter.feed(Array("\nexact16exact16ab\nafter\n".utf8))
        #expect(lines.count == 4)
        #expect(lines[0].endOffset == 16)
        #expect(lines[1].isTruncated)
        #expect(lines[1].bytes.count == 16)
        #expect(lines[1].length == 1000)
        #expect(lines[1].endOffset == 16 + 1001)
        #expect(!lines[2].isTruncated)
        #expect(lines[2].bytes == Array("exact16exact16ab".utf8))
        #expect(lines[3].bytes == Array("after".utf8))
        #expect(lines[3].endOffset == 16 + 1001 + 17 + 6)
        #expect(lines[1].record.isTruncated)
    }

    @Test func oversizedLinesUnderRandomChunking() {
        var generator = SeededGenerator(seed: 99)
        for round in 0..<100 {
            let max = Int.random(in: 1...50, using: &generator)
            var log: [UInt8] = []
            for _ in 0..<20 {
                log += [UInt8](repeating: UInt8(ascii: "a"), count: Int.random(in: 0...120, using: &generator))
                log.append(10)
            }
            var splitter = HookLineSplitter(maxLineBytes: max)
            var got: [HookLineSplitter.Line] = []
            var position = 0
            while position < log.count {
                let size = Int.random(in: 1...97, using: &generator)
                got += splitter.feed(log[position..<min(log.count, position + size)])
                position += size
            }
            let expected = referenceLines(log, from: 0)
            #expect(got.map(\.endOffset) == expected.map(\.end), "round \(round)")
            #expect(got.map(\.length) == expected.map(\.bytes.count))
            #expect(got.map(\.bytes) == expected.map { Array($0.bytes.prefix(max)) })
            #expect(got.map(\.isTruncated) == expected.map { $0.bytes.count > max })
        }
    }

    @Test func recordOfLine() {
        var splitter = HookLineSplitter()
        let lines = splitter.feed(Array((hookLine(event: "Stop", data: #"{"last_assistant_message":"ok"}"#) + "\n").utf8))
        #expect(lines.first?.record.summary == "ok")
    }
}

@Suite struct HookLineSplitterThroughputTests {
    /// 32 MiB of 1 KiB lines in 64 KiB chunks: about 0.1 s in a debug build.
    @Test func splitsQuickly() {
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 1023) + [10]
        let chunk = Array((0..<64).map { _ in line }.joined())
        var splitter = HookLineSplitter()
        var count = 0
        let start = Date()
        for _ in 0..<512 { count += splitter.feed(chunk).count }
        #expect(count == 512 * 64)
        #expect(splitter.committedOffset == 32 << 20)
        #expect(Date().timeIntervalSince(start) < 2)
    }
}
