import Foundation
import GRDB

/// One API message of an agent's transcript, as counted: its identity (`message.id` +
/// `requestId`), model and token counts.
public struct UsageMessage: Sendable, Equatable {
    public var key: String
    public var model: String
    public var input: Int64
    public var output: Int64
    public var cacheCreation: Int64
    public var cacheRead: Int64
    public var at: Double?

    public init(key: String, model: String, input: Int64, output: Int64, cacheCreation: Int64, cacheRead: Int64, at: Double?) {
        self.key = key
        self.model = model
        self.input = input
        self.output = output
        self.cacheCreation = cacheCreation
        self.cacheRead = cacheRead
        self.at = at
    }
}

/// Token counts and cost, of one model or summed.
public struct UsageTotals: Sendable, Equatable {
    public var input: Int64 = 0
    public var output: Int64 = 0
    public var cacheCreation: Int64 = 0
    public var cacheRead: Int64 = 0
    public var cost: Double = 0
    public var messages: Int = 0

    public init() {}

    public mutating func add(_ o: UsageTotals) {
        input += o.input
        output += o.output
        cacheCreation += o.cacheCreation
        cacheRead += o.cacheRead
        cost += o.cost
        messages += o.messages
    }
}

/// A task's usage: per model, the sum, models without a price, and transcript lines skipped.
public struct TaskUsage: Sendable {
    public var taskID: Int64
    public var title: String
    public var byModel: [(model: String, totals: UsageTotals)]
    public var total: UsageTotals
    public var unpriced: [String]
    public var skippedLines: Int
}

extension TaskStore {
    /// How far each transcript file of a task has been read.
    public func usageOffsets(taskID: Int64) throws -> [String: Int64] {
        try read { db in
            var result: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT path, byte_offset FROM usage_sources WHERE task_id = ?", arguments: [taskID]) {
                result[row[0]] = row[1]
            }
            return result
        }
    }

    /// Stores messages read from `path` up to `newOffset` in one transaction: each message once
    /// (a key seen before is ignored, so lines read twice or repeated in the file count once), the
    /// offset only forward. Costs are priced with `prices`.
    public func recordUsage(taskID: Int64, path: String, newOffset: Int64, messages: [UsageMessage], skipped: Int, prices: PriceTable) throws {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tasks WHERE id = ?", arguments: [taskID]) == true else { return }
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO usage_messages
                    (task_id, key, model, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for m in messages {
                let cost = prices.price(of: m.model)?.cost(input: m.input, output: m.output, cacheWrite: m.cacheCreation, cacheRead: m.cacheRead) ?? 0
                try insert.execute(arguments: [taskID, m.key, m.model, m.input, m.output, m.cacheCreation, m.cacheRead, cost, m.at])
            }
            try db.execute(
                sql: """
                    INSERT INTO usage_sources (task_id, path, byte_offset, skipped_lines, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(task_id, path) DO UPDATE SET
                        skipped_lines = skipped_lines + CASE WHEN excluded.byte_offset > byte_offset THEN excluded.skipped_lines ELSE 0 END,
                        byte_offset = MAX(byte_offset, excluded.byte_offset), updated_at = excluded.updated_at
                    """,
                arguments: [taskID, path, newOffset, skipped, now()])
        }
    }

    /// Prices a task's stored messages again with `prices` (a changed prices.json applies to what was read before).
    public func repriceUsage(taskID: Int64?, prices: PriceTable) throws {
        try write { db in
            let models = try String.fetchAll(
                db, sql: "SELECT DISTINCT model FROM usage_messages" + (taskID == nil ? "" : " WHERE task_id = ?"),
                arguments: taskID.map { [$0] } ?? [])
            for model in models {
                let p = prices.price(of: model) ?? ModelPrice(input: 0, output: 0, cacheWrite: 0, cacheRead: 0)
                try db.execute(
                    sql: """
                        UPDATE usage_messages SET cost_usd = (input_tokens * ? + output_tokens * ? + cache_creation_input_tokens * ?
                            + cache_read_input_tokens * ?) / 1000000.0
                        WHERE model = ?
                        """ + (taskID == nil ? "" : " AND task_id = ?"),
                    arguments: [p.input, p.output, p.cacheWrite, p.cacheRead, model] + (taskID.map { [$0] } ?? []))
            }
        }
    }

    /// The cost of a task's messages so far (0 without any).
    public func taskCost(id: Int64) throws -> Double {
        try read { db in
            try Double.fetchOne(db, sql: "SELECT TOTAL(cost_usd) FROM usage_messages WHERE task_id = ?", arguments: [id]) ?? 0
        }
    }

    /// Usage of one task, or of every task that has any (`since`: only messages from then on), by task id.
    public func usage(taskID: Int64?, since: Double?, prices: PriceTable) throws -> [TaskUsage] {
        try read { db in
            var sql = """
                SELECT u.task_id, t.title, u.model, SUM(u.input_tokens), SUM(u.output_tokens),
                    SUM(u.cache_creation_input_tokens), SUM(u.cache_read_input_tokens), TOTAL(u.cost_usd), COUNT(*)
                FROM usage_messages u JOIN tasks t ON t.id = u.task_id WHERE 1
                """
            var args: [any DatabaseValueConvertible] = []
            if let taskID {
                sql += " AND u.task_id = ?"
                args.append(taskID)
            }
            if let since {
                sql += " AND u.at >= ?"
                args.append(since)
            }
            sql += " GROUP BY u.task_id, u.model ORDER BY u.task_id, u.model"
            var result: [TaskUsage] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                let id: Int64 = row[0]
                var totals = UsageTotals()
                totals.input = row[3]
                totals.output = row[4]
                totals.cacheCreation = row[5]
                totals.cacheRead = row[6]
                totals.cost = row[7]
                totals.messages = row[8]
                let model: String = row[2]
                if result.last?.taskID != id {
                    result.append(TaskUsage(taskID: id, title: row[1], byModel: [], total: UsageTotals(), unpriced: [], skippedLines: 0))
                }
                result[result.count - 1].byModel.append((model, totals))
                result[result.count - 1].total.add(totals)
                if prices.price(of: model) == nil && totals.input + totals.output + totals.cacheCreation + totals.cacheRead > 0 {
                    result[result.count - 1].unpriced.append(model)
                }
            }
            for k in result.indices {
                result[k].skippedLines = Int(try Double.fetchOne(
                    db, sql: "SELECT TOTAL(skipped_lines) FROM usage_sources WHERE task_id = ?", arguments: [result[k].taskID]) ?? 0)
            }
            if let taskID, result.isEmpty {
                let title = try String.fetchOne(db, sql: "SELECT title FROM tasks WHERE id = ?", arguments: [taskID])
                guard let title else { throw TaskError.failed("no task #\(taskID)") }
                let skipped = try Double.fetchOne(
                    db, sql: "SELECT TOTAL(skipped_lines) FROM usage_sources WHERE task_id = ?", arguments: [taskID]) ?? 0
                result.append(TaskUsage(taskID: taskID, title: title, byModel: [], total: UsageTotals(), unpriced: [], skippedLines: Int(skipped)))
            }
            return result
        }
    }

    /// Each task's cost so far, for the tasks that have usage (one aggregate query; `list` looks
    /// rows up in it rather than summing per row).
    public func taskCosts() throws -> [Int64: Double] {
        try read { db in
            var costs: [Int64: Double] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT task_id, TOTAL(cost_usd) FROM usage_messages GROUP BY task_id")
            while let row = try rows.next() { costs[row[0]] = row[1] }
            return costs
        }
    }
}
