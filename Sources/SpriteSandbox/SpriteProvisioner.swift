import AgentHooks
import Foundation
import Sandbox
import Sprites

/// Makes a sprite ready for tasks: creates it when missing, finds its home folder, checks the
/// tools tasks need, installs the hook script, pre-trusts the home folder for the agent, and makes
/// a first checkpoint once. Each step is reported as it happens.
public struct SpriteProvisioner: Sendable {
    /// One reported step.
    public struct Step: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case working, ok, missing }
        public var kind: Kind
        public var text: String
    }

    /// What provisioning found.
    public struct Outcome: Sendable {
        public var sandbox: SpriteSandbox
        /// Tools the sprite lacks (tasks cannot run until they are installed).
        public var missingTools: [String]
    }

    public let client: SpritesClient
    public let sprite: String

    public init(client: SpritesClient, sprite: String) {
        self.client = client
        self.sprite = sprite
    }

    /// Where the hook script lives on a sprite, below its home.
    public static func hookScriptPath(home: String) -> String { home + "/.task/hook.sh" }

    /// A sandbox on the sprite, provisioning it first when it does not exist or was never
    /// provisioned (its hook script is missing or outdated).
    public func ready(progress: @escaping @Sendable (Step) -> Void) async throws -> SpriteSandbox {
        do {
            _ = try await client.getSprite(sprite)
            let sandbox = try await SpriteSandbox.connect(client: client, sprite: sprite)
            let hook = Self.hookScriptPath(home: sandbox.homeDirectory)
            if let current = try? await sandbox.readFile(path: hook), current == Data(HookScript.text.utf8) {
                return sandbox
            }
        } catch SpritesError.api(let e) where e.status == 404 {
        }
        let outcome = try await provision(progress: progress)
        guard outcome.missingTools.isEmpty else {
            throw SandboxError.io("sprite \(sprite) lacks \(outcome.missingTools.joined(separator: " and ")); install with: "
                + "sprite exec -- sudo apt-get install -y \(outcome.missingTools.joined(separator: " "))")
        }
        return outcome.sandbox
    }

    /// Runs every provisioning step (each is idempotent).
    public func provision(progress: @escaping @Sendable (Step) -> Void) async throws -> Outcome {
        // 1. The sprite.
        do {
            let s = try await client.getSprite(sprite)
            progress(Step(kind: .ok, text: "sprite \(sprite) exists (\(s.status ?? "unknown"))"))
        } catch SpritesError.api(let e) where e.status == 404 {
            progress(Step(kind: .working, text: "creating sprite \(sprite)"))
            do {
                let s = try await client.createSprite(SpriteSpec(name: sprite, labels: ["task"]))
                progress(Step(kind: .ok, text: "sprite \(sprite) created (\(s.status ?? "cold"))" + (s.url.map { " — \($0)" } ?? "")))
            } catch let refused as SpritesError {
                // Another process (a second shell's live session, a one-shot run) made it a moment
                // ago: the name is taken (409, or 400 "already exists" in newer docs), and the sprite
                // is there to use. Anything else is the refusal it is.
                guard refused.status == 409 || refused.status == 400, let s = try? await client.getSprite(sprite) else { throw refused }
                progress(Step(kind: .ok, text: "sprite \(sprite) exists (\(s.status ?? "unknown"); made a moment ago by another process)"))
            }
        }
        // 2. Its home folder (never assumed).
        let sandbox = try await SpriteSandbox.connect(client: client, sprite: sprite)
        let home = sandbox.homeDirectory
        progress(Step(kind: .ok, text: "home folder \(home)"))
        // 3. Tools the tasks need.
        var missing: [String] = []
        for tool in ["tmux", "git"] {
            let r = try await sandbox.probe(["sh", "-c", "command -v \(tool)"])
            let path = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            if r.status == 0, !path.isEmpty {
                progress(Step(kind: .ok, text: "\(tool) \(path)"))
            } else {
                missing.append(tool)
                progress(Step(kind: .missing, text: "\(tool) is missing on the sprite"))
            }
        }
        // 4. The hook script.
        let hook = Self.hookScriptPath(home: home)
        try await sandbox.writeFile(path: hook, data: Data(HookScript.text.utf8), mode: 0o755)
        progress(Step(kind: .ok, text: "hook script \(hook)"))
        // 5. Pre-trust the home folder (and what is below it) in the agent's state file.
        let stateFile = try await TrustConfig.trust(in: sandbox, paths: [home])
        progress(Step(kind: .ok, text: "agent trust \(stateFile) (\(home) trusted)"))
        // 6. A first checkpoint, once.
        let checkpoints = try await client.listCheckpoints(sprite)
        if checkpoints.isEmpty {
            progress(Step(kind: .working, text: "making the first checkpoint"))
            var done = ""
            for try await e in client.createCheckpoint(sprite, comment: "task: provisioned") {
                if e.type == "error" { throw SandboxError.io(e.text.isEmpty ? "the checkpoint failed" : e.text) }
                if e.type == "complete" { done = e.text }
            }
            progress(Step(kind: .ok, text: done.isEmpty ? "checkpoint made" : done))
        } else {
            progress(Step(kind: .ok, text: "checkpoints exist (\(checkpoints.count)); none made (make one with: sprite checkpoint)"))
        }
        return Outcome(sandbox: sandbox, missingTools: missing)
    }
}
