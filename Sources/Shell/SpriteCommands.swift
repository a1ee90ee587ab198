import AgentHooks
import ArgumentParser
import Foundation
import Runner
import Sandbox
import SpriteSandbox
import Sprites
import Synchronization
import TaskCore

// `sprite …`: the Fly.io sprite that tasks run on — its state, provisioning, checkpoints,
// sessions, a shell on it and the API token. The sprite's name is the `sprite.name` setting; the
// API is `SPRITES_API_URL` (default https://api.sprites.dev); the token comes from SPRITES_TOKEN,
// SPRITE_TOKEN or the 0600 file `$TASK_HOME/sprites-token` written by `sprite token`.

struct SpriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sprite",
        abstract: "Manage the sprite (a Fly.io VM) that tasks run on.",
        discussion: """
            The sprite is the setting sprite.name (default task-sandbox). The API is SPRITES_API_URL \
            (default https://api.sprites.dev); the token comes from SPRITES_TOKEN, SPRITE_TOKEN or the \
            file saved by sprite token.
            """,
        subcommands: [
            SpriteStatus.self, SpriteUp.self, SpriteDown.self, SpriteAttach.self, SpriteExec.self,
            SpriteCheckpoints.self, SpriteCheckpoint.self, SpriteRestore.self, SpriteSessions.self,
            SpriteToken.self, SpriteDestroy.self,
        ])
}

// MARK: - Access: name, token, client, errors

/// Where the sprite commands get their sprite name, token and client, and how they word errors.
enum SpriteAccess {
    /// The token with a description of where it came from.
    struct FoundToken {
        var token: String
        var source: String
    }

    /// The first sprite of the pool (`sprite.name`).
    static func name(_ ctx: CommandContext) throws -> String { try ctx.setting("sprite.name").value }

    /// The sprites tasks may run on (`sprite.name`, `sprite.pool`, `sprite.tasks_per_sprite`).
    static func pool(_ ctx: CommandContext) throws -> SpritePool {
        _ = try ctx.store()   // a database that cannot be opened is an error, not the defaults
        return SpritePool { (try? ctx.setting($0).value) ?? "" }
    }

    /// A sprite of the pool, nil when it is not made yet (sprites are made on first need).
    static func madeSprite(_ client: SpritesClient, _ name: String) async throws -> Sprite? {
        do { return try await client.getSprite(name) } catch SpritesError.api(let e) where e.status == 404 { return nil }
    }

    static func baseURL(_ ctx: CommandContext) -> String { SpritesConfig.baseURL(environment: ctx.environment) }

    /// The credentials file: `$TASK_HOME/sprites-token`.
    static func credentialsFile(_ ctx: CommandContext) -> String {
        (ctx.paths.home as NSString).appendingPathComponent(SpritesConfig.credentialsFileName)
    }

    /// SPRITES_TOKEN, else SPRITE_TOKEN, else the credentials file (as `SpritesConfig.token` reads them).
    static func findToken(_ ctx: CommandContext) -> FoundToken? {
        for key in ["SPRITES_TOKEN", "SPRITE_TOKEN"] {
            if let t = ctx.environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty {
                return FoundToken(token: t, source: "the environment variable \(key)")
            }
        }
        guard let t = try? SpritesConfig.token(configDirectory: ctx.paths.home, environment: [:]) else { return nil }
        return FoundToken(token: t, source: credentialsFile(ctx))
    }

    static let noTokenMessage = """
        no Sprites token: set SPRITES_TOKEN, or save one with: sprite token <TOKEN> \
        (tokens are made at https://sprites.dev/account or with: sprite org auth)
        """

    static func client(_ ctx: CommandContext) throws -> (SpritesClient, FoundToken) {
        guard let found = findToken(ctx) else { throw TaskError.failed(noTokenMessage) }
        return (SpritesClient(baseURL: baseURL(ctx), token: found.token), found)
    }

    /// Runs `operation` against the API and turns its errors into messages a user can act on.
    /// `notFound` words a 404 (default: the sprite does not exist).
    static func call<T: Sendable>(
        _ ctx: CommandContext, sprite: String? = nil, notFound: String? = nil,
        _ operation: @escaping @Sendable (SpritesClient, String) async throws -> T
    ) throws -> T {
        let (client, found) = try client(ctx)
        let name = try sprite ?? name(ctx)
        do {
            return try runBlocking { try await operation(client, name) }
        } catch let e as SpritesError {
            throw describe(e, ctx: ctx, name: name, tokenSource: found.source, notFound: notFound)
        }
    }

