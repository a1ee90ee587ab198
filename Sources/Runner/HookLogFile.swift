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
    /// (`command exec`: a failed redirection of a plain `exec` ends dash before `|| exit 3`.)
    static let readScript = #"""
        command exec 3<"$1" 2>/dev/null || exit 3
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
