import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pre-accepts Claude Code's workspace-trust dialog and first-run screens by editing its state file
/// (`~/.claude.json`), as spec §1.3 requires: until a folder is trusted no hook fires at all.
///
/// For each project path it sets `projects[<path>].hasTrustDialogAccepted` and
/// `.hasCompletedProjectOnboarding` to true, and at the top level `hasCompletedOnboarding` and
/// `bypassPermissionsModeAccepted`. Every other key is preserved. Claude rewrites this file too, so
/// the update is a merge, written atomically (temporary file + rename) under an `flock` on
/// `<file>.lock`. A file that exists but is not a JSON object is never overwritten.
public struct TrustConfig: Sendable {
    /// Errors of a trust update.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The state file exists but is not valid JSON (or not an object); it was left untouched.
        case notJSON(path: String)
        /// A key the update must write into holds something other than an object.
        case unexpectedShape(path: String, key: String)
        /// A system call failed.
        case io(path: String, operation: String, errno: Int32)

        public var description: String {
            switch self {
            case .notJSON(let path): return "\(path) is not a JSON object; not touching it"
            case .unexpectedShape(let path, let key): return "\(path): \"\(key)\" is not an object; not touching it"
            case .io(let path, let operation, let code): return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// The state files to update.
    public var stateFiles: [String]

    /// Updates the given state files.
    public init(stateFiles: [String]) {
        self.stateFiles = stateFiles
    }

    /// The state files Claude may read: `<home>/.claude.json` and, when `claudeConfigDir` is set and
    /// non-empty, `<claudeConfigDir>/.claude.json` (sources disagree on which is used; spec §1.3).
    public static func stateFiles(home: String, claudeConfigDir: String?) -> [String] {
        var files = [join(home, ".claude.json")]
        if let dir = claudeConfigDir, !dir.isEmpty {
            let other = join(dir, ".claude.json")
            if other != files[0] { files.append(other) }
        }
        return files
    }

    /// The state files for this process's `HOME` and `CLAUDE_CONFIG_DIR`.
    public static func forCurrentUser() -> TrustConfig {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? NSHomeDirectory()
        return TrustConfig(stateFiles: stateFiles(home: home, claudeConfigDir: environment["CLAUDE_CONFIG_DIR"]))
    }

    /// The project keys to trust for a task directory: the directory as given and its
    /// symlink-resolved form, plus the same for the main repository root of a worktree, without
    /// trailing slashes and without duplicates.
    public static func projectPaths(directory: String, repositoryRoot: String? = nil) -> [String] {
        var paths: [String] = []
        for path in [directory, repositoryRoot].compactMap({ $0 }) {
            for candidate in [normalized(path), resolved(path)].compactMap({ $0 }) where !paths.contains(candidate) {
                paths.append(candidate)
            }
        }
        return paths
    }

    /// Marks `directory` (and `repositoryRoot`, when given) trusted in every state file, and
    /// approves the API key ending in `apiKeySuffix` when given.
    public func trust(directory: String, repositoryRoot: String? = nil, apiKeySuffix: String? = nil) throws {
        try trust(projectPaths: Self.projectPaths(directory: directory, repositoryRoot: repositoryRoot), apiKeySuffix: apiKeySuffix)
    }

    /// Marks exactly `projectPaths` trusted in every state file (and approves `apiKeySuffix`).
    public func trust(projectPaths: [String], apiKeySuffix: String? = nil) throws {
        for file in stateFiles {
            try Self.update(file: file, projectPaths: projectPaths, apiKeySuffix: apiKeySuffix)
        }
    }

    // MARK: - API keys

    /// How many trailing characters of `ANTHROPIC_API_KEY` Claude Code remembers its answer by
    /// (`customApiKeyResponses`, spec §7). Never more of the key is written anywhere.
    public static let apiKeySuffixLength = 20

    /// The part of `key` the state file records.
    public static func apiKeySuffix(_ key: String) -> String { String(key.suffix(apiKeySuffixLength)) }

    /// What the state file says of an API key.
    public enum KeyAnswer: String, Sendable {
        case approved, rejected, unanswered
    }

    /// The answer recorded for the key ending in `suffix` in `document` (a rejection wins, as it
    /// does for the agent).
    public static func keyAnswer(_ document: Data?, suffix: String) -> KeyAnswer {
        guard let document, let responses = JSONValue.parse(document)?.object?["customApiKeyResponses"]?.object else {
            return .unanswered
        }
        func listed(_ key: String) -> Bool {
            responses[key]?.array?.contains { $0.string == suffix } == true
        }
        if listed("rejected") { return .rejected }
        return listed("approved") ? .approved : .unanswered
    }

    /// The first answer the state files give for the key ending in `suffix`.
    public func keyAnswer(suffix: String) -> KeyAnswer {
        for file in stateFiles {
            let answer = Self.keyAnswer(FileManager.default.contents(atPath: file), suffix: suffix)
            if answer != .unanswered { return answer }
        }
        return .unanswered
    }

    /// Returns `document` (a state file's bytes, or nil for a missing file) with the trust keys set
    /// for `projectPaths`, and the key ending in `apiKeySuffix` added to
    /// `customApiKeyResponses.approved` (once). Pure; throws ``Failure/notJSON(path:)`` rather than
    /// discard content.
    public static func merged(
        _ document: Data?, projectPaths: [String], apiKeySuffix: String? = nil, file: String = "state file"
    ) throws -> Data {
        var root: [String: JSONValue] = [:]
        if let document, document.contains(where: { !isJSONSpace($0) }) {
            guard let object = JSONValue.parse(document)?.object else { throw Failure.notJSON(path: file) }
            root = object
        }
        if let suffix = apiKeySuffix {
            var responses: [String: JSONValue] = [:]
            if let existing = root["customApiKeyResponses"] {
                guard let object = existing.object else { throw Failure.unexpectedShape(path: file, key: "customApiKeyResponses") }
                responses = object
            }
            var approved = responses["approved"]?.array ?? []
            if !approved.contains(where: { $0.string == suffix }) { approved.append(.string(suffix)) }
            responses["approved"] = .array(approved)
            if responses["rejected"] == nil { responses["rejected"] = .array([]) }
            root["customApiKeyResponses"] = .object(responses)
        }
        root["hasCompletedOnboarding"] = .bool(true)
        root["bypassPermissionsModeAccepted"] = .bool(true)
        var projects: [String: JSONValue] = [:]
        if let existing = root["projects"] {
            guard let object = existing.object else { throw Failure.unexpectedShape(path: file, key: "projects") }
            projects = object
        }
        for path in projectPaths {
            var entry: [String: JSONValue] = [:]
            if let existing = projects[path] {
                guard let object = existing.object else { throw Failure.unexpectedShape(path: file, key: "projects.\(path)") }
                entry = object
            }
            entry["hasTrustDialogAccepted"] = .bool(true)
            entry["hasCompletedProjectOnboarding"] = .bool(true)
            projects[path] = .object(entry)
        }
        root["projects"] = .object(projects)
        var data = try JSONValue.object(root).encoded()
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Read-merge-write of one state file under its lock; creates the file (mode 0600) and its
    /// directory when missing; keeps an existing file's mode; a symlinked file is updated at its target.
    public static func update(file stateFile: String, projectPaths: [String], apiKeySuffix: String? = nil) throws {
        let file = resolved(stateFile) ?? stateFile
        let directory = (file as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let lockFD = open(file + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw Failure.io(path: file + ".lock", operation: "open", errno: errno) }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure.io(path: file + ".lock", operation: "flock", errno: errno) }
        }
        defer { flock(lockFD, LOCK_UN) }

        var mode: mode_t = 0o600
        var existing: Data?
        var info = stat()
        if stat(file, &info) == 0 {
            mode = info.st_mode & 0o7777
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure.io(path: file, operation: "read", errno: errno)
            }
            existing = data
        } else if errno != ENOENT {
            throw Failure.io(path: file, operation: "stat", errno: errno)
        }
        let updated = try merged(existing, projectPaths: projectPaths, apiKeySuffix: apiKeySuffix, file: file)
        try AtomicFile.write(updated, to: file, mode: mode)
    }

    // MARK: - Paths

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func normalized(_ path: String) -> String? {
        guard !path.isEmpty else { return nil }
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    private static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
