import Foundation
import GRDB

/// The full-text index (FTS5): what is indexed and how a query is read.
public enum SearchIndex {
    /// Hook events whose summary is indexed: tool calls (commands, file paths) once each, prompts
    /// typed, the agent's last message of a turn, and errors.
    public static let indexedEvents = "('PreToolUse','UserPromptSubmit','Stop','StopFailure','PostToolUseFailure')"

    /// Marks put around matched words in snippets (replaced by colour or brackets when shown).
    public static let open = "\u{1}"
    public static let close = "\u{2}"
}

/// One search hit: a task (its title or prompt) or one of its hook events.
public struct SearchHit: Sendable {
    public enum Kind: String, Sendable { case task, event }
    public var kind: Kind
    public var taskID: Int64?
    /// The event's id (nil for a task hit).
    public var eventID: Int64?
    /// The event's name, or `title`/`prompt`.
    public var field: String
    public var at: Double
    /// The matching text, with ``SearchIndex/open`` and ``SearchIndex/close`` around matched words.
    public var snippet: String
    /// bm25: lower is better.
    public var rank: Double
}

extension TaskStore {
    /// Searches task titles and prompts and indexed hook events for an FTS5 query, best first.
    /// A malformed query is a usage error. Plain words that FTS5 cannot read as a query (`npm-test`,
    /// `a.b`) are searched as phrases.
    public func search(_ query: String, taskID: Int64? = nil, limit: Int = 50) throws -> [SearchHit] {
        if query.filter({ $0 == "\"" }).count % 2 == 1 {
            throw TaskError.usage("the search has an unbalanced quote (\"); close it, or drop it")
        }
        try write { db in try Self.indexEvents(db) }
        do {
            return try runSearch(query, taskID: taskID, limit: limit)
        } catch let e as DatabaseError where Self.isQueryError(e) {
            if !query.contains("\"") {
                let quoted = query.split(whereSeparator: { $0.isWhitespace }).map { "\"\($0)\"" }.joined(separator: " ")
                if let hits = try? runSearch(quoted, taskID: taskID, limit: limit) { return hits }
            }
            throw TaskError.usage("not a search query: \(e.message ?? "syntax error") (words, \"a phrase\", AND, OR, NOT, prefix*)")
        }
    }

    /// Indexes, in one statement, the events stored since the last search (the store keeps the
    /// index in step this way rather than a row at a time while ingesting, which cost 5×).
    static func indexEvents(_ db: Database) throws {
        let from = try Int64.fetchOne(db, sql: "SELECT indexed_to FROM search_state WHERE name = 'events'") ?? 0
        guard let to = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM hook_events"), to > from else { return }
        try db.execute(
            sql: """
                INSERT INTO event_search(rowid, summary) SELECT id, summary FROM hook_events
                WHERE id > ? AND id <= ? AND event IN \(SearchIndex.indexedEvents) AND summary <> ''
                """,
            arguments: [from, to])
        try db.execute(sql: "UPDATE search_state SET indexed_to = ? WHERE name = 'events'", arguments: [to])
    }

    /// Takes one task's indexed events out of the index (before they are deleted).
    static func unindexEvents(_ db: Database, taskID: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO event_search(event_search, rowid, summary)
                SELECT 'delete', id, summary FROM hook_events
                WHERE task_id = ? AND id <= (SELECT indexed_to FROM search_state WHERE name = 'events')
                    AND event IN \(SearchIndex.indexedEvents) AND summary <> ''
                """,
            arguments: [taskID])
    }

    /// Empties the event index (after events were deleted): the next search indexes what is left.
    static func resetEventIndex(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO event_search(event_search) VALUES ('delete-all')")
        try db.execute(sql: "UPDATE search_state SET indexed_to = 0 WHERE name = 'events'")
    }

    static func isQueryError(_ e: DatabaseError) -> Bool {
        let m = e.message ?? ""
        return m.contains("fts5") || m.contains("syntax error") || m.contains("no such column") || m.contains("unterminated")
    }

    /// How many of the newest matching events are ranked (bm25) to pick the best.
    static let rankWindow = 2000

    private func runSearch(_ query: String, taskID: Int64?, limit: Int) throws -> [SearchHit] {
        guard !query.trimmingCharacters(in: .whitespaces).isEmpty else { throw TaskError.usage("search needs words") }
        do {
            return try pool.read { db in
                var hits: [SearchHit] = []
                let o = SearchIndex.open, c = SearchIndex.close
                // Tasks: few, searched whole.
                var sql = """
                    SELECT t.id, t.created_at, snippet(task_search, -1, ?, ?, '…', 12), bm25(task_search),
                        highlight(task_search, 0, ?, ?) LIKE ? FROM task_search JOIN tasks t ON t.id = task_search.rowid
                    WHERE task_search MATCH ?
                    """
                var args: [any DatabaseValueConvertible] = [o, c, o, c, "%" + o + "%", query]
                if let taskID {
                    sql += " AND t.id = ?"
                    args.append(taskID)
                }
                sql += " ORDER BY rank LIMIT ?"
                args.append(limit)
                for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                    let inTitle: Bool = row[4]
                    hits.append(SearchHit(
                        kind: .task, taskID: row[0], eventID: nil, field: inTitle ? "title" : "prompt", at: row[1],
                        snippet: row[2], rank: row[3]))
                }
                // Events: the best `limit` straight from the index (its ORDER BY rank LIMIT path),
                // then their rows by id.
                if let taskID {
                    sql = """
                        SELECT e.id, e.task_id, e.event, e.received_at, snippet(event_search, 0, ?, ?, '…', 12), bm25(event_search)
                        FROM hook_events e JOIN event_search ON event_search.rowid = e.id
                        WHERE e.task_id = ? AND event_search MATCH ? ORDER BY bm25(event_search) LIMIT ?
                        """
                    args = [o, c, taskID, query, limit]
                } else {
                    // A common word matches a large part of a million events, and ranking computes
                    // bm25 for every match: only the newest `rankWindow` matches are ranked (found
                    // newest first from the index without ranking, then a rowid range).
                    let floor = try Int64.fetchOne(
                        db, sql: "SELECT rowid FROM event_search WHERE event_search MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                        arguments: [query, Self.rankWindow - 1]) ?? 0
                    sql = """
                        SELECT e.id, e.task_id, e.event, e.received_at, s.snip, s.rank FROM
                            (SELECT rowid AS id, snippet(event_search, 0, ?, ?, '…', 12) AS snip, rank
                             FROM event_search WHERE event_search MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?) s
                        JOIN hook_events e ON e.id = s.id ORDER BY s.rank
                        """
                    args = [o, c, query, floor, limit]
                }
                for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                    hits.append(SearchHit(
                        kind: .event, taskID: row[1], eventID: row[0], field: row[2], at: row[3] ?? 0, snippet: row[4], rank: row[5]))
                }
                hits.sort { $0.rank < $1.rank }
                return Array(hits.prefix(limit))
            }
        }
    }
}