    static func describe(_ error: SpritesError, ctx: CommandContext, name: String, tokenSource: String,
                         notFound: String?) -> TaskError {
        switch error {
        case .api(let e) where e.status == 401:
            return .failed("the Sprites API at \(baseURL(ctx)) refused the token from \(tokenSource) (401 unauthorized); "
                + "set a valid one with: sprite token <TOKEN>")
        case .api(let e) where e.status == 403:
            return .failed("the token from \(tokenSource) may not do that (403 forbidden): \(e.message)")
        case .api(let e) where e.status == 404:
            SpriteSiteCache(ctx: ctx, name: name).forget()
            return .failed(notFound ?? "there is no sprite named \(name) (create it with: sprite up)")
        case .api(let e):
            return .failed(e.description)
        case .transport(let m):
            return .failed("cannot reach the Sprites API at \(baseURL(ctx)): \(m)")
        case .connectionLost(let reason, _, _):
            return .failed("the connection to sprite \(name) was lost before the command finished (\(reason))")
        case .missingToken:
            return .failed(noTokenMessage)
        default:
            return .failed(error.description)
        }
    }

    /// Prints a checkpoint or restore stream line by line; returns the final message.
    static func progress(_ stream: AsyncThrowingStream<ProgressEvent, any Error>, ctx: CommandContext) async throws -> String {
        var last = ""
        for try await e in stream {
            switch e.type {
            case "error":
                throw TaskError.failed(e.text.isEmpty ? "the sprite reported an error" : e.text)
            case "complete":
                last = e.text
            default:
                if !e.text.isEmpty {
                    ctx.out.line(ctx.style.dim("  " + e.text))
                    ctx.out.flush()
                }
            }
        }
        guard !last.isEmpty else { throw TaskError.failed("the stream ended before the sprite said it was complete") }
        return last
    }

    /// Prints provisioning steps as they happen: ✓ done, … working, ✗ missing.
    static func reporter(_ ctx: CommandContext) -> @Sendable (SpriteProvisioner.Step) -> Void {
        let ok = ctx.style.green("✓"), bad = ctx.style.red("✗")
        return { step in
            let mark = switch step.kind {
            case .ok: ok
            case .working: "…"
            case .missing: bad
            }
            ctx.out.line("\(mark) \(step.text)")
            ctx.out.flush()
        }
    }

    /// Checkpoint or session ids of the sprite for Tab completion, with a line each; empty when
    /// there is no token or the sprite does not answer within 2 s.
    static func candidates(_ kind: String, ctx: CommandContext) -> [Completer.Candidate] {
        guard let (client, _) = try? client(ctx), let name = try? name(ctx) else { return [] }
        let found = LockedList()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            defer { done.signal() }
            if kind == "checkpoint", let list = try? await client.listCheckpoints(name) {
                found.set(list.map { Completer.Candidate(word: $0.id, display: "\($0.id)  \(date($0.createTime))  \($0.comment ?? "")") })
            } else if kind == "session", let list = try? await client.listSessions(name) {
                found.set(list.map { Completer.Candidate(word: $0.id, display: "\($0.id)  \($0.isActive ? "active" : "idle")  \($0.command)") })
            }
        }
        _ = done.wait(timeout: .now() + 2)
        return found.get()
    }

    static func date(_ d: Date?) -> String {
        d.map { formatTimestamp($0.timeIntervalSince1970).prefix(19).replacingOccurrences(of: "T", with: " ") } ?? "-"
    }
}

/// `--sprite NAME`: which sprite of the pool a `sprite` subcommand works on (default: `sprite.name`).
struct SpriteChoice: ParsableArguments {
    @Option(help: ArgumentHelp("A sprite of the pool (default: the setting sprite.name).", valueName: "sprite"),
            completion: .custom(Completions.spriteNames))
    var sprite: String?

    /// The sprite named, checked to be one of the pool; the first of the pool without one.
    func name(_ ctx: CommandContext) throws -> String {
        let pool = try SpriteAccess.pool(ctx)
        guard let sprite else { return pool.base }
        guard pool.contains(sprite) else {
            throw TaskError.usage("\(sprite) is not a sprite of the pool (sprite.pool \(pool.size)): " + pool.names.joined(separator: ", "))
        }
        return sprite
    }

    /// The sprite named, or every sprite of the pool.
    func names(_ ctx: CommandContext) throws -> [String] {
        sprite == nil ? try SpriteAccess.pool(ctx).names : [try name(ctx)]
    }
}

// MARK: - status, up, down

