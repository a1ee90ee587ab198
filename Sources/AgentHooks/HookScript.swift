/// The POSIX `sh` hook script that every per-task hook command runs.
///
/// Usage: `sh <script> <task id> <event name> <hook log>`, with the hook's JSON payload on stdin.
/// It reads stdin to EOF, removes raw CR/LF bytes (JSON text never needs them: a string's own
/// newlines are escaped as `\n`, so a pretty-printed payload stays the same document), uses `{}`
/// when stdin is empty, and appends exactly one line
/// `{"task":N,"event":"E","ts":<epoch>,"data":<payload>}` to the log. It prints nothing and always
/// exits 0, so it never changes what the agent does (spec §4). It needs only `sh`, `tr` and `date`
/// (plus `flock` when present).
///
/// Appends are serialised with ``appendFunction``'s lock, so concurrent hooks (Claude runs matching
/// handlers in parallel) never interleave, whatever the line size.
public enum HookScript {
    /// The script's text.
    public static let text: String = """
        #!/bin/sh
        # task hook: append one JSON line per Claude Code hook event to a log; print nothing; exit 0.
        # usage: sh hook.sh <task id> <event name> <hook log>   (hook payload JSON on stdin)
        exec 2>/dev/null
        task_id=$1
        event=$2
        log=$3
        case $task_id in ''|*[!0-9]*) task_id=null ;; esac
        case $event in ''|*[!A-Za-z0-9_]*) event=unknown ;; esac
        data=$(tr -d '\\r\\n')
        case $data in *[![:space:]]*) ;; *) data='{}' ;; esac
        ts=$(date +%s.%N)
        case $ts in *[!0-9.]*|.*|*.|'') ts=$(date +%s) ;; esac
        \(appendFunction)
        task_append_line "$log" "{\\"task\\":$task_id,\\"event\\":\\"$event\\",\\"ts\\":$ts,\\"data\\":$data}"
        exit 0

        """

    /// A POSIX `sh` function `task_append_line <log> <line>` that appends `<line>` and a newline to
    /// `<log>` under an exclusive lock: `flock` on the log itself when the command exists, otherwise
    /// a lock directory `<log>.lock` (taken over after about 3 s, in case a writer died holding it).
    /// With flock, a writer that got the lock on a file that is no longer the log (rotated away
    /// meanwhile) opens the log again, so no line lands in a rotated file.
    /// Every writer of a hook log uses it — the hook script and the pane script's exit record.
    public static let appendFunction: String = """
        task_append_line() {
          if command -v flock >/dev/null 2>&1; then
            _task_n=0
            while [ "$_task_n" -lt 20 ]; do
              _task_n=$((_task_n + 1))
              { flock -x 9; [ /dev/fd/9 -ef "$1" ] && printf '%s\\n' "$2" >&9; } 9>>"$1" && return 0
            done
            printf '%s\\n' "$2" >>"$1"
          else
            _task_n=0
            while ! mkdir "$1.lock" 2>/dev/null; do
              _task_n=$((_task_n + 1))
              [ "$_task_n" -ge 300 ] && break
              sleep 0.01 2>/dev/null || sleep 1
            done
            printf '%s\\n' "$2" >>"$1"
            rmdir "$1.lock" 2>/dev/null
          fi
        }
        """
}
