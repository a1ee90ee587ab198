import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// Which file a hook log path names now (`dev:inode`) and how long it is.
struct HookLogFile: Equatable {
    var id: String
    var size: Int64

    /// Reads the log at `path` in `sandbox` from `offset`, saying which file it read: one command
    /// (one exec on a sprite). Nil when there is no log.
    static func read(_ path: String, from offset: Int64, in sandbox: any Sandbox) async throws -> (file: HookLogFile, data: Data)? {
        let r = try await sandbox.probe(["sh", "-c", readScript, "sh", path, String(offset + 1), "", "0"])
        return try parse(r, path: path)
    }

    /// The file is opened once (fd 3): its identity, size and bytes all come from the same file,
    /// even if it is rotated meanwhile. With a pattern ($3), it first waits (up to $4 seconds)
    /// until a line past the offset contains it: one command waits for an event where polling
    /// would take a round trip a look (every 10 ms for the first second, when the answer
    /// usually comes, then every 50 ms).
    static let readScript = #"""
        exec 3<"$1" 2>/dev/null || exit 3
        if [ -n "$3" ]; then
          n=0
          while ! tail -c "+$2" /dev/fd/3 | grep -qF -- "$3"; do
            n=$((n + 1)); [ "$n" -gt $(($4 * 20 + 80)) ] && break
            if [ "$n" -le 100 ]; then sleep 0.01; else sleep 0.05; fi
          done
        fi
        stat -L -c '%d:%i %s' /dev/fd/3 || exit 4
        exec tail -c "+$2" /dev/fd/3
        """#

    /// The same read as a script fragment to append to another (the caller's stdin script).
    static func readFragment(_ path: String, from offset: Int64, waitingFor pattern: String, seconds: Int) -> String {
        "set -- \(ShellQuote.quote(path)) \(offset + 1) \(ShellQuote.quote(pattern)) \(seconds)\n" + readScript
    }

    /// What a read printed: the file's identity and size, then its bytes past the offset.
    static func parse(_ r: CommandResult, path: String) throws -> (file: HookLogFile, data: Data)? {
        if r.status == 3 { return nil }
        guard r.status == 0, let newline = r.stdout.firstIndex(of: 0x0A) else {
            throw SandboxError.commandFailed(argv: ["tail", path], status: r.status, stderr: r.stderrText)
        }
        let header = String(decoding: r.stdout[r.stdout.startIndex..<newline], as: UTF8.self).split(separator: " ")
        guard header.count == 2, let size = Int64(header[1]) else {
            throw SandboxError.commandFailed(argv: ["stat", path], status: r.status, stderr: "unexpected: \(header)")
        }
        return (HookLogFile(id: String(header[0]), size: size), Data(r.stdout[(newline + 1)...]))
    }

    /// Replaces a fully stored log with an empty one (mode 0600) in one rename, under the
    /// writers' lock (flock on the log, and the lock folder of writers without flock), only if it
    /// is still the file `id` of `size` bytes. Writers waiting on the old file's lock notice it is
    /// no longer the log and append to the new one (``AgentHooks/HookScript/appendFunction``).
    /// Exit 0 rotated, 2 busy, 3 not the expected file.
    static let rotateScript = #"""
        log=$1
        [ -e "$log" ] || exit 3
        if command -v flock >/dev/null 2>&1; then exec 9>>"$log"; flock -xn 9 || exit 2; fi
        mkdir "$log.lock" 2>/dev/null || exit 2
        trap 'rmdir "$log.lock" 2>/dev/null' EXIT
        [ "$(stat -c '%d:%i %s' "$log")" = "$2 $3" ] || exit 3
        (umask 077 && : > "$log.next") && mv -f "$log.next" "$log"
        """#
}

extension TaskRunner {
    /// Bytes past which a fully stored hook log is rotated (`TASK_HOOK_LOG_ROTATE_BYTES`, default 64 MiB).
    var rotateBytes: Int64 {
        environment["TASK_HOOK_LOG_ROTATE_BYTES"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 64 << 20
    }

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
}

extension TaskRunner {
    /// Stores what a read (``HookLogFile/readFragment(_:from:waitingFor:seconds:)`` run at the end
    /// of another command) brought from `site`'s log past `state`; a read of another file (the
    /// log was rotated meanwhile) or one that failed is followed by a catch-up.
    func ingest(read: CommandResult, of site: any Site, from state: HookSourceState) async throws {
        guard let found = try? HookLogFile.parse(read, path: site.hookLog), found.file.id == state.fileID else {
            try await catchUp(site: site)
            return
        }
        var splitter = HookLineSplitter(startOffset: state.offset)
        let lines = splitter.feed(found.data)
        if !lines.isEmpty {
            deliver(try ingest(lines, committed: splitter.committedOffset, source: site.source, generation: state.generation))
        }
    }
}