struct SpriteStatus: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the sprites of the pool: state (cold, warm, running), URL, version, their tasks and what keeps them awake.")

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let names = try choice.names(ctx)
        let active = try ctx.store().listTasks(TaskFilter(includeFinished: false)).filter {
            $0.sandbox == SiteKind.sprite.rawValue && ($0.status == .processing || $0.status == .blocked)
        }
        for (n, name) in names.enumerated() {
            if n > 0 { ctx.out.line("") }
            let found: Sprite?
            if names.count > 1 && name != names[0] {
                // A sprite of the pool is made on first need: one not made yet is no error.
                found = try SpriteAccess.call(ctx, sprite: name) { client, name in try await SpriteAccess.madeSprite(client, name) }
            } else {
                found = try SpriteAccess.call(ctx, sprite: name) { client, name in try await client.getSprite(name) }
            }
            guard let s = found else {
                ctx.out.line(ctx.style.bold("sprite " + name))
                ctx.out.line("  state    " + ctx.style.dim("not made yet (made and provisioned when a task needs it)"))
                continue
            }
            let state = s.status ?? "unknown"
            let coloured = switch state {
            case "running": ctx.style.green(state)
            case "warm": ctx.style.yellow(state)
            default: ctx.style.cyan(state)
            }
            ctx.out.line(ctx.style.bold("sprite " + s.name))
            ctx.out.line("  state    " + coloured)
            ctx.out.line("  url      " + (s.url ?? "-"))
            ctx.out.line("  version  " + (s.version ?? "-") + (s.apiVersion.map { " (API \($0))" } ?? ""))
            if let o = s.organization { ctx.out.line("  org      " + o) }
            ctx.out.line("  created  " + SpriteAccess.date(s.createdAt))
            ctx.out.line("  api      " + SpriteAccess.baseURL(ctx))
            let here = active.filter { ($0.site ?? names[0]) == name }
            if here.isEmpty {
                ctx.out.line("  awake    " + ctx.style.dim("not held (no task runs on it); it pauses by itself when idle"))
            } else {
                let ids = here.map { "#\($0.id)" }.joined(separator: ", ")
                ctx.out.line("  tasks    " + here.map { "#\($0.id) \($0.title) (\($0.status.rawValue))" }.joined(separator: "; "))
                ctx.out.line("  awake    held while \(ids) run\(here.count == 1 ? "s" : "") (a keep-awake Task per agent, 5 min expiry, renewed each minute)")
            }
        }
    }
}

struct SpriteUp: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Create the sprite if missing and provision it (tools, hook script, agent trust, first checkpoint).")

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let name = try choice.name(ctx)
        SpriteSiteCache(ctx: ctx, name: name).forget()
        let missing = try SpriteAccess.call(ctx, sprite: name) { client, name -> [String] in
            try await SpriteProvisioner(client: client, sprite: name).provision(progress: SpriteAccess.reporter(ctx)).missingTools
        }
        if !missing.isEmpty {
            let list = missing.joined(separator: " and ")
            throw TaskError.failed(
                "sprite \(name) is up but lacks \(list); install with: sprite exec -- sudo apt-get install -y \(missing.joined(separator: " "))")
        }
        ctx.out.line("sprite \(name) is ready")
    }
}

struct SpriteDown: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Checkpoint the sprites of the pool (or the one named); they pause by themselves when idle (sprites have no stop).")

    @OptionGroup var choice: SpriteChoice

    @Argument(help: ArgumentHelp("The checkpoint's comment.", valueName: "comment"))
    var comment: String = "task: sprite down"

    mutating func run(_ ctx: CommandContext) throws {
        let text = comment
        let names = try choice.names(ctx)
        for name in names {
            // Sprites of the pool not made yet have nothing to keep.
            let (done, active) = try SpriteAccess.call(ctx, sprite: name) { client, name -> (String?, Int) in
                if names.count > 1, try await SpriteAccess.madeSprite(client, name) == nil { return (nil, 0) }
                let done = try await SpriteAccess.progress(client.createCheckpoint(name, comment: text), ctx: ctx)
                let active = (try? await client.listSessions(name))?.filter(\.isActive).count ?? 0
                return (done, active)
            }
            guard let done else { continue }
            ctx.out.line((names.count > 1 ? "sprite \(name): " : "") + done)
            if active > 0 {
                ctx.out.line(ctx.style.yellow("\(active) session(s) still running keep \(name) awake (see: sprite sessions --sprite \(name))"))
            }
        }
        ctx.out.line("Sprites cannot be stopped: \(names.count == 1 ? names[0] : "each") pauses by itself after about 30 s without activity "
            + "(warm, then cold) and is not billed while paused; the next command wakes it.")
    }
}

