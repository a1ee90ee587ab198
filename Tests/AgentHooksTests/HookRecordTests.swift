import Foundation
import Testing
@testable import AgentHooks

/// A hook-log line in the hook script's format.
func hookLine(task: Int = 7, event: String, ts: String = "1754000000.25", data: String) -> String {
    #"{"task":\#(task),"event":"\#(event)","ts":\#(ts),"data":\#(data)}"#
}

@Suite struct HookRecordTests {
    @Test func preToolUseBashSummarisesFirstCommandLine() {
        let line = hookLine(event: "PreToolUse", data: #"""
            {"session_id":"s-1","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"\n  git status\ngit diff","description":"x"},"tool_use_id":"toolu_1"}
            """#)
        let record = HookRecord(line: line)
        #expect(record.event == "PreToolUse")
        #expect(record.taskID == 7)
        #expect(record.appendedAt == 1754000000.25)
        #expect(record.toolName == "Bash")
        #expect(record.toolUseID == "toolu_1")
        #expect(record.sessionID == "s-1")
        #expect(record.transcriptPath == "/t.jsonl")
        #expect(record.cwd == "/w")
        #expect(record.summary == "git status…")
        #expect(record.raw == line)
        #expect(!record.isMalformed)
    }

    @Test(arguments: [
        ("Edit", #"{"file_path":"/a/b.swift","old_string":"x","new_string":"y"}"#, "/a/b.swift"),
        ("Write", #"{"file_path":"/a/c.txt","content":"hello"}"#, "/a/c.txt"),
        ("Read", #"{"file_path":"/a/d.md"}"#, "/a/d.md"),
        ("Grep", #"{"pattern":"func .*\\(","path":"/a"}"#, #"func .*\("#),
        ("Glob", #"{"pattern":"**/*.swift"}"#, "**/*.swift"),
        ("WebFetch", #"{"url":"https://x.example/","prompt":"p"}"#, "https://x.example/"),
        ("mcp__srv__tool", #"{"zeta":"z","alpha":"first"}"#, "first"),
        ("Bash", #"{}"#, ""),
    ])
    func toolTargets(tool: String, input: String, expected: String) {
        for event in ["PreToolUse", "PostToolUse", "PermissionRequest"] {
            let data = #"{"hook_event_name":"\#(event)","tool_name":"\#(tool)","tool_input":\#(input)}"#
            let record = HookRecord(line: hookLine(event: event, data: data))
            #expect(record.event == event)
            #expect(record.toolName == tool)
            #expect(record.summary == expected)
        }
    }

    @Test func postToolUseFailureShowsTargetAndError() {
        let data = #"{"hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{"command":"make"},"error":"exit 2\nmore","is_interrupt":false}"#
        let record = HookRecord(line: hookLine(event: "PostToolUseFailure", data: data))
        #expect(record.summary == "make: exit 2…")
        #expect(record.message == "exit 2\nmore")
    }

    @Test func eventSummaries() {
        let cases: [(String, String, String)] = [
            ("UserPromptSubmit", #"{"prompt":"fix the bug\nin main.swift"}"#, "fix the bug…"),
            ("Stop", #"{"stop_hook_active":false,"last_assistant_message":"Done. All tests pass."}"#, "Done. All tests pass."),
            ("Notification", #"{"message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}"#, "Claude needs your permission to use Bash"),
            ("StopFailure", #"{"error":"rate_limit","error_details":"429 Too Many Requests"}"#, "rate_limit: 429 Too Many Requests"),
            ("StopFailure", #"{"error":"overloaded"}"#, "overloaded"),
            ("SessionStart", #"{"source":"startup","model":"x"}"#, "startup"),
            ("SessionEnd", #"{"reason":"prompt_input_exit"}"#, "prompt_input_exit"),
            ("AgentExit", #"{"exit_code":3}"#, "exit 3"),
            ("AgentExit", #"{}"#, "exit ?"),
            ("SomethingNew", #"{"whatever":1}"#, ""),
        ]
        for (event, data, summary) in cases {
            let record = HookRecord(line: hookLine(event: event, data: data))
            #expect(record.event == event)
            #expect(record.summary == summary, "\(event)")
        }
    }

    @Test func eventSpecificFields() {
        let prompt = HookRecord(line: hookLine(event: "UserPromptSubmit", data: #"{"prompt":"a\n\"b\""}"#))
        #expect(prompt.prompt == "a\n\"b\"")
        let notification = HookRecord(line: hookLine(event: "Notification", data: #"{"message":"m","notification_type":"idle_prompt"}"#))
        #expect(notification.notificationType == "idle_prompt")
        #expect(notification.message == "m")
        let failure = HookRecord(line: hookLine(event: "StopFailure", data: #"{"error":"billing_error","last_assistant_message":"API Error"}"#))
        #expect(failure.errorType == "billing_error")
        #expect(failure.lastAssistantMessage == "API Error")
        let exit = HookRecord(line: hookLine(event: "AgentExit", data: #"{"exit_code":137}"#))
        #expect(exit.exitCode == 137)
        let start = HookRecord(line: hookLine(event: "SessionStart", data: #"{"source":"resume"}"#))
        #expect(start.reason == "resume")
        let stop = HookRecord(line: hookLine(event: "Stop", data: #"{"last_assistant_message":"bye"}"#))
        #expect(stop.lastAssistantMessage == "bye")
    }

    @Test func hookEventNameWinsOverOuterEvent() {
        let record = HookRecord(line: hookLine(event: "Stop", data: #"{"hook_event_name":"SessionEnd","reason":"other"}"#))
        #expect(record.event == "SessionEnd")
        #expect(record.summary == "other")
        let empty = HookRecord(line: hookLine(event: "Stop", data: #"{"hook_event_name":""}"#))
        #expect(empty.event == "Stop")
    }

    @Test func integralTimestampAndStringTaskID() {
        let record = HookRecord(line: #"{"task":"12","event":"Stop","ts":1754000000,"data":{}}"#)
        #expect(record.taskID == 12)
        #expect(record.appendedAt == 1754000000)
        let boolTask = HookRecord(line: #"{"task":true,"event":"Stop","data":{}}"#)
        #expect(boolTask.taskID == nil)
        #expect(boolTask.appendedAt == nil)
    }

    @Test func summaryHasNoControlCharactersAndIsShort() {
        let long = String(repeating: "x", count: 500)
        let data = #"{"prompt":"\u001b[31mred\u0007 \u0000bell\t\#(long)"}"#
        let record = HookRecord(line: hookLine(event: "UserPromptSubmit", data: data))
        #expect(record.summary.count == DisplayText.defaultLimit)
        #expect(record.summary.hasPrefix("[31mred bell xxx"))
        #expect(record.summary.hasSuffix("…"))
        #expect(!record.summary.unicodeScalars.contains { $0.properties.generalCategory == .control })
    }

    @Test func missingDataStillParses() {
        let record = HookRecord(line: #"{"task":1,"event":"Stop","ts":2}"#)
        #expect(record.event == "Stop")
        #expect(record.summary == "")
        let nonObjectData = HookRecord(line: #"{"task":1,"event":"Stop","ts":2,"data":[1,2]}"#)
        #expect(nonObjectData.event == "Stop")
    }

    @Test(arguments: [
        ("", "not valid JSON"),
        ("   ", "not valid JSON"),
        ("not json", "not valid JSON"),
        ("{\"task\":1,\"event\":\"Stop\"", "not valid JSON"),
        ("[1,2,3]", "not a JSON object"),
        ("\"just a string\"", "not a JSON object"),
        ("42", "not a JSON object"),
        ("null", "not a JSON object"),
        ("{}", "no event name"),
        ("{\"task\":1,\"data\":{}}", "no event name"),
        ("{\"task\":1,\"event\":5,\"data\":{}}", "no event name"),
        ("{\"ts\":1e400,\"event\":\"Stop\"}", "not valid JSON"),
    ])
    func malformedLines(line: String, reason: String) {
        let record = HookRecord(line: line)
        #expect(record.isMalformed)
        #expect(record.event == "malformed")
        #expect(record.malformedReason == reason)
        #expect(record.raw == line)
        #expect(!record.summary.isEmpty)
        #expect(record.summary.count <= DisplayText.defaultLimit)
    }

    @Test func binaryAndInvalidUTF8() {
        var bytes: [UInt8] = Array(#"{"task":1,"event":"Stop","data":{"x":""#.utf8)
        bytes += [0xFF, 0xFE, 0xC0, 0x80, 0x00, 0x1B]
        bytes += Array(#""}}"#.utf8)
        let record = HookRecord(line: bytes)
        #expect(record.isMalformed)
        #expect(record.raw.contains("\u{FFFD}"))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let length = Int.random(in: 0..<300, using: &generator)
            let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let parsed = HookRecord(line: random)
            #expect(parsed.isMalformed)
            #expect(!parsed.summary.unicodeScalars.contains { $0.properties.generalCategory == .control })
        }
    }

    @Test func deeplyNestedJSONDoesNotCrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(HookRecord(line: deep).isMalformed)
        let deepData = hookLine(event: "Stop", data: String(repeating: "{\"a\":", count: 5_000) + "1" + String(repeating: "}", count: 5_000))
        #expect(HookRecord(line: deepData).isMalformed)
    }

    @Test func oneMebibyteLines() {
        let big = String(repeating: "y", count: 1 << 20)
        let good = hookLine(event: "PostToolUse", data: #"{"tool_name":"Read","tool_input":{"file_path":"/big"},"tool_response":"\#(big)"}"#)
        let record = HookRecord(line: good)
        #expect(record.event == "PostToolUse")
        #expect(record.summary == "/big")
        #expect(record.raw.utf8.count == good.utf8.count)

        let bad = "{" + big
        let malformed = HookRecord(line: bad)
        #expect(malformed.isMalformed)
        #expect(malformed.raw.utf8.count == HookRecord.maxMalformedRawBytes)
    }

    @Test func truncatedLineRecoversEventFromItsStart() {
        let data = #"{"session_id":"abc","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/x"},"tool_response":"zzzz"#
        let head = Array(hookLine(task: 42, event: "PostToolUse", ts: "1754000001.5", data: data).utf8)
        let record = HookRecord(line: head, truncatedFrom: 5_000_000)
        #expect(record.isTruncated)
        #expect(record.event == "PostToolUse")
        #expect(record.taskID == 42)
        #expect(record.appendedAt == 1754000001.5)
        #expect(record.toolName == "Read")
        #expect(record.sessionID == "abc")
        #expect(record.summary.contains("5000000"))

        let junk = HookRecord(line: Array(repeating: UInt8(ascii: "q"), count: 100), truncatedFrom: 2_000_000)
        #expect(junk.isMalformed)
        #expect(junk.isTruncated)
    }

    @Test func scalarScannerSkipsEscapedKeys() {
        let text = Array(#"{"a":"say \"tool_name\":\"fake\"","tool_name":"Real","n":12,"#.utf8)
        #expect(HookRecordParser.scalar(forKey: "tool_name", in: text) == #""Real""#)
        #expect(HookRecordParser.scalar(forKey: "n", in: text) == "12")
        #expect(HookRecordParser.scalar(forKey: "missing", in: text) == nil)
        #expect(HookRecordParser.scalar(forKey: "cut", in: Array(#"{"cut":"abc"#.utf8)) == nil)
    }

    @Test func trailingCarriageReturnIgnored() {
        let record = HookRecord(line: hookLine(event: "Stop", data: "{}") + "\r")
        #expect(record.event == "Stop")
    }
}
