import AgentHooks
import ArgumentParser
import Foundation
import Runner
import Sandbox
import SpriteSandbox
import Sprites
import TaskCore

/// One check of `doctor`: what was looked at, whether it is fine, and what to do when it is not.
struct DoctorCheck: Sendable {
    var name: String
    var ok: Bool
    var detail: String
    var fix: String?

    static func pass(_ name: String, _ detail: String) -> DoctorCheck { DoctorCheck(name: name, ok: true, detail: detail) }
    static func fail(_ name: String, _ detail: String, fix: String) -> DoctorCheck {
        DoctorCheck(name: name, ok: false, detail: detail, fix: fix)
    }
}

struct Doctor: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "doctor",
        abstract: "Check what tasks need: the agent, its credentials, tmux, git, the data folder, the database, the sprite.",
        discussion: "One line per check, ✓ or ✗ with the fix; exits 1 when any check fails. Every local check runs even when the sprite cannot be reached.")

    @Flag(help: "Print JSON: an array of {check, ok, detail, fix}.")
    var json = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        var checks = try runBlocking { await DoctorChecks(ctx: ctx, runner: runner).local() }
        if SpriteAccess.findToken(ctx) != nil {
            checks += (try? runBlocking { await DoctorChecks(ctx: ctx, runner: runner).sprite() }) ?? []
        } else {
            checks.append(.pass("sprite", "no Sprites token: tasks run on this machine (set one with: sprite token <TOKEN>)"))
        }
        if json {
            Render.jsonArray(checks.map { c in
                .object([("check", .string(c.name)), ("ok", .bool(c.ok)), ("detail", .string(c.detail)),
                         ("fix", .string(c.fix))])
            }, to: ctx.out)
        } else {
            for c in checks {
                let mark = c.ok ? ctx.style.green("✓") : ctx.style.red("✗")
                ctx.out.line("\(mark) \(Render.pad(c.name, 14)) \(c.detail)" + (c.fix.map { ctx.style.dim(" — fix: \($0)") } ?? ""))
            }
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}

/// The checks themselves.
struct DoctorChecks: Sendable {
    let ctx: CommandContext
    let runner: TaskRunner

    func local() async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let site = runner.local
        let agent = runner.setting("agent")
        checks.append(await agentCheck(agent, sandbox: site.sandbox, on: "this machine",
                                       fix: "install Claude Code, or set the command with: config set agent <command> (or TASK_AGENT)"))
        checks += await credentialChecks(site)
        checks.append(await tool("tmux", ["tmux", "-V"], sandbox: site.sandbox, fix: "install tmux (apt-get install tmux)"))
        if checks.last?.ok == true {
            let socket = ctx.environment["TASK_TMUX_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "task"
            let up = (try? await site.tmux.hasSession()) ?? false
            checks.append(.pass("tmux server", up
                ? "task's own server (tmux -L \(socket)) is running"
                : "task's own server (tmux -L \(socket)) starts with the first task"))
        }
        checks.append(await tool("git", ["git", "--version"], sandbox: site.sandbox, fix: "install git (apt-get install git)"))
        checks.append(homeCheck())
        checks.append(databaseCheck())
        checks.append(hookLogCheck())
        return checks
    }

    func agentCheck(_ agent: String, sandbox: any Sandbox, on place: String, fix: String) async -> DoctorCheck {
        let r = try? await sandbox.run(["sh", "-c", "command -v \"$1\" >/dev/null && timeout 10 \"$1\" --version", "sh", agent])
        guard let r else { return .fail("agent", "could not run \(agent) on \(place)", fix: fix) }
        if r.status == 127 || (r.status != 0 && r.stdoutText.isEmpty && r.stderrText.isEmpty) {
            return .fail("agent", "'\(agent)' is not found on \(place)", fix: fix)
        }
        guard r.status == 0 else {
            let said = DisplayText.oneLine(r.stderrText.isEmpty ? r.stdoutText : r.stderrText, limit: 100)
            return .fail("agent", "'\(agent) --version' failed on \(place) (exit \(r.status)): \(said)", fix: fix)
        }
        return .pass("agent", "\(agent) — \(DisplayText.oneLine(r.stdoutText, limit: 80))")
    }

    func credentialChecks(_ site: any Site) async -> [DoctorCheck] {
        let env = runner.agentEnvironment(site)
        let names = runner.setting("agent_env").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let given = names.filter { env[$0].map { !$0.isEmpty } ?? false }
        var checks: [DoctorCheck] = [.pass("credentials", given.isEmpty
            ? "none passed to the agent (it uses its own login; agent_env lists \(names.joined(separator: ", ")))"
            : "the agent receives \(given.joined(separator: ", ")) (names only; values go through a 0600 file)")]
        if let key = env["ANTHROPIC_API_KEY"], !key.isEmpty {
            switch try? await runner.apiKeyAnswer(site, key: key) {
            case .approved?: checks.append(.pass("api key", "ANTHROPIC_API_KEY (…\(key.suffix(4))) is approved in ~/.claude.json"))
            case .rejected?:
                checks.append(.fail("api key", "ANTHROPIC_API_KEY (…\(key.suffix(4))) is listed as rejected in ~/.claude.json: every turn would fail",
                                    fix: "remove it from customApiKeyResponses.rejected in ~/.claude.json"))
            case .unanswered?, nil:
                checks.append(.pass("api key", "ANTHROPIC_API_KEY (…\(key.suffix(4))) will be approved in ~/.claude.json at the first run"))
            }
        }
        return checks
    }

