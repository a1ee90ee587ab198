/// Turns hook-log line bytes into a ``HookRecord``. Internal; use ``HookRecord/init(line:truncatedFrom:)``.
enum HookRecordParser {
    static func parse(_ input: [UInt8], fullLength: Int?) -> HookRecord {
        var bytes = input
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if let fullLength { return salvage(bytes, fullLength: fullLength) }
        guard let line = JSONParser.scanHookLine(bytes) else {
            return malformed(bytes, reason: "not valid JSON")
        }
        guard line.isObject else {
            return malformed(bytes, reason: "not a JSON object")
        }
        guard let event = nonEmpty(line.data.hookEventName) ?? nonEmpty(line.event) else {
            return malformed(bytes, reason: "no event name")
        }
        var record = HookRecord(
            event: event,
            taskID: line.task,
            raw: String(decoding: bytes, as: UTF8.self),
            appendedAt: line.ts
        )
        fill(&record, from: line.data)
        return record
    }

    // MARK: - Fields and summary

    private static func fill(_ record: inout HookRecord, from data: HookDataFields) {
        record.sessionID = data.sessionID
        record.transcriptPath = data.transcriptPath
        record.cwd = data.cwd
        record.toolName = data.toolName
        record.toolUseID = data.toolUseID
        let target = toolTarget(tool: record.toolName, members: data.toolInput)

        switch record.event {
        case HookEvent.preToolUse, HookEvent.postToolUse, HookEvent.permissionRequest:
            record.summary = target
        case HookEvent.postToolUseFailure:
            record.message = data.error
            let error = DisplayText.oneLine(record.message ?? "")
            record.summary = DisplayText.oneLine([target, error].filter { !$0.isEmpty }.joined(separator: ": "))
        case HookEvent.userPromptSubmit:
            record.prompt = data.prompt
            record.summary = DisplayText.oneLine(record.prompt ?? "")
        case HookEvent.stop:
            record.lastAssistantMessage = data.lastAssistantMessage
            record.summary = DisplayText.oneLine(record.lastAssistantMessage ?? "")
        case HookEvent.notification:
            record.notificationType = data.notificationType
            record.message = data.message
            record.summary = DisplayText.oneLine(record.message ?? record.notificationType ?? "")
        case HookEvent.stopFailure:
            record.errorType = data.error
            record.message = data.errorDetails
            record.lastAssistantMessage = data.lastAssistantMessage
            let parts = [record.errorType, record.message].compactMap { $0 }.filter { !$0.isEmpty }
            record.summary = DisplayText.oneLine(parts.joined(separator: ": "))
        case HookEvent.sessionStart:
            record.reason = data.source
            record.summary = DisplayText.oneLine(record.reason ?? "")
        case HookEvent.sessionEnd:
            record.reason = data.reason
            record.summary = DisplayText.oneLine(record.reason ?? "")
        case HookEvent.agentExit:
            record.exitCode = data.exitCode.flatMap { Int(exactly: $0) }
            record.summary = record.exitCode.map { "exit \($0)" } ?? "exit ?"
        default:
            record.summary = target
        }
    }

    /// The display target of a tool call from `tool_input`'s string members: Bash → command, file
    /// tools → path, search tools → pattern.
    static func toolTarget(tool: String?, members: [String: String]?) -> String {
        guard let members else { return "" }
        let keys: [String]
        switch tool {
        case "Bash": keys = ["command"]
        case "Edit", "MultiEdit", "Write", "Read": keys = ["file_path"]
        case "NotebookEdit", "NotebookRead": keys = ["notebook_path", "file_path"]
        case "Grep", "Glob": keys = ["pattern"]
        case "WebFetch": keys = ["url"]
        case "WebSearch": keys = ["query"]
        case "Task", "Agent": keys = ["description", "prompt"]
        default: keys = ["command", "file_path", "path", "pattern", "url", "query", "description", "prompt"]
        }
        for key in keys {
            let line = DisplayText.oneLine(members[key] ?? "")
            if !line.isEmpty { return line }
        }
        for key in members.keys.sorted() {
            let line = DisplayText.oneLine(members[key] ?? "")
            if !line.isEmpty { return line }
        }
        return ""
    }

