import AgentHooks
import Foundation
import Testing
@testable import Sandbox

@Suite struct HookLogTailTests {
    /// Appends `text` to `path` (creating it).
    func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Pids of processes whose command line mentions `text`.
    func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            return String(decoding: data, as: UTF8.self).contains(text) && processIsAlive(pid)
        }
    }

    @Test func followsALogThatDoesNotExistYet() async throws {
        let dir = try makeTemporaryDirectory("tail")
        defer { removeTree(dir) }
        let log = dir + "/hooks.log"
        try await withTimeout(20) {
            let tail = HookLogTail(sandbox: LocalSandbox(), path: log, pollInterval: 0.05)
            var iterator = tail.lines().makeAsyncIterator()
            try await Task.sleep(for: .milliseconds(150))
            try append("first line\nsecond ", to: log)
            let batch1 = try #require(try await iterator.next())
            #expect(batch1.map { String(decoding: $0.bytes, as: UTF8.self) } == ["first line"])
            #expect(batch1.map(\.endOffset) == [11])
            try append("part\nthird\n", to: log)
            var got: [HookLineSplitter.Line] = []
            while got.count < 2, let batch = try await iterator.next() {
                #expect(!batch.isEmpty)
                got += batch
            }
            #expect(got.map { String(decoding: $0.bytes, as: UTF8.self) } == ["second part", "third"])
            #expect(got.map(\.endOffset) == [23, 29])
        }
    }

    @Test func startsAtTheStoredOffsetAndStopsWhenCancelled() async throws {
        let dir = try makeTemporaryDirectory("tail")
        defer { removeTree(dir) }
        let log = dir + "/resume-\(UUID().uuidString).log"
        let lines = (1...3).map { #"{"task":1,"event":"Stop","ts":1,"data":{"last_assistant_message":"m\#($0)"}}"# + "\n" }
        try append(lines.joined(), to: log)
        let offset = Int64(lines[0].utf8.count)

        let consumer = Task {
            var records: [(String, Int64)] = []
            for try await batch in HookLogTail(sandbox: LocalSandbox(), path: log, startOffset: offset).lines() {
                records += batch.map { ($0.record.summary, $0.endOffset) }
                if records.count == 3 { break }
            }
            return records
        }
        try await Task.sleep(for: .milliseconds(300))
        try append(#"{"task":1,"event":"Stop","ts":1,"data":{"last_assistant_message":"m4"}}"# + "\n", to: log)
        let records = try await withTimeout(20) { try await consumer.value }
        #expect(records.map(\.0) == ["m2", "m3", "m4"])
        let size = Int64(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int ?? 0)
        #expect(records.last?.1 == size)
        #expect(records.map(\.1) == [offset + Int64(lines[1].utf8.count), offset + Int64(lines[1].utf8.count + lines[2].utf8.count), size])
        // Leaving the loop ends the stream, which must stop tail.
        #expect(await eventually { processes(mentioning: log).isEmpty })
    }
}
