import AgentHooks
import Foundation

extension TrustConfig {
    /// Marks `paths` trusted in the agent's state file (`~/.claude.json`) inside `sandbox`,
    /// merging with what is there; returns the file's path.
    @discardableResult
    public static func trust(in sandbox: any Sandbox, paths: [String]) async throws -> String {
        let stateFile = sandbox.homeDirectory + "/.claude.json"
        var existing: Data?
        do {
            existing = try await sandbox.readFile(path: stateFile)
        } catch SandboxError.fileNotFound {
            existing = nil
        }
        let merged: Data
        do {
            merged = try TrustConfig.merged(existing, projectPaths: paths, file: stateFile)
        } catch let f as TrustConfig.Failure {
            throw SandboxError.io(f.description)
        }
        try await sandbox.writeFile(path: stateFile, data: merged, mode: 0o600)
        return stateFile
    }
}
