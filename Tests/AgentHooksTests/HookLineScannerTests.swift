@testable import AgentHooks
import Testing

/// The one-pass scanner reads the same fields a full parse of the line finds.
@Suite("hook line scanner")
struct HookLineScannerTests {
    /// The fields as the tree-building parser sees them.
    func expected(_ line: String) -> HookLineFields? {
        guard let value = JSONValue.parse(Array(line.utf8)) else { return nil }
        var f = HookLineFields()
        guard case .object(let outer) = value else { return f }
        f.isObject = true
        f.task = outer["task"].flatMap { $0.int64 ?? $0.string.flatMap { Int64($0) } }
        f.event = outer["event"]?.string
        f.ts = outer["ts"]?.double
        if case .object(let d)? = outer["data"] {
            f.data.hookEventName = d["hook_event_name"]?.string
            f.data.sessionID = d["session_id"]?.string
            f.data.toolName = d["tool_name"]?.string
            f.data.prompt = d["prompt"]?.string
            f.data.exitCode = d["exit_code"]?.int64
            if case .object(let input)? = d["tool_input"] {
                f.data.toolInput = input.compactMapValues(\.string).filter {
                    !["content", "old_string", "new_string", "edits", "new_source"].contains($0.key)
                }
            }
        }
        return f
    }

    @Test(arguments: [
        #"{"task":3,"event":"PreToolUse","ts":1754000000.25,"data":{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test","timeout":5000},"session_id":"s-1"}}"#,
        #"{"task":"12","event":"Stop","data":{"prompt":"a \"quoted\" \u00e9 \ud83d\ude00 word"}}"#,
        #"{"task":1,"event":"Edit","data":{"tool_input":{"file_path":"/a","old_string":"x","new_string":"y","edits":[{"a":1}]}}}"#,
        #"{"task":1,"event":"X","data":{"tool_name":"A"},"data":{"tool_name":7}}"#,
        #"{"event":"A","event":5,"task":2.0,"ts":3}"#,
        #"{"ev\u0065nt":"Escaped","d\u0061ta":{"tool_n\u0061me":"K","tool_input":{"p\u0061th":"/x"}}}"#,
        #"{"task":1,"event":"AgentExit","data":{"exit_code":3.0}}"#,
        #"{"task":1,"event":"E","data":{"tool_input":"not an object","deep":[[[[{"a":[null,true,false,-1.5e3]}]]]]}}"#,
        #"  {"task" : 1 , "event" : "Spaced" , "data" : { } }  "#,
        #"{"task":1,"event":"S","data":[1,2]}"#,
        #"[1,2,{"event":"x"}]"#,
        #""str""#,
        #"{"a":1,}"#,
        #"{,"a":1}"#,
        #"{"a" 1}"#,
        #"{"a":1"#,
        #"{"a":"\x"}"#,
        #"{"a":01}"#,
        #"{"a":1}{"#,
        #"{"ts":1e400,"event":"Stop"}"#,
        "",
    ])
    func scannerMatchesAFullParse(line: String) {
        let scanned = JSONParser.scanHookLine(Array(line.utf8))
        let parsed = expected(line)
        #expect((scanned == nil) == (parsed == nil), "validity of \(line)")
        guard let s = scanned, let p = parsed else { return }
        #expect(s.isObject == p.isObject)
        #expect(s.task == p.task)
        #expect(s.event == p.event)
        #expect(s.ts == p.ts)
        #expect(s.data.hookEventName == p.data.hookEventName)
        #expect(s.data.sessionID == p.data.sessionID)
        #expect(s.data.toolName == p.data.toolName)
        #expect(s.data.prompt == p.data.prompt)
        #expect(s.data.exitCode == p.data.exitCode)
        #expect(s.data.toolInput == p.data.toolInput)
    }

    @Test func nestingDeeperThanTheLimitIsRefused() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(JSONParser.scanHookLine(Array(#"{"data":{"x":\#(deep)}}"#.utf8)) == nil)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONParser.scanHookLine(Array(#"{"data":{"x":\#(fine)}}"#.utf8)) != nil)
    }
}