    // MARK: - Malformed and truncated lines

    private static func malformed(_ bytes: [UInt8], reason: String) -> HookRecord {
        let kept = bytes.prefix(HookRecord.maxMalformedRawBytes)
        let raw = String(decoding: kept, as: UTF8.self)
        let preview = DisplayText.oneLine(raw, limit: 60)
        let summary = DisplayText.oneLine("\(reason) (\(bytes.count) bytes)" + (preview.isEmpty ? "" : ": " + preview))
        return HookRecord(event: HookEvent.malformed, summary: summary, raw: raw, malformedReason: reason)
    }

    /// Recovers what it can from the start of an oversized line.
    private static func salvage(_ bytes: [UInt8], fullLength: Int) -> HookRecord {
        let head = Array(bytes.prefix(4096))
        let event = nonEmpty(scalar(forKey: "hook_event_name", in: bytes).flatMap(decodedString))
            ?? nonEmpty(scalar(forKey: "event", in: head).flatMap(decodedString))
        guard let event else {
            var record = malformed(bytes, reason: "oversized line")
            record.isTruncated = true
            record.summary = DisplayText.oneLine("oversized line (\(fullLength) bytes)")
            return record
        }
        let kept = bytes.prefix(HookRecord.maxMalformedRawBytes)
        return HookRecord(
            event: event,
            taskID: scalar(forKey: "task", in: head).flatMap { Int64($0) },
            toolName: scalar(forKey: "tool_name", in: bytes).flatMap(decodedString),
            summary: "(oversized event: \(fullLength) bytes)",
            raw: String(decoding: kept, as: UTF8.self),
            appendedAt: scalar(forKey: "ts", in: head).flatMap { Double($0) },
            sessionID: scalar(forKey: "session_id", in: bytes).flatMap(decodedString),
            isTruncated: true
        )
    }

    /// The raw token after the first unescaped `"key":` in `bytes`: a whole JSON string literal
    /// (with its quotes) or a bare number/word. Nil when absent or cut off.
    static func scalar(forKey key: String, in bytes: [UInt8]) -> String? {
        let needle = Array("\"\(key)\"".utf8)
        guard needle.count <= bytes.count else { return nil }
        var start = 0
        while start + needle.count <= bytes.count {
            guard let found = firstIndex(of: needle, in: bytes, from: start) else { return nil }
            start = found + 1
            if found > 0 && bytes[found - 1] == UInt8(ascii: "\\") { continue }
            var index = skipSpaces(bytes, from: found + needle.count)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { continue }
            index = skipSpaces(bytes, from: index + 1)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") {
                var end = index + 1
                var escaped = false
                while end < bytes.count {
                    let byte = bytes[end]
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        return String(decoding: bytes[index...end], as: UTF8.self)
                    }
                    end += 1
                }
                return nil
            }
            var end = index
            while end < bytes.count, isBareTokenByte(bytes[end]) { end += 1 }
            guard end < bytes.count, end > index else { return nil }
            return String(decoding: bytes[index..<end], as: UTF8.self)
        }
        return nil
    }

    private static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == first && bytes[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func skipSpaces(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
            index += 1
        }
        return index
    }

    private static func isBareTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"):
            return true
        default:
            return false
        }
    }

    /// The value of a JSON string literal token (quotes included), nil when it is not one.
    private static func decodedString(_ token: String) -> String? {
        JSONValue.parse(Array(token.utf8))?.string
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    private static func taskID(_ value: JSONValue) -> Int64? {
        if let number = value.int64 { return number }
        if let text = value.string { return Int64(text) }
        return nil
    }
}

/// What a tool call is about, in one line: Bash → its command, file tools → the path, search tools
/// → the pattern (as event lines show it).
public enum ToolTarget {
    /// From the string members of the call's input.
    public static func of(tool: String?, input: [String: String]) -> String {
        HookRecordParser.toolTarget(tool: tool, members: input)
    }
}