    func tool(_ name: String, _ argv: [String], sandbox: any Sandbox, fix: String) async -> DoctorCheck {
        guard let r = try? await sandbox.run(argv), r.status == 0 else { return .fail(name, "\(name) is not found", fix: fix) }
        return .pass(name, DisplayText.oneLine(r.stdoutText, limit: 80))
    }

    func homeCheck() -> DoctorCheck {
        let probe = ctx.paths.home + "/.doctor-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            return .fail("data folder", "\(ctx.paths.home) is not writable", fix: "fix its permissions, or set TASK_HOME to a writable folder")
        }
        try? FileManager.default.removeItem(atPath: probe)
        return .pass("data folder", "\(ctx.paths.home) is writable")
    }

    func databaseCheck() -> DoctorCheck {
        do {
            let result = try runner.store.quickCheck()
            guard result == "ok" else {
                return .fail("database", "\(ctx.paths.database): quick_check says \(DisplayText.oneLine(result, limit: 100))",
                             fix: "restore a backup, or move the file away to start afresh")
            }
            return .pass("database", "\(ctx.paths.database): quick_check ok")
        } catch {
            return .fail("database", "\(error)", fix: "check the file and its folder's permissions")
        }
    }

    func hookLogCheck() -> DoctorCheck {
        let log = runner.local.hookLog
        var info = stat()
        guard stat(log, &info) == 0 else { return .pass("hook log", "\(log) does not exist yet (made at the first run)") }
        let size = Int64(info.st_size)
        let stored = (try? runner.store.hookOffset(source: TaskRunner.localSource)) ?? 0
        let unread = max(0, size - stored)
        return .pass("hook log", "\(log): \(Bytes.describe(size)), \(Bytes.describe(unread)) not stored yet")
    }

    func sprite() async -> [DoctorCheck] {
        guard let (client, found) = try? SpriteAccess.client(ctx), let name = try? SpriteAccess.name(ctx) else { return [] }
        var checks: [DoctorCheck] = [.pass("sprite token", "from \(found.source)")]
        let info: Sprite
        do {
            info = try await client.getSprite(name)
            checks.insert(.pass("sprites api", "\(SpriteAccess.baseURL(ctx)) answers"), at: 0)
        } catch let e as SpritesError {
            if case .api(let a) = e, a.status == 404 {
                checks.insert(.pass("sprites api", "\(SpriteAccess.baseURL(ctx)) answers"), at: 0)
                checks.append(.fail("sprite", "there is no sprite named \(name)", fix: "sprite up"))
                return checks
            }
            let message = SpriteAccess.describe(e, ctx: ctx, name: name, tokenSource: found.source, notFound: nil).description
            checks.insert(.fail("sprites api", message, fix: "check the network and SPRITES_API_URL, or set a valid token with: sprite token <TOKEN>"), at: 0)
            return checks
        } catch {
            checks.insert(.fail("sprites api", "\(error)", fix: "check the network and SPRITES_API_URL"), at: 0)
            return checks
        }
        checks.append(.pass("sprite", "\(name) is \(info.status ?? "unknown")"))
        guard let sandbox = try? await SpriteSandbox.connect(client: client, sprite: name) else {
            checks.append(.fail("sprite exec", "cannot run commands on \(name)", fix: "sprite status; sprite up"))
            return checks
        }
        for (tool, argv) in [("tmux", ["tmux", "-V"]), ("git", ["git", "--version"])] {
            checks.append(await self.tool(tool, argv, sandbox: sandbox, fix: "sprite exec -- sudo apt-get install -y \(tool)")
                .renamed("\(tool) (sprite)"))
        }
        checks.append(await agentCheck(runner.setting("sprite.agent"), sandbox: sandbox, on: "the sprite",
                                       fix: "install Claude Code on the sprite, or set: config set sprite.agent <command>")
            .renamed("agent (sprite)"))
        let hook = SpriteProvisioner.hookScriptPath(home: sandbox.homeDirectory)
        let current = (try? await sandbox.readFile(path: hook)) == Data(HookScript.text.utf8)
        checks.append(current
            ? .pass("hook (sprite)", "\(hook) is current")
            : .fail("hook (sprite)", "\(hook) is missing or outdated", fix: "sprite up"))
        checks.append(await ownerCheck(name, sandbox: sandbox))
        return checks
    }

    /// Whether the sprite serves this database (``SiteOwner``): free, ours, or another's.
    func ownerCheck(_ name: String, sandbox: any Sandbox) async -> DoctorCheck {
        let file = SiteOwner.file(runDirectory: SpriteSite.runDirectory(home: sandbox.homeDirectory))
        guard let data = try? await sandbox.readFile(path: file) else {
            return .pass("database (sprite)", "\(name) serves no task database yet: the next run here claims it for this one")
        }
        let owner = SiteOwner(line: String(decoding: data, as: UTF8.self))
        guard let me = try? SiteOwner.this(ctx.store()), owner?.id != me.id else {
            return .pass("database (sprite)", "\(name) serves this database")
        }
        return .fail("database (sprite)", "\(name) \(SiteOwner.servesAnother(owner))", fix: SiteOwner.remedy(file: file))
    }
}

extension DoctorCheck {
    func renamed(_ name: String) -> DoctorCheck {
        var c = self
        c.name = name
        return c
    }
}

/// Byte counts for people: `12.3 MiB`.
enum Bytes {
    static func describe(_ n: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
