import Foundation
import Testing
@testable import AgentHooks

/// The merge a launch script makes on a remote machine with python3 gives what
/// TrustConfig.merged gives here, and refuses what it refuses, changing nothing then.
@Suite struct TrustMergeScriptTests {
    static let codes: (rejected: Int32, unreadable: Int32, unavailable: Int32) = (83, 84, 82)

    func merge(_ file: String, paths: [String], suffix: String?, path: String? = nil) throws -> (status: Int32, stderr: String) {
        let script = TrustConfig.mergeScript(file: file, projectPaths: paths, apiKeySuffix: suffix, rejected: Self.codes.rejected,
                                             unreadable: Self.codes.unreadable, unavailable: Self.codes.unavailable) + "\necho merged\n"
        var env = ProcessInfo.processInfo.environment
        if let path { env["PATH"] = path }
        let r = try runProcess(["/usr/bin/timeout", "30", "/bin/sh", "-s"], stdin: Data(script.utf8), environment: env)
        if r.status == 0 { #expect(r.stdout == "merged\n") }
        return (r.status, r.stderr)
    }

    @Test func itMergesWhatTheSwiftMergeDoesKeepingEverythingElseAndTheMode() throws {
        let dir = try makeTemporaryDirectory("merge-script")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        let original = #"{"numStartups": 3, "projects": {"/other": {"allowedTools": ["Bash"]}}, "customApiKeyResponses": {"approved": ["k0"]}}"#
        try original.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o640)
        let suffix = "abcdefghij0123456789"
        let r = try merge(file, paths: [dir + "/work/1-x \"quoted\" ü"], suffix: suffix)
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try TrustConfig.merged(Data(original.utf8), projectPaths: [dir + "/work/1-x \"quoted\" ü"], apiKeySuffix: suffix)
        let written = try #require(FileManager.default.contents(atPath: file))
        #expect(JSONValue.parse(written) == JSONValue.parse(expected))
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o640)
        // A second merge changes nothing (the file is not rewritten).
        let inode = info.st_ino
        #expect(try merge(file, paths: [dir + "/work/1-x \"quoted\" ü"], suffix: suffix).status == 0)
        #expect(stat(file, &info) == 0 && info.st_ino == inode)
    }

    @Test func aMissingFileIsCreatedPrivate() throws {
        let dir = try makeTemporaryDirectory("merge-script")
        defer { removeTree(dir) }
        let file = dir + "/home/.claude.json"
        #expect(try merge(file, paths: ["/w"], suffix: nil).status == 0)
        let written = try #require(FileManager.default.contents(atPath: file))
        #expect(JSONValue.parse(written) == JSONValue.parse(try TrustConfig.merged(nil, projectPaths: ["/w"])))
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func aRejectedKeyOrAFileThatIsNotJSONIsRefusedAndLeftAlone() throws {
        let dir = try makeTemporaryDirectory("merge-script")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        let rejecting = #"{"customApiKeyResponses": {"approved": [], "rejected": ["abcdefghij0123456789"]}}"#
        try rejecting.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try merge(file, paths: ["/w"], suffix: "abcdefghij0123456789").status == Self.codes.rejected)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == rejecting)
        try "{not json".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try merge(file, paths: ["/w"], suffix: nil)
        #expect(r.status == Self.codes.unreadable && r.stderr.contains("is not JSON; it was left untouched"), "\(r.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "{not json")
    }

    @Test func withoutPython3ItSaysSoBeforeChangingAnything() throws {
        let dir = try makeTemporaryDirectory("merge-script")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        #expect(try merge(file, paths: ["/w"], suffix: "abcdefghij0123456789", path: dir).status == Self.codes.unavailable)
        #expect(!FileManager.default.fileExists(atPath: file))
    }
}
