/// The members of a hook line's `data` that records use (see ``HookRecordParser``).
struct HookDataFields {
    var hookEventName, sessionID, transcriptPath, cwd, toolName, toolUseID: String?
    var error, prompt, lastAssistantMessage, notificationType, message, errorDetails, source, reason: String?
    var exitCode: Int64?
    /// The string members of `tool_input` (bulky file contents left out); nil when it is not an object.
    var toolInput: [String: String]?
}

/// What one pass over a hook line found: whether it is an object, and the fields records use.
struct HookLineFields {
    var isObject = false
    /// The outer `"task"`: a whole number, or a string of one.
    var task: Int64?
    /// The outer `"event"`, when a string.
    var event: String?
    /// The outer `"ts"`, when a number.
    var ts: Double?
    /// `data`'s fields (all nil when `data` is missing or not an object).
    var data = HookDataFields()
}

extension JSONParser {
    /// Reads a hook line in one pass without building a JSON tree: keys are compared as bytes,
    /// only the wanted values are decoded, everything else is validated and skipped. Nil unless
    /// `bytes` is exactly one valid JSON value. As in a parsed object, the last of repeated keys wins.
    static func scanHookLine(_ bytes: [UInt8]) -> HookLineFields? {
        var p = JSONParser(bytes)
        var fields = HookLineFields()
        p.skipSpaces()
        if p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") {
            fields.isObject = true
            guard p.scanOuter(&fields) else { return nil }
        } else {
            guard p.skipValue() else { return nil }
        }
        p.skipSpaces()
        return p.i == bytes.count ? fields : nil
    }

    /// A member name: a span of the input (no escapes) or its decoded bytes.
    struct Key {
        var start: Int
        var count: Int
        var decoded: [UInt8]?
    }

    enum MemberStep {
        case key(Key)
        case end
        case invalid
    }

    private mutating func scanOuter(_ f: inout HookLineFields) -> Bool {
        members { p, k in
            if p.matches(k, "task") {
                guard let v = p.value() else { return false }
                f.task = v.int64 ?? v.string.flatMap { Int64($0) }
                return true
            }
            if p.matches(k, "event") { return p.readString(&f.event) }
            if p.matches(k, "ts") {
                guard let v = p.value() else { return false }
                f.ts = v.double
                return true
            }
            if p.matches(k, "data") {
                f.data = HookDataFields()
                guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "{") else { return p.skipValue() }
                return p.scanData(&f.data)
            }
            return p.skipValue()
        }
    }

    private mutating func scanData(_ d: inout HookDataFields) -> Bool {
        members { p, k in
            switch k.count {
            case 3 where p.matches(k, "cwd"): return p.readString(&d.cwd)
            case 5 where p.matches(k, "error"): return p.readString(&d.error)
            case 6 where p.matches(k, "prompt"): return p.readString(&d.prompt)
            case 6 where p.matches(k, "source"): return p.readString(&d.source)
            case 6 where p.matches(k, "reason"): return p.readString(&d.reason)
            case 7 where p.matches(k, "message"): return p.readString(&d.message)
            case 9 where p.matches(k, "tool_name"): return p.readString(&d.toolName)
            case 9 where p.matches(k, "exit_code"):
                guard let v = p.value() else { return false }
                d.exitCode = v.int64
                return true
            case 10 where p.matches(k, "session_id"): return p.readString(&d.sessionID)
            case 10 where p.matches(k, "tool_input"):
                if p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "{") {
                    var members: [String: String] = [:]
                    defer { d.toolInput = members }
                    return p.scanToolInput(&members)
                }
                d.toolInput = nil
                return p.skipValue()
            case 11 where p.matches(k, "tool_use_id"): return p.readString(&d.toolUseID)
            case 13 where p.matches(k, "error_details"): return p.readString(&d.errorDetails)
            case 15 where p.matches(k, "hook_event_name"): return p.readString(&d.hookEventName)
            case 15 where p.matches(k, "transcript_path"): return p.readString(&d.transcriptPath)
            case 17 where p.matches(k, "notification_type"): return p.readString(&d.notificationType)
            case 22 where p.matches(k, "last_assistant_message"): return p.readString(&d.lastAssistantMessage)
            default: return p.skipValue()
            }
        }
    }

    /// `tool_input`'s string members, except file contents no summary uses.
    private mutating func scanToolInput(_ found: inout [String: String]) -> Bool {
        members { p, k in
            if p.matches(k, "content") || p.matches(k, "old_string") || p.matches(k, "new_string")
                || p.matches(k, "edits") || p.matches(k, "new_source") {
                return p.skipValue()
            }
            let name = p.keyText(k)
            var text: String?
            guard p.readString(&text) else { return false }
            found[name] = text
            return true
        }
    }

    // MARK: - Object members

    /// At `{`: calls `member` with each member's name, positioned at its value, which `member` must
    /// consume (false: invalid). True once the object closed.
    private mutating func members(_ member: (inout JSONParser, Key) -> Bool) -> Bool {
        guard openObject() else { return false }
        var first = true
        while true {
            switch nextMember(first: &first) {
            case .invalid: return false
            case .end: return true
            case .key(let k): guard member(&self, k) else { return false }
            }
        }
    }

    /// At `{`: enters the object (one level deeper).
    private mutating func openObject() -> Bool {
        depth += 1
        guard depth <= Self.maxDepth else { return false }
        i += 1
        return true
    }

    /// The next member's name, positioned at its value; `.end` after the closing `}` (one level up).
    private mutating func nextMember(first: inout Bool) -> MemberStep {
        skipSpaces()
        guard i < bytes.count else { return .invalid }
        if bytes[i] == UInt8(ascii: "}") {
            // `{}`, or the end after a member (a comma is consumed with the name after it, so
            // `{"a":1,}` fails below).
            i += 1
            depth -= 1
            return .end
        }
        if !first {
            guard bytes[i] == UInt8(ascii: ",") else { return .invalid }
            i += 1
            skipSpaces()
        }
        first = false
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return .invalid }
        // Fast path: a name without escapes is compared in place.
        var end = i + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
            end += 1
        }
        let key: Key
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            key = Key(start: i + 1, count: end - i - 1, decoded: nil)
            i = end + 1
        } else {
            guard let text = string() else { return .invalid }
            let decoded = Array(text.utf8)
            key = Key(start: 0, count: decoded.count, decoded: decoded)
        }
        skipSpaces()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return .invalid }
        i += 1
        skipSpaces()
        return .key(key)
    }

    private func matches(_ key: Key, _ name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { n in
            if let d = key.decoded { return d.elementsEqual(n) }
            for j in 0..<key.count where bytes[key.start + j] != n[j] { return false }
            return true
        }
    }

    private func keyText(_ key: Key) -> String {
        if let d = key.decoded { return String(decoding: d, as: UTF8.self) }
        return String(decoding: bytes[key.start..<(key.start + key.count)], as: UTF8.self)
    }

    /// A string value into `target` (nil when the value is another type); false when invalid.
    private mutating func readString(_ target: inout String?) -> Bool {
        guard i < bytes.count else { return false }
        if bytes[i] == UInt8(ascii: "\"") {
            guard let s = string() else { return false }
            target = s
            return true
        }
        target = nil
        return skipValue()
    }
}
