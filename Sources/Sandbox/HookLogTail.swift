import AgentHooks

/// Follows a hook log in a ``Sandbox`` from a byte offset, delivering complete lines with exact
/// end offsets (``HookLineSplitter``), for exactly-once ingestion.
///
/// It runs `tail -c +<offset+1> -f` on the log through ``Sandbox/stream(_:)`` (after waiting for the
/// file to exist), so it works the same over a remote exec. It follows the file it opened, and
/// ends when the path names another file (the log was rotated or replaced): offsets belong to one
/// file, so the reader starts a new tail for the new generation.
public struct HookLogTail: Sendable {
    /// Where the log is.
    public let sandbox: any Sandbox
    /// The log's path in the sandbox.
    public let path: String
    /// The offset to start from: the end offset of the last line already ingested (0 for all).
    public let startOffset: Int64
    /// The splitter's longest whole line.
    public let maxLineBytes: Int
    /// How often to look for a log that does not exist yet, in seconds.
    public let pollInterval: Double

    /// Describes a tail of `path` from `startOffset`.
    public init(sandbox: any Sandbox, path: String, startOffset: Int64 = 0,
                maxLineBytes: Int = HookLineSplitter.defaultMaxLineBytes, pollInterval: Double = 0.2) {
        self.sandbox = sandbox
        self.path = path
        self.startOffset = max(0, startOffset)
        self.maxLineBytes = maxLineBytes
        self.pollInterval = pollInterval
    }

    /// The command that streams the log's bytes from `startOffset` (a POSIX `sh` wrapper that waits
    /// for the file, then `exec`s `tail`).
    /// With ``watchedPID`` set, the wait and `tail` itself (GNU `--pid`) end when that process dies,
    /// so a reader that is killed leaves no tail behind.
    public var command: [String] {
        // fd 3 holds the file that was opened (so its inode cannot be reused); tail follows the
        // file it opens by name as a descriptor (-f, with inotify: a tail of /dev/fd/3 would poll,
        // 450 ms a line); the loop ends the stream when the path names another file than fd 3,
        // or when the watched process is gone. A log is rotated only past 64 MiB, all stored, so
        // a new file cannot reach the offset in the moment between the two opens.
        let script = #"""
            while [ ! -e "$1" ]; do { [ -z "$4" ] || kill -0 "$4" 2>/dev/null; } || exit 0; sleep "$3"; done
            command exec 3<"$1" 2>/dev/null || exit 0
            [ -z "$5" ] || [ "$(stat -L -c '%d:%i' /dev/fd/3)" = "$5" ] || exit 0
            tail -c "+$2" -f -s 0.1 --pid=$$ "$1" 2>/dev/null &
            t=$!
            [ /dev/fd/3 -ef "$1" ] || { kill "$t" 2>/dev/null; exit 0; }
            trap 'kill "$t" 2>/dev/null; exit 0' TERM HUP INT
            while kill -0 "$t" 2>/dev/null; do
              { [ -z "$4" ] || kill -0 "$4" 2>/dev/null; } || break
              [ /dev/fd/3 -ef "$1" ] || { sleep 0.2; break; }
              sleep 0.1
            done
            kill "$t" 2>/dev/null
            exit 0
            """#
        return ["sh", "-c", script, "sh", path, String(startOffset + 1), String(pollInterval),
                watchedPID.map(String.init) ?? "", fileID ?? ""]
    }

    /// A process whose death ends the tail (the reading shell's, for a local log); nil for none.
    public var watchedPID: Int32?
    /// The generation of the log's source this tail reads (the reader stores lines under it).
    public var generation: Int64 = 0
    /// The file (`dev:inode`) the offset belongs to; the tail ends at once when the path names another.
    public var fileID: String?

    /// The lines, in batches: each batch holds the complete lines of one chunk read; an empty
    /// batch says the stream is connected (a sandbox whose stream can drop sends one on connecting);
    /// store a batch together with its last line's ``HookLineSplitter/Line/endOffset``. Cancelling the
    /// consuming task stops `tail`. The stream ends with an error when the tail command fails, and
    /// without one when it ends otherwise (e.g. a remote connection closed): start a new tail from
    /// the last stored offset.
    public func lines() -> AsyncThrowingStream<[HookLineSplitter.Line], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[HookLineSplitter.Line], any Error>.makeStream()
        let bytes = sandbox.stream(command)
        let splitterStart = startOffset, maxLine = maxLineBytes
        let pump = Task {
            var splitter = HookLineSplitter(startOffset: splitterStart, maxLineBytes: maxLine)
            do {
                for try await chunk in bytes {
                    // An empty chunk is a remote stream saying it is connected: pass it on.
                    if chunk.isEmpty {
                        continuation.yield([])
                        continue
                    }
                    let lines = splitter.feed(chunk)
                    if !lines.isEmpty { continuation.yield(lines) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in pump.cancel() }
        return stream
    }
}
