/// The POSIX `sh` script a task's tmux pane runs: it starts the agent and records how it ended.
///
/// The script
/// 1. unsets `CLAUDECODE` and `CLAUDE_CODE_ENTRYPOINT` (Claude refuses to start inside another
///    Claude session, spec §7) and exports `TASK_ID` and any extra ``environment``;
/// 2. `cd`s into the work directory;
/// 3. runs ``command`` with the prompt read from ``promptFile`` as **one** argv element
///    (`"$(cat '<file>')"`), so the prompt text never appears in any shell string (trailing newlines
///    of the file are dropped by the command substitution);
/// 4. appends `{"task":N,"event":"AgentExit","ts":…,"data":{"exit_code":S,"pane":"%N","last_lines":"…"}}` to
///    the hook log (with the same lock as ``HookScript``), and exits with the agent's status `S`.
///    `last_lines` holds the last 20 non-blank lines the pane showed when the agent ended (read
///    with `tmux capture-pane`, control characters dropped, JSON-escaped): what an agent that died
///    at once printed ("Invalid API key", "not found") outlives its pane.
///
/// Credentials come from ``environmentFile`` (mode 0600), which the script sources and deletes
/// before starting the agent: once the agent's environment holds them they are on no disk (a
/// sprite checkpoint keeps whatever is on disk).
/// If the `cd` fails the agent is not started and the exit record carries status 126.
///
/// The agent runs as a background job that the script `wait`s for, with the pane's terminal as its
/// stdin, so the script stays responsive to signals: when the window is killed, only the script
/// (the session leader) gets SIGHUP; it forwards it (and TERM, INT) to the agent, and still records
/// the exit (status 129) — within about a second, as the script polls for the agent's end (`wait`
/// alone hangs in dash when SIGCHLD arrives blocked). A foreground agent would instead outlive a script that traps the signal,
/// or leave no record when the script dies of it. (As for any background job of a non-interactive
/// `sh`, the agent starts with SIGINT and SIGQUIT ignored; Claude reads its keys in raw mode, where
/// Ctrl-C is a key, not a signal.)
public struct PaneScript: Sendable, Equatable {
    /// The task id (exported as `TASK_ID`, written into the exit record).
    public var taskID: Int64
    /// The directory the agent runs in.
    public var workdir: String
    /// The agent launch (its prompt comes from `promptFile`).
    public var command: AgentCommand
    /// The file holding the prompt (or the resume feedback).
    public var promptFile: String
    /// The hook log that receives the exit record.
    public var hookLogPath: String
    /// Extra variables to export before starting the agent (names must be valid `sh` names;
    /// others are skipped). Prefer this script's file (mode 0600) to argv for secrets.
    public var environment: [String: String]
    /// On a sprite: the keep-awake Task held while the agent runs (refreshed every minute with a
    /// 5-minute expiry through `sprite-env`, deleted when the agent ends); nil for none.
    public var keepAwakeTask: String?
    /// A file (``environmentFileText(_:)``) to source, then delete, before the agent starts.
    public var environmentFile: String?

    /// Describes a pane script.
    public init(
        taskID: Int64,
        workdir: String,
        command: AgentCommand,
        promptFile: String,
        hookLogPath: String,
        environment: [String: String] = [:],
        keepAwakeTask: String? = nil,
        environmentFile: String? = nil
    ) {
        self.taskID = taskID
        self.workdir = workdir
        self.command = command
        self.promptFile = promptFile
        self.hookLogPath = hookLogPath
        self.environment = environment
        self.keepAwakeTask = keepAwakeTask
        self.environmentFile = environmentFile
    }

    /// The text of an environment file: `NAME='value'` and `export NAME` lines (invalid names skipped).
    public static func environmentFileText(_ environment: [String: String]) -> String {
        exports(environment).map { $0 + "\n" }.joined()
    }

    private static func exports(_ environment: [String: String]) -> [String] {
        var lines: [String] = []
        for name in environment.keys.sorted() where isValidName(name) {
            lines.append("\(name)=\(ShellQuote.quote(environment[name] ?? ""))")
            lines.append("export \(name)")
        }
        return lines
    }