// MARK: - exec, attach

struct SpriteExec: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command on the sprite: its output and exit status are task's own.",
        discussion: "Example: sprite exec -- sh -c 'ls -la ~'",
        aliases: ["x"])

    @Option(help: ArgumentHelp("Working directory on the sprite (default: its home).", valueName: "dir"))
    var dir: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments (after --).", valueName: "command"))
    var command: [String] = []

    var argv: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        if argv.isEmpty { throw ValidationError("exec needs a command: sprite exec -- <command> [arguments…]") }
    }

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let cmd = ExecCommand(argv, directory: dir, stdin: false)
        ctx.out.flush()
        ctx.err.flush()
        let code = try SpriteAccess.call(ctx, sprite: sprite) { client, name -> Int in
            let session = try await client.exec(name, cmd)
            for try await event in session.events {
                switch event {
                case .stdout(let b): writeAll(1, b)
                case .stderr(let b): writeAll(2, b)
                case .exit(let code): return code
                case .message: continue
                }
            }
            throw SpritesError.connectionLost(reason: "the stream ended without an exit status", stdout: [], stderr: [])
        }
        if code != 0 { throw ExitCode(Int32(truncatingIfNeeded: code)) }
    }
}

struct SpriteAttach: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Open a shell on the sprite in this terminal (or join a session); leaving the shell returns to task>.",
        discussion: "Ctrl-\\ detaches and leaves the session running on the sprite (join it again with: sprite attach <id>).")

    @Argument(help: ArgumentHelp("A running session to join (see: sprite sessions).", valueName: "session"),
              completion: .custom(Completions.spriteSessions))
    var session: String?

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        guard isatty(0) == 1 && isatty(1) == 1 else {
            throw TaskError.failed("sprite attach needs a terminal; in scripts use: sprite exec -- <command>")
        }
        let size = RawTerminal.size()
        let join = session
        ctx.out.flush()
        let s = try SpriteAccess.call(ctx, sprite: sprite, notFound: join.map { "no session \($0) on the sprite (see: sprite sessions)" }) {
            client, name -> ExecSession in
            if let join { return try await client.attach(name, sessionId: join, stdin: true) }
            return try await client.exec(name, ExecCommand(["bash", "-l"], tty: true, rows: size.rows, cols: size.cols))
        }
        let name = sprite
        ctx.out.line(ctx.style.dim("attached to \(name) (session \(s.info.id)); exit the shell to return, Ctrl-\\ to detach"))
        ctx.out.flush()
        let outcome: AttachLoop.Outcome
        do {
            let raw = try RawTerminal(fd: 0)
            defer { raw.restore() }
            outcome = try runBlocking { try await AttachLoop.run(s) }
        } catch let e as SpritesError {
            ctx.out.line("")
            throw SpriteAccess.describe(e, ctx: ctx, name: name, tokenSource: "", notFound: nil)
        }
        ctx.out.line("")
        switch outcome {
        case .exited(let code):
            ctx.out.line(ctx.style.dim("session ended (exit \(code)); back at task>"))
        case .detached:
            ctx.out.line(ctx.style.dim("detached; session \(s.info.id) keeps running (join it again: sprite attach \(s.info.id))"))
        }
    }
}

// MARK: - checkpoints, restore, sessions

struct SpriteCheckpoints: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoints", abstract: "List the sprite's checkpoints, newest first.")

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let list = try SpriteAccess.call(ctx, sprite: sprite) { client, name in try await client.listCheckpoints(name) }
        guard !list.isEmpty else {
            ctx.out.line(ctx.style.dim("no checkpoints; make one with: sprite checkpoint [comment]"))
            return
        }
        let w = max(2, list.map(\.id.count).max() ?? 0)
        ctx.out.line(ctx.style.bold(Render.pad("ID", w) + "  CREATED              COMMENT"))
        for c in list {
            ctx.out.line(Render.pad(c.id, w) + "  " + Render.pad(SpriteAccess.date(c.createTime), 19) + "  "
                + (c.comment ?? "") + (c.isAuto ? ctx.style.dim(" (auto)") : ""))
        }
    }
}

struct SpriteCheckpoint: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Save the sprite's filesystem as a checkpoint.")

    @Argument(help: ArgumentHelp("A comment (several words are joined by spaces).", valueName: "comment"))
    var comment: [String] = []

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let text = comment.isEmpty ? nil : comment.joined(separator: " ")
        let done = try SpriteAccess.call(ctx, sprite: sprite) { client, name in
            try await SpriteAccess.progress(client.createCheckpoint(name, comment: text), ctx: ctx)
        }
        ctx.out.line(done)
    }
}

