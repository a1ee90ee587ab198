import Foundation
import Sandbox
import TaskCore

/// Reads token usage from an agent's transcript lines (Claude Code JSONL, spec §8): one
/// ``UsageMessage`` per API message. A message split over several lines (one per content block)
/// repeats its `message.id`, `requestId` and `usage`: it is keyed by both, so it counts once.
public enum TranscriptUsage {
    /// The messages of `lines` (in order, first line of each message kept) and how many lines were not JSON.
    public static func messages(_ lines: [Data]) -> (messages: [UsageMessage], skipped: Int) {
        var out: [UsageMessage] = []
        var seen = Set<String>()
        var skipped = 0
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        for line in lines {
            guard let record = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
                skipped += 1
                continue
            }
            guard record["type"] as? String == "assistant",
                  let message = record["message"] as? [String: Any],
                  let id = message["id"] as? String, !id.isEmpty,
                  let usage = message["usage"] as? [String: Any]
            else { continue }
            func count(_ key: String) -> Int64 { (usage[key] as? NSNumber)?.int64Value ?? 0 }
            let m = UsageMessage(
                key: (record["requestId"] as? String).map { id + "/" + $0 } ?? id,
                model: message["model"] as? String ?? "unknown",
                input: count("input_tokens"), output: count("output_tokens"),
                cacheCreation: count("cache_creation_input_tokens"), cacheRead: count("cache_read_input_tokens"),
                at: (record["timestamp"] as? String).flatMap { (iso.date(from: $0) ?? plain.date(from: $0))?.timeIntervalSince1970 })
            // A line without requestId that carries no tokens (a synthetic API-error line) counts nothing.
            if record["requestId"] == nil && m.input + m.output + m.cacheCreation + m.cacheRead == 0 { continue }
            guard seen.insert(m.key).inserted else { continue }
            out.append(m)
        }
        return (out, skipped)
    }
}

/// A dollar amount as people read it: `$1.23`, `$0.0042` below a cent.
public enum Dollars {
    public static func format(_ v: Double) -> String {
        if v == 0 { return "$0.00" }
        if v < 0.01 { return "$" + String(format: "%.4f", v) }
        return "$" + String(format: "%.2f", v)
    }
}

extension TaskRunner {
    /// The price table: built in, with `$TASK_HOME/prices.json` over it. A malformed file is
    /// given to `report` once per process (with its path) and the built-in table is used.
    public func prices(report: (String) -> Void = { _ in }) -> PriceTable {
        let (table, problem) = PriceTable.current(home: paths.home)
        if let problem { report(problem) }
        return table
    }

    /// Reads what the task's transcripts (the one its hooks reported, and subagent transcripts in
    /// `<session>/subagents/` beside it) hold past the offsets stored for them, where the task ran,
    /// and stores each API message once. Cheap when nothing is new (one read per file).
    public func updateUsage(taskID: Int64, report: (String) -> Void = { _ in }) async throws {
        let prices = prices(report: report)
        let task = try store.task(id: taskID)
        guard let main = try store.transcriptPath(taskID: taskID) else { return }
        // What was read before is priced as prices.json says now.
        try store.repriceUsage(taskID: taskID, prices: prices)
        let site = try await site(for: task)
        var offsets = try store.usageOffsets(taskID: taskID)
        var files = [main]
        files += await subagentTranscripts(of: main, site: site)
        for path in offsets.keys where !files.contains(path) { files.append(path) }
        for path in files {
            var offset = offsets[path] ?? 0
            while true {
                let data: Data?
                do {
                    data = try await site.sandbox.bytes(of: path, from: offset, limit: Self.transcriptChunk)
                } catch let e as SandboxError {
                    throw TaskError.failed("cannot read \(path): \(e)")
                }
                guard let data, !data.isEmpty else { break }
                let chunk = ChunkLines(data, limit: Self.transcriptChunk)
                let consumed = chunk.consumed
                guard consumed > 0 else { break }
                let (messages, skipped) = TranscriptUsage.messages(chunk.lines)
                try store.recordUsage(
                    taskID: taskID, path: path, newOffset: offset + consumed, messages: messages,
                    skipped: skipped + (chunk.skippedOverlong ? 1 : 0), prices: prices)
                offset += consumed
                offsets[path] = offset
                if !chunk.more { break }
            }
        }
    }

    /// Subagent transcripts kept beside a session's transcript (`<dir>/<session>/subagents/*.jsonl`).
    func subagentTranscripts(of path: String, site: any Site) async -> [String] {
        guard path.hasSuffix(".jsonl") else { return [] }
        let dir = String(path.dropLast(6)) + "/subagents"
        let script = #"for f in "$1"/*.jsonl; do [ -f "$f" ] && printf '%s\n' "$f"; done; exit 0"#
        guard let r = try? await site.sandbox.probe(["sh", "-c", script, "sh", dir]), r.status == 0 else { return [] }
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    /// The `max_cost_usd` setting in dollars (0: no limit).
    public var maxCost: Double { Double(setting("max_cost_usd")) ?? 0 }

    /// Blocks a running task whose cost has passed `max_cost_usd` (compared with the setting as it
    /// is now, so raising it lets the task go on): presses Escape in its pane (an interrupt, if a
    /// turn is under way) and blocks it with "budget reached ($x of $y)". Returns whether it did.
    @discardableResult
    public func enforceBudget(taskID: Int64) async -> Bool {
        let limit = maxCost
        guard limit > 0, let cost = try? store.taskCost(id: taskID), cost > limit,
              let task = try? store.task(id: taskID), task.status == .processing || task.status == .blocked,
              BlockReason(detail: task.statusDetail) != .budget
        else { return false }
        try? await keys(taskID: taskID, keys: ["Escape"])
        let detail = "budget reached (\(Dollars.format(cost)) of \(Dollars.format(limit)))"
        guard let now = try? store.task(id: taskID), now.status.isActive else { return false }
        return (try? store.setStatus(id: taskID, .blocked, detail: detail, cause: .system)) != nil
    }
}
