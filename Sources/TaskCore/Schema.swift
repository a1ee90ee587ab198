import GRDB

/// The database schema as an ordered list of named migrations. Each runs once, in a
/// transaction; `grdb_migrations` records which ran. Never edit a shipped migration: add one.
public enum Schema {
    /// Names of the migrations, oldest first.
    public static var versions: [String] { migrator.migrations }

    /// Applies the migrations `pool` lacks, up to and including `target` (all of them when nil).
    static func migrate(_ pool: DatabasePool, upTo target: String?) throws {
        if let target { try migrator.migrate(pool, upTo: target) } else { try migrator.migrate(pool) }
    }

    public static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-tasks") { db in
            try db.execute(sql: """
                CREATE TABLE projects (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    path TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE TABLE tasks (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    title TEXT NOT NULL,
                    prompt TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL DEFAULT 'backlog'
                        CHECK (status IN ('backlog','queued','processing','blocked','done','failed','cancelled')),
                    status_detail TEXT,
                    project_id INTEGER REFERENCES projects(id) ON DELETE RESTRICT,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL
                );
                CREATE INDEX tasks_by_status ON tasks(status);
                CREATE INDEX tasks_by_project ON tasks(project_id);
                CREATE TABLE task_logs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE INDEX task_logs_by_task ON task_logs(task_id, id);
                CREATE TABLE history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    line TEXT NOT NULL,
                    exit_status INTEGER,
                    created_at REAL NOT NULL
                );
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v2-runs-and-hook-events") { db in
            try db.execute(sql: """
                ALTER TABLE tasks ADD COLUMN sandbox TEXT;
                ALTER TABLE tasks ADD COLUMN worktree_path TEXT;
                ALTER TABLE tasks ADD COLUMN branch TEXT;
                ALTER TABLE tasks ADD COLUMN session_id TEXT;
                ALTER TABLE tasks ADD COLUMN pane_id TEXT;
                ALTER TABLE tasks ADD COLUMN exit_code INTEGER;
                ALTER TABLE tasks ADD COLUMN permission_mode TEXT;
                CREATE TABLE hook_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    task_id INTEGER,
                    event TEXT NOT NULL,
                    tool_name TEXT,
                    summary TEXT NOT NULL DEFAULT '',
                    raw_json TEXT NOT NULL,
                    source TEXT NOT NULL,
                    source_offset INTEGER NOT NULL,
                    appended_at REAL,
                    received_at REAL NOT NULL,
                    UNIQUE (source, source_offset)
                );
                CREATE INDEX hook_events_by_task ON hook_events(task_id, id);
                CREATE TABLE hook_sources (
                    source TEXT PRIMARY KEY,
                    byte_offset INTEGER NOT NULL DEFAULT 0,
                    updated_at REAL NOT NULL
                );
                """)
        }
        m.registerMigration("v3-pull-when-done") { db in
            // `run --pull`: bring the task's branch back from its sandbox once it ends.
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN pull_when_done INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v4-status-changes") { db in
            // Every status change is one `status` row of task_logs with the new status, its detail
            // and who caused it (agent, user, system), so every shell can show every change from
            // the store, whichever process made it. The partial index keeps "changes after id N"
            // one range scan.
            try db.execute(sql: """
                ALTER TABLE task_logs ADD COLUMN status TEXT;
                ALTER TABLE task_logs ADD COLUMN detail TEXT;
                ALTER TABLE task_logs ADD COLUMN cause TEXT;
                CREATE INDEX task_logs_status_changes ON task_logs(id) WHERE kind = 'status';
                """)
        }
        m.registerMigration("v5-hook-log-generations") { db in
            // A hook log is rotated once everything in it is stored: the file that takes its
            // place is a new generation of the source, read from its first byte, its events
            // stored under `<source>#<generation>` (offsets restart, so (source, offset) stays
            // unique). `file_id` (`dev:inode`) tells a rotated or replaced file from the same one;
            // `rotated_id` names the file task itself rotated away (its successor is no surprise).
            try db.execute(sql: """
                ALTER TABLE hook_sources ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE hook_sources ADD COLUMN file_id TEXT;
                ALTER TABLE hook_sources ADD COLUMN rotated_id TEXT;
                """)
        }
        m.registerMigration("v6-usage") { db in
            // Token usage read from each task's transcript(s): one row per API message, keyed by
            // `message.id` + `requestId` (a message split over several lines counts once), with its
            // cost at the prices of the time; and per transcript file the offset read up to.
            try db.execute(sql: """
                CREATE TABLE usage_messages (
                    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    model TEXT NOT NULL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    cache_creation_input_tokens INTEGER NOT NULL,
                    cache_read_input_tokens INTEGER NOT NULL,
                    cost_usd REAL NOT NULL DEFAULT 0,
                    at REAL,
                    PRIMARY KEY (task_id, key)
                ) WITHOUT ROWID;
                CREATE TABLE usage_sources (
                    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    byte_offset INTEGER NOT NULL DEFAULT 0,
                    skipped_lines INTEGER NOT NULL DEFAULT 0,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (task_id, path)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v7-search") { db in
            // Full-text search (FTS5) over task titles and prompts and over the hook events worth
            // finding (commands and file paths, prompts typed, the agent's messages, errors).
            // External-content tables: the text stays in tasks and hook_events, the index holds
            // only terms; triggers keep it in step in the writing transaction.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE task_search USING fts5(title, prompt, content='tasks', content_rowid='id');
                CREATE TRIGGER task_search_insert AFTER INSERT ON tasks BEGIN
                    INSERT INTO task_search(rowid, title, prompt) VALUES (new.id, new.title, new.prompt);
                END;
                CREATE TRIGGER task_search_delete AFTER DELETE ON tasks BEGIN
                    INSERT INTO task_search(task_search, rowid, title, prompt) VALUES ('delete', old.id, old.title, old.prompt);
                END;
                CREATE TRIGGER task_search_update AFTER UPDATE OF title, prompt ON tasks BEGIN
                    INSERT INTO task_search(task_search, rowid, title, prompt) VALUES ('delete', old.id, old.title, old.prompt);
                    INSERT INTO task_search(rowid, title, prompt) VALUES (new.id, new.title, new.prompt);
                END;
                INSERT INTO task_search(task_search) VALUES ('rebuild');
                CREATE VIRTUAL TABLE event_search USING fts5(summary, content='hook_events', content_rowid='id');
                CREATE TRIGGER event_search_insert AFTER INSERT ON hook_events
                WHEN new.event IN \(SearchIndex.indexedEvents) AND new.summary <> '' BEGIN
                    INSERT INTO event_search(rowid, summary) VALUES (new.id, new.summary);
                END;
                CREATE TRIGGER event_search_delete AFTER DELETE ON hook_events
                WHEN old.event IN \(SearchIndex.indexedEvents) AND old.summary <> '' BEGIN
                    INSERT INTO event_search(event_search, rowid, summary) VALUES ('delete', old.id, old.summary);
                END;
                INSERT INTO event_search(rowid, summary)
                    SELECT id, summary FROM hook_events WHERE event IN \(SearchIndex.indexedEvents) AND summary <> '';
                """)
        }
        m.registerMigration("v8-search-in-bulk") { db in
            // Indexing each event as it is stored (a trigger, one FTS5 insert a row) made ingestion
            // five times slower (200 000 lines: 2.0 s → 10.0 s). Events are indexed in bulk instead,
            // past the last indexed id, before a search reads the index (SearchIndex.catchUp):
            // 200 000 at once take 0.46 s. Prune empties the event index and it is rebuilt the same way.
            try db.execute(sql: """
                DROP TRIGGER event_search_insert;
                DROP TRIGGER event_search_delete;
                CREATE TABLE search_state (name TEXT PRIMARY KEY, indexed_to INTEGER NOT NULL);
                INSERT INTO search_state (name, indexed_to) VALUES ('events', COALESCE((SELECT MAX(id) FROM hook_events), 0));
                """)
        }
        m.registerMigration("v9-watchdog-indexes") { db in
            // Every command looks for agents quiet since their launch and for launches cut short;
            // over 100 000 tasks those scans took 50 ms a command. These partial indexes hold only
            // the few tasks with a pane, or starting.
            try db.execute(sql: """
                CREATE INDEX tasks_with_panes ON tasks(started_at) WHERE pane_id IS NOT NULL;
                CREATE INDEX tasks_starting ON tasks(updated_at) WHERE status_detail = 'starting';
                """)
        }
        m.registerMigration("v10-events-without-second-key") { db in
            // Bounded disk: hook_events loses UNIQUE(source, source_offset), an index as large as
            // 4 % of the hook lines. A line is stored once because its offset moves in the same
            // write transaction that stores it (TaskStore.ingest skips what lies below the stored
            // offset); the index only said so twice. New rows also keep a line of the hook
            // script's shape without the task and event their columns hold (StoredLine), and
            // derive `appended_at` from it. Ids are kept, and the id sequence with them.
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'hook_events'") ?? 0
            try db.execute(sql: """
                CREATE TABLE hook_events_v10 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    task_id INTEGER,
                    event TEXT NOT NULL,
                    tool_name TEXT,
                    summary TEXT NOT NULL DEFAULT '',
                    raw_json TEXT NOT NULL,
                    source TEXT NOT NULL,
                    source_offset INTEGER NOT NULL,
                    appended_at REAL,
                    received_at REAL NOT NULL
                );
                INSERT INTO hook_events_v10
                    SELECT id, task_id, event, tool_name, summary, raw_json, source, source_offset, appended_at, received_at
                    FROM hook_events ORDER BY id;
                DROP TABLE hook_events;
                ALTER TABLE hook_events_v10 RENAME TO hook_events;
                CREATE INDEX hook_events_by_task ON hook_events(task_id, id);
                -- Each event's hook line as the hook script wrote it (for sqlite3 users; see StoredLine).
                CREATE VIEW hook_event_lines AS
                    SELECT *, CASE unicode(raw_json)
                        WHEN 1 THEN '{"task":' || task_id || ',"event":"' || event || '","ts":'
                            || substr(raw_json, 2, instr(raw_json, ',') - 2) || ',"data":' || substr(raw_json, instr(raw_json, ',') + 1) || '}'
                        WHEN 2 THEN substr(raw_json, 2)
                        ELSE raw_json END AS line
                    FROM hook_events;
                """)
            try db.execute(
                sql: "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'hook_events'", arguments: [sequence])
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'hook_events'") == 0, sequence > 0 {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('hook_events', ?)", arguments: [sequence])
            }
        }
        m.registerMigration("v11-task-start-commit-and-wait") { db in
            // `rewind`: the commit a task's branch started from (its first launch's). A queued
            // task waiting for a sprite (the account's limit reached) is not tried before `not_before`.
            try db.execute(sql: """
                ALTER TABLE tasks ADD COLUMN start_commit TEXT;
                ALTER TABLE tasks ADD COLUMN not_before REAL;
                """)
        }
        m.registerMigration("v12-task-site") { db in
            // The pool of sprites: which site a task runs on (`local`, or its sprite's name). Tasks
            // that ran on the one sprite before get the sprite named then.
            try db.execute(sql: """
                ALTER TABLE tasks ADD COLUMN site TEXT;
                UPDATE tasks SET site = 'local' WHERE sandbox = 'local';
                UPDATE tasks SET site = COALESCE((SELECT value FROM settings WHERE key = 'sprite.name'), 'task-sandbox')
                    WHERE sandbox = 'sprite';
                CREATE INDEX tasks_site_active ON tasks(site) WHERE status IN ('queued','processing','blocked');
                """)
        }
        m.registerMigration("v13-database-id") { db in
            // An id of this database, which a sprite it launches on records: a sprite serves one
            // database, so two (two machines, a data folder made anew) never mix their tasks there.
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(8))));
                """)
        }
        return m
    }
}
