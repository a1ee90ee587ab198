import AgentHooks
import Foundation
import Sandbox
import Synchronization
import TaskCore

/// Stores what every site's hook log gets, exactly once: catch-ups (a command's, or a launch's
/// read brought back with it) and live tails alike go through here. It keeps each source's
/// generations (a rotated or replaced log is read from the start of its new file), rotates a
/// fully stored log, tells the listener (the shell) about stored events, and keeps what to tell
/// the user. The offset moves in the same transaction as the lines (``TaskCore/TaskStore/ingest``).
public final class Ingestor: Sendable {
    let store: TaskStore
    /// Called with every batch of newly stored events (the shell prints them above the prompt).
    private let listener = Mutex<(@Sendable ([IngestedEvent]) -> Void)?>(nil)
    /// Hook sources a live stream currently ingests (commands then need not poll them).
    private let liveSources = Mutex<Set<String>>([])
    /// Serializes local catch-ups in this process.
    private let ingestLock = Mutex(())
    /// Things to tell the user (a hook log replaced by hand…), taken by the shell or the command.
    private let notices = Mutex<[String]>([])

    init(store: TaskStore, environment: [String: String]) {
        self.store = store
        self.rotateBytes = environment["TASK_HOOK_LOG_ROTATE_BYTES"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 64 << 20
    }


    /// Stores every complete line of the local hook log past the stored offset (and shows them to
    /// the listener, when one is set); returns how many lines it stored. A log that was rotated
    /// (or replaced by hand) is read from the start of its new generation; a fully stored log
    /// past the rotation size is rotated.
    @discardableResult
    public func catchUpLocal(_ local: LocalSite) throws -> Int {
        let collect = listener.withLock { $0 != nil }
        let (count, events): (Int, [IngestedEvent]) = try ingestLock.withLock { _ in
            let fd = open(local.hookLog, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return (0, []) }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { return (0, []) }
            let size = Int64(info.st_size)
            let state = try generation(of: local, file: HookLogFile(id: "\(info.st_dev):\(info.st_ino)", size: size))
            var count = 0
            var all: [IngestedEvent] = []
            if size > state.offset, lseek(fd, off_t(state.offset), SEEK_SET) == off_t(state.offset) {
                let reader = HookLogReader(fd: fd, offset: state.offset)
                defer { reader.close() }
                while let batch = reader.next() {
                    count += batch.lines.count
                    all += try store.ingest(
                        source: local.source, generation: state.generation, lines: batch.lines, newOffset: batch.committed,
                        collect: collect)
                    reader.recycle(batch)
                }
            }
            return (count, all)
        }
        deliver(events)
        try rotateIfDue(local)
        return count
    }

    /// The one way a hook log is caught up: stores what `site`'s log holds past the stored offset
    /// (the site reads it its own way: ``catchUpLocal(_:)`` here, ``catchUpRemote(_:waitingFor:seconds:)``
    /// on a sprite). With `waitingFor`, a site whose reads are round trips first waits (up to
    /// `seconds`) for a line containing that text.
    public func catchUp(_ site: any Site, waitingFor pattern: String? = nil, seconds: Int = 0) async throws {
        try await site.catchUp(self, waitingFor: pattern, seconds: seconds)
    }

    /// A remote site's catch-up: one read over the sandbox, which also says which file it read;
    /// with `pattern`, the read first waits for it in the same command.
    public func catchUpRemote(_ site: any Site, waitingFor pattern: String?, seconds: Int) async throws {
        var state = try store.hookSource(site.source)
        let read: (file: HookLogFile, data: Data)?
        do {
            read = try await HookLogFile.parse(
                site.sandbox.probe(["sh", "-c", HookLogFile.readScript, "sh", site.hookLog, String(state.offset + 1), pattern ?? "", String(seconds)]),
                path: site.hookLog)
            if let file = read?.file {
                let now = try generation(of: site, file: file, known: state)
                if now.generation != state.generation {
                    state = now
                    return try await catchUpRemote(site, waitingFor: nil, seconds: 0)
                }
            }
        } catch let e as SandboxError {
            throw TaskError.failed("cannot read the hook log on \(site.label): \(e)")
        }
        guard let read else { return }
        var splitter = HookLineSplitter(startOffset: state.offset)
        let lines = splitter.feed(read.data)
        if !lines.isEmpty {
            deliver(try ingest(lines, committed: splitter.committedOffset, source: site.source, generation: state.generation))
        }
        try await rotateIfDue(site, file: read.file)
    }

    /// Stores lines read from a hook log (by a catch-up or a live tail) of `generation`.
    func ingest(_ lines: [HookLineSplitter.Line], committed: Int64, source: String, generation: Int64,
                collect: Bool = true) throws -> [IngestedEvent] {
        let logLines = lines.filter { !$0.isBlank }.map { LogLine(record: $0.record, endOffset: $0.endOffset) }
        return try store.ingest(source: source, generation: generation, lines: logLines, newOffset: committed, collect: collect)
    }

    func deliver(_ events: [IngestedEvent]) {
        guard !events.isEmpty else { return }
        listener.withLock { $0 }?(events)
    }

    /// Ingests lines a live tail of `source` read (of the generation the tail was started for:
    /// ``HookLogMoved`` when the log moved on meanwhile); delivers them and returns them.
    func ingestLive(_ lines: [HookLineSplitter.Line], committed: Int64, tail: HookLogTail, source: String) throws -> [IngestedEvent] {
        let events = try source == TaskRunner.localSource
            ? ingestLock.withLock { _ in try ingest(lines, committed: committed, source: source, generation: tail.generation) }
            : ingest(lines, committed: committed, source: source, generation: tail.generation)
        deliver(events)
        return events
    }

    /// A live tail of `site`'s hook log from the stored offset of its current generation (caught
    /// up first, so a rotated log is followed in its new file). The tail ends by itself when the
    /// log is rotated or replaced: start a new one.
    /// `catchUp` false skips the catch-up (a reconnect after a dropped connection: the stored
    /// generation is still the file's, or the tail ends at once and the next one catches up).
    func liveTail(_ site: any Site, catchUp: Bool) async throws -> HookLogTail {
        if catchUp { try await self.catchUp(site) }
        let state = try store.hookSource(site.source)
        var tail = HookLogTail(sandbox: site.sandbox, path: site.hookLog, startOffset: state.offset)
        tail.generation = state.generation
        tail.fileID = state.fileID
        try site.prepare(&tail)
        return tail
    }

    /// Says a live stream of `source` is (or is no longer) ingesting.
    public func setLive(_ source: String, _ live: Bool) {
        liveSources.withLock { if live { $0.insert(source) } else { $0.remove(source) } }
    }

    /// Whether a live stream ingests `source` now (a command then need not read its log).
    public func isLive(_ source: String) -> Bool { liveSources.withLock { $0.contains(source) } }

    public func setListener(_ f: (@Sendable ([IngestedEvent]) -> Void)?) {
        listener.withLock { $0 = f }
    }

    /// Bytes past which a fully stored hook log is rotated (`TASK_HOOK_LOG_ROTATE_BYTES`, default 64 MiB).
    /// Bytes past which a fully stored hook log is rotated (`TASK_HOOK_LOG_ROTATE_BYTES`, default 64 MiB).
    let rotateBytes: Int64

    /// The generation of `site`'s hook source that reads `file`: the stored one while it is the
    /// same file, else the next one (a file task rotated away is no surprise; one replaced or
    /// truncated by hand is said once, by the process that notices).
    func generation(of site: any Site, file: HookLogFile, known: HookSourceState? = nil) throws -> HookSourceState {
        let state = try known ?? store.hookSource(site.source)
        guard let recorded = state.fileID else {
            try store.setHookFile(source: site.source, generation: state.generation, fileID: file.id)
            return try store.hookSource(site.source)
        }
        if recorded == file.id && file.size >= state.offset { return state }
        let (next, switched) = try store.startHookGeneration(source: site.source, from: state, fileID: file.id)
        if switched && !(recorded != file.id && state.rotatedID == recorded) {
            let what = recorded == file.id ? "truncated, replaced or removed" : "replaced or removed"
            notice("the hook log \(site.hookLog) was \(what) by hand; what it held was stored (up to byte \(state.offset)); "
                + "reading the new one from its start")
        }
        return next
    }

    /// Rotates `site`'s hook log when everything in it is stored and it is past ``rotateBytes``.
    func rotateIfDue(_ site: any Site, file known: HookLogFile? = nil) async throws {
        let state = try store.hookSource(site.source)
        guard let id = state.fileID, state.offset >= rotateBytes else { return }
        if let known, known.id != id || known.size != state.offset { return }
        try store.markRotating(source: site.source, fileID: id)
        _ = try? await site.sandbox.run(["sh", "-c", HookLogFile.rotateScript, "sh", site.hookLog, id, String(state.offset)])
    }

    /// The local site's rotation (from the synchronous catch-up): the same steps as
    /// ``HookLogFile/rotateScript``, with system calls.
    func rotateIfDue(_ site: any Site) throws {
        let log = site.hookLog
        var info = stat()
        guard stat(log, &info) == 0 else { return }
        let file = HookLogFile(id: "\(info.st_dev):\(info.st_ino)", size: Int64(info.st_size))
        let state = try store.hookSource(site.source)
        guard state.fileID == file.id, state.offset == file.size, file.size >= rotateBytes else { return }
        let fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        guard mkdir(log + ".lock", 0o700) == 0 else { return }
        defer { rmdir(log + ".lock") }
        var now = stat()
        guard fstat(fd, &now) == 0, stat(log, &info) == 0, now.st_ino == info.st_ino, Int64(info.st_size) == state.offset else { return }
        try store.markRotating(source: site.source, fileID: file.id)
        let next = log + ".next"
        let created = open(next, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard created >= 0 else { return }
        close(created)
        if rename(next, log) != 0 { unlink(next) }
    }

    /// Something worth telling whoever runs this process (a shell prints it above the prompt, a command on stderr).
    func notice(_ text: String) {
        notices.withLock { $0.append(text) }
    }

    /// The notices since the last call.
    public func takeNotices() -> [String] {
        notices.withLock { list in
            let taken = list
            list.removeAll()
            return taken
        }
    }

    /// Stores what a read (``HookLogFile/readFragment(_:from:waitingFor:seconds:)`` run at the end
    /// of another command) brought from `site`'s log past `state`; a read of another file (the
    /// log was rotated meanwhile) or one that failed is followed by a catch-up.
    func ingest(read: CommandResult, of site: any Site, from state: HookSourceState) async throws {
        guard let found = try? HookLogFile.parse(read, path: site.hookLog), found.file.id == state.fileID else {
            try await catchUp(site)
            return
        }
        var splitter = HookLineSplitter(startOffset: state.offset)
        let lines = splitter.feed(found.data)
        if !lines.isEmpty {
            deliver(try ingest(lines, committed: splitter.committedOffset, source: site.source, generation: state.generation))
        }
    }
}
