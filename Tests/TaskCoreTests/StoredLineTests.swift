import AgentHooks
import Foundation
import GRDB
import Testing

@testable import TaskCore

@Suite("Stored hook lines")
struct StoredLineTests {
    /// What `store` keeps for `line`, and the line `expand` gives back.
    func roundTrip(_ line: String, task: Int64?, event: String) -> (stored: [UInt8], back: String) {
        var stored: [UInt8] = []
        var line = line, event = event
        line.withUTF8 { l in event.withUTF8 { e in StoredLine.store(l, taskID: task, event: e, into: &stored) } }
        let back = StoredLine.expand(String(decoding: stored, as: UTF8.self), taskID: task, event: event)
        return (stored, back)
    }

    @Test func aLineOfTheHookScriptsShapeIsStoredWithoutItsTaskAndEvent() {
        let line = #"{"task":12,"event":"PostToolUse","ts":1764806400.123456789,"data":{"session_id":"s","tool_name":"Bash"}}"#
        let (stored, back) = roundTrip(line, task: 12, event: "PostToolUse")
        #expect(stored.first == 1)
        #expect(String(decoding: stored.dropFirst(), as: UTF8.self) == #"1764806400.123456789,{"session_id":"s","tool_name":"Bash"}"#)
        #expect(back == line)
        #expect(stored.count + 40 < line.utf8.count)
        stored.withUnsafeBufferPointer { b in
            guard case .compact(let ts, _) = StoredLine.shape(b) else { Issue.record("not compact"); return }
            #expect(abs(StoredLine.appendedAt(ts: ts)! - 1764806400.123456789) < 1e-6)
        }
        for ts in ["1764806400", "1764806400.5", "1764806400.000000001", "17648064001234567890123.25", "0.5"] {
            var text = ts
            let fast = text.withUTF8 { StoredLine.appendedAt(ts: $0) }
            #expect(abs(fast! - strtod(ts, nil)) <= 1e-6 * max(1, strtod(ts, nil) / 1e10), "\(ts)")
        }
    }

    @Test(arguments: [
        // Task or event not the row's, a task number not in canonical form, an event name with
        // characters JSON would escape, other key orders, extra fields, a malformed line.
        (#"{"task":12,"event":"Stop","ts":1,"data":{}}"#, Int64(13), "Stop"),
        (#"{"task":012,"event":"Stop","ts":1,"data":{"a":1}}"#, Int64(12), "Stop"),
        (#"{"task":12,"event":"Stop","ts":1,"data":{"a":1}}"#, Int64(12), "Notification"),
        (#"{"task":1,"event":"We\"ird","ts":1,"data":{"a":1}}"#, Int64(1), "We\"ird"),
        (#"{"event":"Stop","task":1,"ts":1,"data":{"a":1}}"#, Int64(1), "Stop"),
        (#"{"task":1,"event":"Stop","ts":-1,"data":{"a":1}}"#, Int64(1), "Stop"),
        (#"{"task":1,"event":"Stop","ts":1,"data":{"a":"#, Int64(1), "Stop"),
        (#"not json at all"#, nil, "malformed"),
        ("\u{1}12,{\"looks\":\"compact\"}", Int64(12), "Stop"),
        ("\u{2}starts with the escape", nil, "malformed"),
    ])
    func anyOtherLineIsKeptWhole(line: String, task: Int64?, event: String) {
        let (stored, back) = roundTrip(line, task: task, event: event)
        #expect(stored.first != 1)
        #expect(back == line)
    }

    @Test func eventsAreReadBackAsTheLinesTheHookScriptWrote() throws {
        let store = try TaskStore(path: temporaryFolder() + "/t.db")
        let id = try store.createTask(title: "t", prompt: "p", projectName: nil).id
        let lines = [
            #"{"task":\#(id),"event":"SessionStart","ts":1764806400.5,"data":{"session_id":"abc","transcript_path":"/t.jsonl","hook_event_name":"SessionStart"}}"#,
            #"{"task":\#(id),"event":"Stop","ts":1764806401,"data":{"last_assistant_message":"done, \"quoted\""}}"#,
            #"{"task":\#(id),"event":"Stop" broken"#,
        ]
        var offset: Int64 = 0
        let logLines = lines.map { text -> LogLine in
            offset += Int64(text.utf8.count + 1)
            return LogLine(record: HookRecord(line: text), endOffset: offset)
        }
        try store.ingest(source: "local", lines: logLines, newOffset: offset)
        let events = try store.events(taskID: nil)
        #expect(events.map(\.rawJSON) == lines)
        #expect(events[0].appendedAt == 1764806400.5 && events[1].appendedAt == 1764806401)
        #expect(try store.transcriptPath(taskID: id) == "/t.jsonl")
        var streamed: [String] = []
        try store.forEachRawEvent(EventFilter()) { row in
            streamed.append(row.lineString)
            if row.id == events[0].id { #expect(row.appendedAt == 1764806400.5) }
        }
        #expect(streamed == lines)
        // sqlite3 users read the same lines through a view.
        let viewed = try store.read { db in try String.fetchAll(db, sql: "SELECT line FROM hook_event_lines ORDER BY id") }
        #expect(viewed == lines)
        // The compact rows leave appended_at to their line.
        let stored = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_events WHERE appended_at IS NULL AND event <> 'malformed'") }
        #expect(stored == 2)
    }

    @Test func theMigrationKeepsEventsTheirIdsAndTheIdSequence() throws {
        let path = temporaryFolder() + "/t.db"
        do {
            let old = try TaskStore(path: path, migrateUpTo: "v9-watchdog-indexes")
            try old.write { db in
                for n in 1...5 {
                    try db.execute(sql: """
                        INSERT INTO hook_events (task_id, event, summary, raw_json, source, source_offset, appended_at, received_at)
                        VALUES (1, 'Stop', '', ?, 'local', ?, 1.5, 2)
                        """, arguments: [#"{"task":1,"event":"Stop","ts":1.5,"data":{"n":\#(n)}}"#, n * 10])
                }
                // The newest two were pruned: their ids must not come back.
                try db.execute(sql: "DELETE FROM hook_events WHERE id > 3")
            }
        }
        let store = try TaskStore(path: path)
        let events = try store.events(taskID: 1)
        #expect(events.map(\.id) == [1, 2, 3])
        #expect(events.map(\.rawJSON).last == #"{"task":1,"event":"Stop","ts":1.5,"data":{"n":3}}"#)
        let indexes = try store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hook_events' ORDER BY name")
        }
        #expect(indexes == ["hook_events_by_task"])
        let line = #"{"task":1,"event":"Stop","ts":9,"data":{"n":6}}"#
        try store.ingest(source: "other", lines: [LogLine(record: HookRecord(line: line), endOffset: 50)], newOffset: 50)
        #expect(try store.events(taskID: 1).map(\.id) == [1, 2, 3, 6])
    }
}
