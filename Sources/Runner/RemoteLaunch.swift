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
    let site: Site

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
            throw TaskError.failed("cannot look at the \(site.kind.rawValue): \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
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

    /// Starts `task` (which holds a slot) on the site.
    func start(_ task: TaskRecord, mode: TaskRunner.Mode, progress: @escaping @Sendable (String) -> Void) async throws -> TaskRunner.LaunchOutcome {
        let agent = runner.setting(site.agentSetting)
        let name = "\(task.id)-\(slug(task.title))"
        var projectRoot: (name: String, root: String)?
        if let projectName = task.projectName {
            let project = try runner.store.project(named: projectName)
            let top = try await runner.local.sandbox.run(["git", "-C", project.path, "rev-parse", "--show-toplevel"])
            guard top.status == 0 else {
                throw TaskError.failed(
                    "project \(projectName) (\(project.path)) is not a git repository, so it cannot be sent to the \(site.kind.rawValue); run it with --sandbox local")
            }
            projectRoot = (projectName, top.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let found = try await probe(agent: agent, mirror: projectRoot.map { site.mirror(project: $0.name) })
        guard found.agentPath != nil else {
            throw TaskError.failed(
                "the agent command '\(agent)' was not found on the \(site.kind.rawValue); install it there or set: config set \(site.agentSetting) <command>")
        }
        let environment = runner.agentEnvironment(site)
        let key = environment["ANTHROPIC_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let key, TrustConfig.keyAnswer(found.stateDocument, suffix: TrustConfig.apiKeySuffix(key)) == .rejected {
            throw TaskRunner.rejectedKey(key, on: site)
        }

        // The work folder: a clone of the project's current commit, or a fresh folder.
        var script = ["set -e", "umask 077"]
        var uploads: [(path: String, data: Data)] = []
        let workdir: String
        var branch: String?
        var notes: [String] = []
        if let (projectName, root) = projectRoot {
            let plan = try await RepoTransfer(runner: runner, site: site).plan(
                project: projectName, root: root, taskName: name, branch: task.branch ?? "task/\(name)", tips: found.tips,
                progress: progress)
            uploads += plan.uploads
            script += ["set +e"] + plan.script + ["set -e"]
            workdir = plan.workdir
            branch = plan.branch
            notes = plan.notes
        } else {
            workdir = site.workDirectory + "/" + name
            script.append("mkdir -p \(ShellQuote.quote(workdir))")
        }

        // The task's files, written by the same command.
        let taskDir = site.taskDirectory(task.id)
        let (sessionID, session, promptText) = TaskRunner.session(for: mode)
        let permission = runner.setting(site.permissionSetting)
        let command = AgentCommand(agent: agent, session: session, settingsPath: taskDir + "/settings.json",
                                   permissions: TaskRunner.permissions(permission))
        let pane = PaneScript(
            taskID: task.id, workdir: workdir, command: command, promptFile: taskDir + "/prompt.txt",
            hookLogPath: site.hookLog, keepAwakeTask: site.keepAwake ? "task-\(task.id)" : nil,
            environmentFile: taskDir + "/env.sh")
        var files: [(String, Data, String)] = [
            (taskDir + "/settings.json",
             try HookSettings(taskID: task.id, hookScriptPath: site.hookScript, hookLogPath: site.hookLog).jsonData(), "600"),
            (taskDir + "/prompt.txt", Data(promptText.utf8), "600"),
            (taskDir + "/env.sh", Data(PaneScript.environmentFileText(environment).utf8), "600"),
            (taskDir + "/pane.sh", Data(pane.text.utf8), "600"),
        ]
        if !found.hookCurrent { files.append((site.hookScript, Data(HookScript.text.utf8), "755")) }
        // Trust and the API key's approval, merged into the state file only when they change it.
        let trust = runner.setting("trust_workspace") == "on"
        let stateFile = TrustConfig.stateFile(in: site.sandbox)
        if trust || key != nil {
            let merged: Data
            do {
                merged = try TrustConfig.merged(
                    found.stateDocument, projectPaths: trust ? [workdir] : [], apiKeySuffix: key.map(TrustConfig.apiKeySuffix), file: stateFile)
            } catch {
                throw TaskError.failed("cannot prepare the agent's ~/.claude.json (trust, API key) on the \(site.kind.rawValue): \(error)")
            }
            if Self.needsWrite(found.stateDocument, merged) { files.append((stateFile, merged, "600")) }
        }
        script.append("mkdir -p \(ShellQuote.quote(taskDir)) \(ShellQuote.quote(site.runDirectory))")
        for (i, file) in files.enumerated() {
            let path = ShellQuote.quote(file.0), temp = ShellQuote.quote(file.0 + ".tmp-task")
            script += ["base64 -d > \(temp) <<'TASK_FILE_\(i)'", file.1.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]),
                       "TASK_FILE_\(i)", "chmod \(file.2) \(temp) && mv -f \(temp) \(path)"]
        }
        if !found.logExists { script.append(": >> \(ShellQuote.quote(site.hookLog)) && chmod 600 \(ShellQuote.quote(site.hookLog))") }
        script.append(site.tmux.newWindowScript(name: "task-\(task.id)", cwd: workdir, command: ["sh", taskDir + "/pane.sh"]))

        for upload in uploads { try await site.sandbox.writeFile(path: upload.path, data: upload.data, mode: 0o600) }
        let r = try await site.sandbox.run(["sh", "-s"], cwd: nil, env: [:], stdin: Data((script.joined(separator: "\n") + "\n").utf8))
        let paneID = r.stdoutText.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard r.status == 0, paneID.hasPrefix("%") else {
            throw TaskError.failed("cannot start the agent on the \(site.kind.rawValue): "
                + (r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "exit \(r.status)" : r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        try runner.store.recordLaunch(
            id: task.id, sandbox: site.kind.rawValue, worktree: workdir, branch: branch, sessionID: sessionID, paneID: paneID,
            permissionMode: permission)
        for note in notes { try runner.store.appendLog(taskID: task.id, kind: "system", message: note) }
        try runner.store.appendLog(taskID: task.id, kind: "system", message: "started \(agent) on the \(site.kind.rawValue) in \(workdir) (pane \(paneID))")
        return .started(pane: paneID, workdir: workdir, notes: notes)
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
