import AgentHooks
import Foundation

extension TrustConfig {
    /// Marks `paths` trusted in the agent's state file (`~/.claude.json`) inside `sandbox`,
    /// merging with what is there; returns the file's path.
    @discardableResult
    public static func trust(in sandbox: any Sandbox, paths: [String], apiKeySuffix: String? = nil) async throws -> String {
        let stateFile = stateFile(in: sandbox)
        let existing = try await stateDocument(in: sandbox)
        let merged: Data
        do {
            merged = try TrustConfig.merged(existing, projectPaths: paths, apiKeySuffix: apiKeySuffix, file: stateFile)
        } catch let f as TrustConfig.Failure {
            throw SandboxError.io(f.description)
        }
        try await sandbox.writeFile(path: stateFile, data: merged, mode: 0o600)
        return stateFile
    }

    /// The agent's state file in `sandbox`.
    public static func stateFile(in sandbox: any Sandbox) -> String { sandbox.homeDirectory + "/.claude.json" }

    /// The agent's state file's bytes in `sandbox`; nil when there is none.
    public static func stateDocument(in sandbox: any Sandbox) async throws -> Data? {
        do {
            return try await sandbox.readFile(path: stateFile(in: sandbox))
        } catch SandboxError.fileNotFound {
            return nil
        }
    }
}