    /// How many of the pane's last lines the exit record keeps.
    public static let lastLinesKept = 20

    /// The exit status recorded when the work directory cannot be entered.
    public static let cannotEnterWorkdirStatus: Int32 = 126

    /// The script's text.
    public var text: String {
        var lines = [
            "#!/bin/sh",
            "# task \(taskID): run the agent, then record its exit status in the hook log.",
            "unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT",
            "TASK_ID=\(taskID)",
            "export TASK_ID",
        ]
        lines += Self.exports(environment)
        if let file = environmentFile {
            let quoted = ShellQuote.quote(file)
            lines.append("if [ -f \(quoted) ]; then . \(quoted); rm -f \(quoted); fi")
        }
        lines.append(HookScript.appendFunction)
        lines.append("task_log=\(ShellQuote.quote(hookLogPath))")
        if let name = keepAwakeTask, Self.isTaskName(name) {
            let body = ShellQuote.quote("{\"name\":\"\(name)\",\"expire\":\"5m\"}")
            lines += [
                // The loop's sleep is ended with it (trap), and it holds no terminal open, so the
                // pane closes as soon as the agent ends.
                #"task_awake() { trap 'kill "$task_nap" 2>/dev/null; exit 0' TERM; while :; do sprite-env curl -X PUT -d \#(body) /v1/tasks/\#(name) >/dev/null 2>&1; sleep 60 & task_nap=$!; wait "$task_nap"; done; }"#,
                "task_awake_pid=",
                "if command -v sprite-env >/dev/null 2>&1; then task_awake </dev/null >/dev/null 2>&1 & task_awake_pid=$!; fi",
            ]
        }
        lines += [
            "task_pid=",
            #"task_forward() { [ -n "$task_pid" ] && kill -"$1" "$task_pid" 2>/dev/null; }"#,
            "trap 'task_forward HUP' HUP",
            "trap 'task_forward TERM' TERM",
            "trap 'task_forward INT' INT",
            "if cd \(ShellQuote.quote(workdir)); then",
            "  exec 3<&0",
            "  \(ShellQuote.join(command.argumentsBeforePrompt)) \"$(cat \(ShellQuote.quote(promptFile)))\" <&3 3<&- &",
            "  task_pid=$!",
            "  exec 3<&-",
            // Poll rather than block in `wait`: dash's `wait` never returns when SIGCHLD arrives
            // blocked from the parent, while foreground `sleep` reaps the agent in any case.
            #"  while kill -0 "$task_pid" 2>/dev/null; do sleep 1; done"#,
            #"  wait "$task_pid""#,
            "  task_status=$?",
            "else",
            "  task_status=\(Self.cannotEnterWorkdirStatus)",
            "fi",
        ]
        if let name = keepAwakeTask, Self.isTaskName(name) {
            lines.append(#"if [ -n "$task_awake_pid" ]; then kill "$task_awake_pid" 2>/dev/null; sprite-env curl -X DELETE /v1/tasks/\#(name) >/dev/null 2>&1; fi"#)
        }
        lines.append("task_ts=$(date +%s)")
        // The pane's last words: control characters (tab included) become nothing or spaces,
        // backslashes and quotes are escaped, lines are joined with \n — a JSON string's body.
        lines.append(
            #"task_words=$(tmux capture-pane -p -J -t "${TMUX_PANE:-}" 2>/dev/null | tr '\t' ' ' | tr -d '\000-\010\013-\037\177' | grep -v '^[[:space:]]*$' | tail -n \#(Self.lastLinesKept) | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | awk '{printf "%s%s", (NR>1 ? "\\n" : ""), $0}')"#
        )
        lines.append(
            #"task_append_line "$task_log" "{\"task\":\#(taskID),\"event\":\"AgentExit\",\"ts\":$task_ts,\"data\":{\"exit_code\":$task_status,\"pane\":\"${TMUX_PANE:-}\",\"last_lines\":\"$task_words\"}}""#
        )
        lines.append("exit \"$task_status\"")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func isTaskName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
    }

    private static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}
