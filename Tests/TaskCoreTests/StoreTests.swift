import Foundation
import Testing

@testable import TaskCore

func temporaryFolder(_ name: String = #function) -> String {
    let dir = NSTemporaryDirectory() + "task-tests-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("Store")
struct StoreTests {
    @Test func migratesAnEmptyDatabaseToTheLatestSchema() throws {
        let db = temporaryFolder() + "/t.db"
        let store = try TaskStore(path: db)
        #expect(try store.appliedMigrations() == Schema.versions)
        #expect(Schema.versions.count >= 2)
    }

    @Test(arguments: Schema.versions.dropLast())
    func migratesFromEachEarlierVersionKeepingData(version: String) throws {
        let db = temporaryFolder() + "/t.db"
        do {
            let old = try TaskStore(path: db, migrateUpTo: version)
            #expect(try old.appliedMigrations().last == version)
            // Write through the oldest columns only, as an old build would have.
            try old.write { db in
                try db.execute(
                    sql: "INSERT INTO tasks (title, prompt, status, created_at, updated_at) VALUES ('old', 'p', 'blocked', 1, 2)")
                try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('agent', 'my-agent')")
            }
        }
        let store = try TaskStore(path: db)
        #expect(try store.appliedMigrations() == Schema.versions)
        let t = try store.task(id: 1)
        #expect(t.title == "old" && t.status == .blocked && t.createdAt == 1)
        #expect(try store.setting("agent") == "my-agent")
        #expect(try store.hookEventCount() == 0)
    }

    @Test func reopenKeepsEverything() throws {
        let db = temporaryFolder() + "/t.db"
        let p = temporaryFolder()
        do {
            let s = try TaskStore(path: db)
            _ = try s.addProject(name: "web", path: p)
            _ = try s.createTask(title: "One", prompt: "line 1\nline 2 'quoted' \"double\"", projectName: "web")
            try s.appendHistory("list", exitStatus: 0)
        }
        let s = try TaskStore(path: db)
        let t = try s.task(id: 1)
        #expect(t.prompt == "line 1\nline 2 'quoted' \"double\"")
        #expect(t.projectName == "web")
        #expect(try s.history(limit: 10).map(\.line) == ["list"])
    }

    @Test func twoConnectionsWriteAtOnceWithoutLockErrors() async throws {
        let db = temporaryFolder() + "/t.db"
        let a = try TaskStore(path: db)
        let b = try TaskStore(path: db)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [a, b] {
                group.addTask {
                    for i in 0..<200 {
                        _ = try store.createTask(title: "t\(i)", prompt: "", projectName: nil)
                        _ = try store.listTasks(TaskFilter(limit: 5))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try a.listTasks(TaskFilter(includeFinished: true)).count == 400)
    }

    @Test func listHidesFinishedTasksUnlessAsked() throws {
        let s = try TaskStore(path: temporaryFolder() + "/t.db")
        for title in ["a", "b", "c", "d"] { _ = try s.createTask(title: title, prompt: "", projectName: nil) }
        try s.setStatus(id: 2, .done)
        try s.setStatus(id: 3, .cancelled)
        try s.setStatus(id: 4, .processing)
        #expect(try s.listTasks().map(\.id) == [1, 4])
        #expect(try s.listTasks(TaskFilter(includeFinished: true)).count == 4)
        #expect(try s.listTasks(TaskFilter(status: .done)).map(\.id) == [2])
        let started = try s.task(id: 4)
        #expect(started.startedAt != nil && started.finishedAt == nil)
        #expect(try s.task(id: 2).finishedAt != nil)
    }

    @Test func titlesAreValidated() throws {
        let s = try TaskStore(path: temporaryFolder() + "/t.db")
        #expect(throws: TaskError.self) { try s.createTask(title: "   ", prompt: "", projectName: nil) }
        #expect(throws: TaskError.self) { try s.createTask(title: "two\nlines", prompt: "", projectName: nil) }
        let long = String(repeating: "x", count: 10_000)
        #expect(throws: TaskError.usage("the title is 10000 characters; the limit is 500 (put details in --prompt)")) {
            try s.createTask(title: long, prompt: "", projectName: nil)
        }
        #expect(try s.listTasks(TaskFilter(includeFinished: true)).isEmpty)
    }

    @Test func unknownProjectIsAClearErrorAndNothingIsWritten() throws {
        let s = try TaskStore(path: temporaryFolder() + "/t.db")
        #expect(throws: TaskError.failed("no project 'nope' (add one with: project add <name> <path>)")) {
            try s.createTask(title: "x", prompt: "", projectName: "nope")
        }
        #expect(try s.listTasks(TaskFilter(includeFinished: true)).isEmpty)
    }

    @Test func projectWithTasksCannotBeRemoved() throws {
        let s = try TaskStore(path: temporaryFolder() + "/t.db")
        _ = try s.addProject(name: "p", path: "/tmp")
        _ = try s.createTask(title: "x", prompt: "", projectName: "p")
        #expect(throws: TaskError.self) { try s.removeProject(name: "p") }
        _ = try s.editTask(id: 1, title: nil, prompt: nil, projectName: "")
        try s.removeProject(name: "p")
        #expect(try s.projects().isEmpty)
    }

    @Test func historyCollapsesRepeatsAndRedactsSecrets() throws {
        let s = try TaskStore(path: temporaryFolder() + "/t.db")
        try s.appendHistory("list", exitStatus: 0)
        try s.appendHistory("list", exitStatus: 1)
        try s.appendHistory("sprite token org/abc123/tok456/sekritvalue0123456789", exitStatus: 0)
        try s.appendHistory("config set x ANTHROPIC_API_KEY=sk-ant-xyz", exitStatus: 64)
        let h = try s.history(limit: 10)
        #expect(h.map(\.line) == ["list", "sprite token ********", "config set x ANTHROPIC_API_KEY=********"])
        #expect(h[0].exitStatus == 1)
        #expect(try s.history(limit: 10, search: "sprite").count == 1)
    }

    @Test func aFileThatIsNotSQLiteIsRefusedAndLeftAlone() throws {
        let path = temporaryFolder() + "/notes.db"
        try Data("hello, these are my notes\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TaskError.self) { try TaskStore(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello, these are my notes\n")
    }
}

@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        ("sprite token abc/def/ghi/jklmnopqrstuvwxyz", "sprite token ********"),
        ("run 3 --token hunter2", "run 3 --token ********"),
        ("SPRITES_TOKEN=abc list", "SPRITES_TOKEN=******** list"),
        ("send 3 my key is sk-ant-api03-abc", "send 3 my key is ********"),
        ("new \"Fix login\" --prompt 'use the token cache'", "new \"Fix login\" --prompt 'use the token cache'"),
        ("list --all", "list --all"),
    ])
    func redacts(line: String, expected: String) {
        #expect(SecretRedactor.redact(line) == expected)
    }
}

@Suite("Settings")
struct SettingsTests {
    @Test func valuesAreCheckedAndNormalized() throws {
        #expect(try Settings.definition("verbose").normalize("OFF") == "off")
        #expect(try Settings.definition("max_running").normalize("2") == "2")
        #expect(throws: TaskError.self) { try Settings.definition("max_running").normalize("-1") }
        #expect(throws: TaskError.self) { try Settings.definition("permission_mode").normalize("yolo") }
        #expect(throws: TaskError.self) { try Settings.definition("nope") }
    }

    @Test func timestampsAreRFC3339() {
        #expect(formatTimestamp(0) == "1970-01-01T00:00:00.000Z")
        #expect(formatTimestamp(1_764_384_179.25) == "2025-11-29T02:42:59.250Z")
    }
}