struct SpriteRestore: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore the sprite's filesystem from a checkpoint (ends its sessions).")

    @Argument(help: ArgumentHelp("The checkpoint's id, as sprite checkpoints shows it.", valueName: "checkpoint"),
              completion: .custom(Completions.spriteCheckpoints))
    var id: String

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let checkpoint = id
        let done = try SpriteAccess.call(ctx, sprite: sprite, notFound: "no checkpoint \(checkpoint) on the sprite (see: sprite checkpoints)") {
            client, name in
            _ = try await client.getCheckpoint(name, id: checkpoint)
            return try await SpriteAccess.progress(client.restoreCheckpoint(name, id: checkpoint), ctx: ctx)
        }
        ctx.out.line(done)
    }
}

struct SpriteSessions: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the exec sessions on the sprite.")

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let list = try SpriteAccess.call(ctx, sprite: sprite) { client, name in try await client.listSessions(name) }
        guard !list.isEmpty else {
            ctx.out.line(ctx.style.dim("no sessions"))
            return
        }
        let w = max(2, list.map(\.id.count).max() ?? 0)
        ctx.out.line(ctx.style.bold(Render.pad("ID", w) + "  STATE     TTY  CREATED              COMMAND"))
        for s in list {
            ctx.out.line(Render.pad(s.id, w) + "  " + Render.pad(s.isActive ? "active" : "idle", 8) + "  "
                + (s.tty ? "yes" : "no ") + "  " + Render.pad(SpriteAccess.date(s.created), 19) + "  " + s.command)
        }
    }
}

// MARK: - token, destroy

struct SpriteToken: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Save the Sprites API token (0600 file, never the database), or show where it comes from.")

    @Argument(help: ArgumentHelp("The token to save; without it, show the current one masked.", valueName: "token"))
    var token: String?

    mutating func run(_ ctx: CommandContext) throws {
        let file = SpriteAccess.credentialsFile(ctx)
        guard let token = token?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            guard let found = SpriteAccess.findToken(ctx) else { throw TaskError.failed(SpriteAccess.noTokenMessage) }
            ctx.out.line("token \(SpritesConfig.masked(found.token)) from \(found.source)")
            ctx.out.line("api   \(SpriteAccess.baseURL(ctx))")
            return
        }
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw TaskError.usage("a token is one word without spaces")
        }
        do {
            try SpritesConfig.saveToken(token, configDirectory: ctx.paths.home)
        } catch {
            throw TaskError.failed("cannot save the token in \(file): \(error.localizedDescription)")
        }
        ctx.out.line("token \(SpritesConfig.masked(token)) saved in \(file) (readable only by you)")
        for key in ["SPRITES_TOKEN", "SPRITE_TOKEN"] where !(ctx.environment[key] ?? "").isEmpty {
            ctx.err.line("task: note: \(key) in the environment overrides the saved token")
            break
        }
    }
}

struct SpriteDestroy: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy", abstract: "Delete the sprite and all its checkpoints (asks first unless --force).")

    @Flag(help: "Do not ask (required in scripts).")
    var force = false

    @OptionGroup var choice: SpriteChoice

    mutating func run(_ ctx: CommandContext) throws {
        let sprite = try choice.name(ctx)
        let name = sprite
        if !force {
            guard ctx.interactive || isatty(0) == 1 else {
                throw TaskError.failed("sprite destroy deletes \(name) and its checkpoints for good; in scripts add --force")
            }
            let prompt = "Destroy sprite \(name) and all its checkpoints? Type its name to confirm: "
            if ctx.lineSource == nil { ctx.out.write(prompt) }
            ctx.out.flush()
            let answer = ctx.readLine(prompt)
            guard answer?.trimmingCharacters(in: .whitespaces) == name else {
                ctx.out.line("not destroyed")
                return
            }
        }
        try SpriteAccess.call(ctx, sprite: sprite) { client, name in try await client.deleteSprite(name) }
        SpriteSiteCache(ctx: ctx, name: name).forget()
        ctx.out.line("sprite \(name) destroyed")
    }
}

/// Candidates gathered on another task.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Completer.Candidate] = []
    func set(_ c: [Completer.Candidate]) { lock.withLock { items = c } }
    func get() -> [Completer.Candidate] { lock.withLock { items } }
}
