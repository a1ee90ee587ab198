import AgentHooks
import Foundation
import Sandbox
import TaskCore

/// A launch on a remote site (a sprite) in as few round trips as the protocol allows: one command
/// that looks at everything the launch depends on (the agent, the project's mirror, the hook script
/// and log, the agent's state file), the bundle upload when the mirror lacks commits, and one
/// command, its script on stdin (credentials included, never argv), that writes the task's files,
/// makes the clone and opens the tmux window. On a provisioned sprite with an up-to-date project
/// that is two commands instead of fourteen.
struct RemoteLaunch {
    let runner: TaskRunner
    let site: any Site

    /// What one look at the site found.
    struct Probe {
        var agentPath: String?
        var tips: [String]
        var hookCurrent: Bool
        var logExists: Bool
        var stateDocument: Data?
    }

    static let probeScript = #"""
        agent=$1 mirror=$2 hook=$3 log=$4 state=$5
        printf 'agent:%s\n' "$(command -v "$agent" 2>/dev/null)"
        if [ -n "$mirror" ]; then
          { [ -d "$mirror" ] || git init -q --bare "$mirror"; } >/dev/null 2>&1 || { echo 'cannot prepare the mirror' >&2; exit 1; }
          git -C "$mirror" for-each-ref --format='tip:%(objectname)' refs/heads/
        fi
        printf 'hook:%s\n' "$(cksum < "$hook" 2>/dev/null)"
        if [ -e "$log" ]; then echo 'log:yes'; else echo 'log:no'; fi
        if [ -r "$state" ]; then printf 'state:'; base64 < "$state" | tr -d '\n'; echo; fi
        """#

    /// One command: what the launch depends on.
    func probe(agent: String, mirror: String?) async throws -> Probe {
        let state = TrustConfig.stateFile(in: site.sandbox)
        let r = try await site.sandbox.probe(["sh", "-c", Self.probeScript, "sh", agent, mirror ?? "", site.hookScript, site.hookLog, state])
        guard r.status == 0 else {
            throw TaskError.failed("cannot look at \(site.label): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var p = Probe(agentPath: nil, tips: [], hookCurrent: false, logExists: false, stateDocument: nil)
        let wantedHook = Self.cksum(Data(HookScript.text.utf8))
        for line in r.stdoutText.split(separator: "\n") {
            if line.hasPrefix("agent:") {
                let path = line.dropFirst(6)
                p.agentPath = path.isEmpty ? nil : String(path)
            } else if line.hasPrefix("tip:") {
                p.tips.append(String(line.dropFirst(4)))
            } else if line.hasPrefix("hook:") {
                p.hookCurrent = line.dropFirst(5).split(separator: " ").first.map(String.init) == wantedHook
            } else if line == "log:yes" {
                p.logExists = true
            } else if line.hasPrefix("state:") {
                p.stateDocument = Data(base64Encoded: String(line.dropFirst(6)))
            }
        }
        return p
    }

    /// Starts `task` (which holds a slot) on the site. When this machine knows the site holds
    /// what the launch needs (the project's commit was sent before), the launch goes without the
    /// look: its script checks those things itself and says when one is missing, and only then is
    /// the look taken (one round trip fewer on most runs).
    func start(_ task: TaskRecord, mode: TaskRunner.Mode, progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        // The connection's handshakes go on while this machine looks at the project.
        site.sandbox.warmUp()
        let agent = runner.setting(site.agentSetting)
        var projectRoot: (name: String, root: String)?
        if let projectName = task.projectName {
            let project = try runner.store.project(named: projectName)
            let top = try await runner.local.sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
            guard top.status == 0 else {
                throw TaskError.failed(
                    "project \(projectName) (\(project.path)) is not a git repository, so it cannot be sent to \(site.label); run it with --sandbox local")
            }
            projectRoot = (projectName, top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let sent = SentCommits(runner: runner, site: site)
        if let known = sent.known(project: projectRoot?.name) {
            do {
                return try await launch(task, mode: mode, agent: agent, projectRoot: projectRoot, look: nil, tips: known, progress: progress)
            } catch is LookNeeded {
                sent.forget(project: projectRoot?.name)
            }
        }
        let found = try await probe(agent: agent, mirror: projectRoot.map { site.mirror(project: $0.name) })
        guard found.agentPath != nil else { throw agentMissing(agent) }
        return try await launch(task, mode: mode, agent: agent, projectRoot: projectRoot, look: found, tips: found.tips, progress: progress)
    }

    /// A launch without a look found the site lacking something the look would have shown.
    struct LookNeeded: Error {}

    /// Exit statuses of a launch script that checks for itself what a look would have shown.
    enum Check: Int32 {
        case agentMissing = 81, lookNeeded = 82, keyRejected = 83, stateFileUnreadable = 84, otherDatabase = 85
    }

    /// The site's owner file (``SiteOwner``).
    var ownerFile: String { SiteOwner.file(runDirectory: site.runDirectory) }

    func agentMissing(_ agent: String) -> TaskError {
        TaskError.failed(
            "the agent command '\(agent)' was not found on \(site.label); install it there or set: config set \(site.agentSetting) <command>")
    }

    /// One command that writes the task's files, makes its clone and opens its window (after
    /// `look`; without one, it checks the agent, the mirror and the state file itself).
    func launch(_ task: TaskRecord, mode: TaskRunner.Mode, agent: String, projectRoot: (name: String, root: String)?,
                look found: Probe?, tips: [String], progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        let name = "\(task.id)-\(slug(task.title))"
        let environment = runner.agentEnvironment(site)
        let key = environment["ANTHROPIC_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let found, let key, TrustConfig.keyAnswer(found.stateDocument, suffix: TrustConfig.apiKeySuffix(key)) == .rejected {
            throw TaskRunner.rejectedKey(key, on: site)
        }
        let q = ShellQuote.quote

        // The work folder: a clone of the project's current commit, or a fresh folder.
        var script = ["set -e", "umask 077"]
        var uploads: [(path: String, data: Data)] = []
        let workdir: String
        var branch: String?
        var notes: [String] = []
        var sentHead: String?
        // Without a look, the script first checks (before it changes anything) what the look would have shown.
        var checks: [String] = []
        if found == nil {
            checks.append("command -v \(q(agent)) >/dev/null 2>&1 || exit \(Check.agentMissing.rawValue)")
        }
        if let (projectName, root) = projectRoot {
            let chosen = try await TaskBranch.choose(for: task, root: root, in: runner.local.sandbox)
            let plan = try await RepoTransfer(runner: runner, site: site).plan(
                project: projectName, root: root, taskName: chosen.name, branch: chosen.branch, tips: tips,
                progress: progress)
            if found == nil {
                // The commit must be in the mirror already (else the look, and a bundle).
                guard plan.uploads.isEmpty else { throw LookNeeded() }
                checks.append("git -C \(q(site.mirror(project: projectName))) cat-file -e \(q(plan.head + "^{commit}")) 2>/dev/null || exit \(Check.lookNeeded.rawValue)")
            }
            uploads += plan.uploads
            script += ["set +e"] + plan.script + ["set -e"]
            workdir = plan.workdir
            branch = plan.branch
            notes = (chosen.note.map { [$0] } ?? []) + plan.notes
            sentHead = plan.head
        } else {
            workdir = site.workDirectory + "/" + name
            script.append("mkdir -p \(q(workdir))")
        }

        // The task's files, written by the same command.
        let taskDir = site.taskDirectory(task.id)
        let (sessionID, session, promptText) = TaskRunner.session(for: mode)
        let permission = runner.setting(site.permissionSetting)
        let command = AgentCommand(agent: agent, session: session, settingsPath: taskDir + "/settings.json",
                                   permissions: TaskRunner.permissions(permission))
        let pane = PaneScript(
            taskID: task.id, workdir: workdir, command: command, promptFile: taskDir + "/prompt.txt",
            hookLogPath: site.hookLog, keepAwakeTask: "task-\(task.id)",
            environmentFile: taskDir + "/env.sh")
        var files: [(String, Data, String)] = [
            (taskDir + "/settings.json",
             try HookSettings(taskID: task.id, hookScriptPath: site.hookScript, hookLogPath: site.hookLog).jsonData(), "600"),
            (taskDir + "/prompt.txt", Data(promptText.utf8), "600"),
            (taskDir + "/env.sh", Data(PaneScript.environmentFileText(environment).utf8), "600"),
            (taskDir + "/pane.sh", Data(pane.text.utf8), "600"),
        ]
        let hook = Data(HookScript.text.utf8)
        if found?.hookCurrent != true { files.append((site.hookScript, hook, "755")) }
        // Trust and the API key's approval, merged into the state file only when they change it:
        // here from what the look read, or there by the script's own merge.
        let trust = runner.setting("trust_workspace") == "on"
        let stateFile = TrustConfig.stateFile(in: site.sandbox)
        if trust || key != nil {
            let paths = trust ? [workdir] : []
            let suffix = key.map(TrustConfig.apiKeySuffix)
            if let found {
                let merged: Data
                do {
                    merged = try TrustConfig.merged(found.stateDocument, projectPaths: paths, apiKeySuffix: suffix, file: stateFile)
                } catch {
                    throw TaskError.failed("cannot prepare the agent's ~/.claude.json (trust, API key) on \(site.label): \(error)")
                }
                if Self.needsWrite(found.stateDocument, merged) { files.append((stateFile, merged, "600")) }
            } else {
                checks.append(TrustConfig.mergeScript(file: stateFile, projectPaths: paths, apiKeySuffix: suffix,
                                                rejected: Check.keyRejected.rawValue, unreadable: Check.stateFileUnreadable.rawValue,
                                                unavailable: Check.lookNeeded.rawValue))
            }
        }
        let claim = try SiteOwner.this(runner.store)
            .claimScript(file: ownerFile, runDirectory: site.runDirectory, refused: Check.otherDatabase.rawValue)
        script.insert(contentsOf: claim + checks, at: 2)
        script.append("mkdir -p \(q(taskDir)) \(q(site.runDirectory))")
        for (i, file) in files.enumerated() {
            let path = q(file.0), temp = q(file.0 + ".tmp-task")
            script += ["base64 -d > \(temp) <<'TASK_FILE_\(i)'", file.1.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]),
                       "TASK_FILE_\(i)", "chmod \(file.2) \(temp) && mv -f \(temp) \(path)"]
        }
        if found?.logExists != true { script.append("[ -e \(q(site.hookLog)) ] || { : >> \(q(site.hookLog)) && chmod 600 \(q(site.hookLog)); }") }
        script.append(site.tmux.newWindowScript(name: "task-\(task.id)", cwd: workdir, command: ["sh", taskDir + "/pane.sh"]))
        // A one-shot `run` waits for the agent's first hook: in this command, not a second one.
        let waitSeconds = runner.firstHookWait.isRequested ? Int(runner.startTimeout.rounded(.up)) : 0
        let logState = try runner.store.hookSource(site.source)
        if waitSeconds > 0 {
            script += ["echo \(Self.readMark)",
                       HookLogFile.readFragment(site.hookLog, from: logState.offset, waitingFor: "{\"task\":\(task.id),", seconds: waitSeconds)]
        }

        for upload in uploads { try await site.sandbox.writeFile(path: upload.path, data: upload.data, mode: 0o600) }
        // The watchdog measures from when the window opened, not from when a waiting launch returned.
        let launchedAt = now()
        let r = try await site.sandbox.run(["sh", "-s"], cwd: nil, env: [:], stdin: Data((script.joined(separator: "\n") + "\n").utf8))
        let (launched, read) = Self.split(r)
        switch Check(rawValue: launched.status) {
        case .agentMissing: throw agentMissing(agent)
        case .lookNeeded: throw LookNeeded()
        case .keyRejected: throw TaskRunner.rejectedKey(key ?? "", on: site)
        case .otherDatabase:
            throw SiteOwner.refusal(label: site.label, other: SiteOwner(line: launched.stderrText), file: ownerFile)
        case .stateFileUnreadable:
            throw TaskError.failed("cannot prepare the agent's ~/.claude.json (trust, API key) on \(site.label): "
                + launched.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        case nil: break
        }
        let paneID = launched.stdoutText.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard launched.status == 0, paneID.hasPrefix("%") else {
            throw TaskError.failed("cannot start the agent on \(site.label): "
                + (launched.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                    ? "exit \(launched.status)" : launched.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        if let sentHead, let projectName = projectRoot?.name { SentCommits(runner: runner, site: site).note(sentHead, project: projectName) }
        try runner.store.recordLaunch(
            id: task.id, sandbox: site.kind.rawValue, worktree: workdir, branch: branch, sessionID: sessionID, paneID: paneID,
            permissionMode: permission, startedAt: waitSeconds > 0 ? launchedAt : nil, startCommit: sentHead)
        for note in notes { try runner.store.appendLog(taskID: task.id, kind: "system", message: note) }
        try runner.store.appendLog(taskID: task.id, kind: "system", message: "started \(agent)\(site.onSite) in \(workdir) (pane \(paneID))")
        if let read {
            // What the log held past the stored offset once the first hook came (or the wait ended).
            try await runner.ingestor.ingest(read: read, of: site, from: logState)
            runner.firstHookWait.noteWaited(task.id)
        }
        return .started(pane: paneID, workdir: workdir, notes: notes)
    }

    /// Printed between the launch's output and the hook-log read that follows it.
    static let readMark = "--task-hook-log-read--"

    /// The launch's own result, and the hook-log read after ``readMark`` when there is one.
    static func split(_ r: CommandResult) -> (launch: CommandResult, read: CommandResult?) {
        let out = r.stdout, mark = Data((readMark + "\n").utf8)
        var from = out.startIndex
        while let found = out[from...].range(of: mark) {
            if found.lowerBound == out.startIndex || out[found.lowerBound - 1] == 0x0A {
                return (CommandResult(status: 0, stdout: Data(out[..<found.lowerBound]), stderr: r.stderr),
                        CommandResult(status: r.status, stdout: Data(out[found.upperBound...]), stderr: r.stderr))
            }
            from = found.upperBound
        }
        return (r, nil)
    }

    static func needsWrite(_ before: Data?, _ after: Data) -> Bool {
        guard let before, let old = try? JSONSerialization.jsonObject(with: before) as? NSDictionary,
              let new = try? JSONSerialization.jsonObject(with: after) as? NSDictionary else { return true }
        return !old.isEqual(new)
    }

    /// POSIX `cksum` (CRC-32 as cksum computes it, length included) of `data`.
    static func cksum(_ data: Data) -> String {
        var crc: UInt32 = 0
        func add(_ byte: UInt8) {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        for b in data { add(b) }
        var n = data.count
        while n > 0 {
            add(UInt8(n & 0xFF))
            n >>= 8
        }
        return String(~crc)
    }
}
