import Foundation
import Testing
@testable import AgentHooks

@Suite struct TrustConfigTests {
    func readObject(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func project(_ root: [String: Any], _ path: String) -> [String: Any]? {
        (root["projects"] as? [String: Any])?[path] as? [String: Any]
    }

    @Test func roundTripPreservesUnrelatedKeys() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        let original = #"""
            {"numStartups": 42, "lastCost": 0.30000000000000004, "userID": "abc", "tipsHistory": {"a": 1},
             "nested": {"deep": [1, 2.5, true, null, "x"]}, "hasCompletedOnboarding": false,
             "big": 9007199254740993, "tiny": -1.5e-7, "text": "ünï/\"x\u0001", "one": 1.0,
             "projects": {"/other": {"allowedTools": ["Bash"], "hasTrustDialogAccepted": false, "history": [{"display": "hi"}]},
                          "/work/repo": {"mcpServers": {"s": {"command": "x"}}}}}
            """#
        try original.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o640)
        try TrustConfig(stateFiles: [file]).trust(projectPaths: ["/work/repo", "/work/new"])

        // Every key we do not own survives unchanged, down to the last digit of a double.
        let before = try #require(JSONValue.parse(Data(original.utf8))?.object)
        let written = try #require(FileManager.default.contents(atPath: file))
        let after = try #require(JSONValue.parse(written)?.object)
        for key in before.keys where key != "hasCompletedOnboarding" && key != "projects" && key != "one" {
            #expect(after[key] == before[key], "\(key)")
        }
        #expect(after["one"]?.double == 1)
        #expect(after["text"] == .string("ünï/\"x\u{1}"))
        #expect(after["big"] == .int(9007199254740993))
        #expect(after["lastCost"] == .double(0.30000000000000004))

        let root = try readObject(file)
        #expect(root["numStartups"] as? Int == 42)
        #expect(root["userID"] as? String == "abc")
        #expect((root["tipsHistory"] as? [String: Any])?["a"] as? Int == 1)
        let deep = (root["nested"] as? [String: Any])?["deep"] as? [Any]
        #expect(deep?.count == 5)
        #expect(root["hasCompletedOnboarding"] as? Bool == true)
        #expect(root["bypassPermissionsModeAccepted"] as? Bool == true)
        let other = try #require(project(root, "/other"))
        #expect(other["hasTrustDialogAccepted"] as? Bool == false)
        #expect((other["allowedTools"] as? [String]) == ["Bash"])
        let repo = try #require(project(root, "/work/repo"))
        #expect(repo["hasTrustDialogAccepted"] as? Bool == true)
        #expect(repo["hasCompletedProjectOnboarding"] as? Bool == true)
        #expect(repo["mcpServers"] != nil)
        #expect(project(root, "/work/new")?["hasTrustDialogAccepted"] as? Bool == true)

        var info = stat()
        stat(file, &info)
        #expect(info.st_mode & 0o777 == 0o640)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp.") }
        #expect(leftovers.isEmpty)
    }

    @Test func createsMissingFileWithPrivateMode() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let file = dir + "/config/.claude.json"
        try TrustConfig(stateFiles: [file]).trust(projectPaths: ["/p"])
        let root = try readObject(file)
        #expect(project(root, "/p")?["hasTrustDialogAccepted"] as? Bool == true)
        var info = stat()
        stat(file, &info)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func refusesToClobberInvalidJSON() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        for content in ["{\"half\": ", "[1,2]", "garbage"] {
            try content.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: TrustConfig.Failure.notJSON(path: file)) {
                try TrustConfig(stateFiles: [file]).trust(projectPaths: ["/p"])
            }
            #expect(try String(contentsOfFile: file, encoding: .utf8) == content)
        }
        try #"{"projects": []}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: TrustConfig.Failure.unexpectedShape(path: file, key: "projects")) {
            try TrustConfig.update(file: file, projectPaths: ["/p"])
        }
    }

    @Test func emptyFileIsTreatedAsEmptyObject() throws {
        let data = try TrustConfig.merged(Data("  \n".utf8), projectPaths: ["/x"])
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(root["hasCompletedOnboarding"] as? Bool == true)
    }

    @Test func projectPathsIncludeResolvedFormsAndRepositoryRoot() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let real = dir + "/real", link = dir + "/link", root = dir + "/root"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let resolvedDir = try #require(realpath(dir, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) })
        let paths = TrustConfig.projectPaths(directory: link + "/", repositoryRoot: root)
        #expect(paths == [link, resolvedDir + "/real", root] + (resolvedDir == dir ? [] : [resolvedDir + "/root"]))
    }

    @Test func stateFileCandidates() {
        #expect(TrustConfig.stateFiles(home: "/home/u", claudeConfigDir: nil) == ["/home/u/.claude.json"])
        #expect(TrustConfig.stateFiles(home: "/home/u/", claudeConfigDir: "") == ["/home/u/.claude.json"])
        #expect(TrustConfig.stateFiles(home: "/home/u", claudeConfigDir: "/cfg") == ["/home/u/.claude.json", "/cfg/.claude.json"])
    }

    @Test func symlinkedStateFileStaysASymlink() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let target = dir + "/dotfiles-claude.json", link = dir + "/.claude.json"
        try #"{"keep": 1}"#.write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try TrustConfig(stateFiles: [link]).trust(projectPaths: ["/p"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try readObject(target)["keep"] as? Int == 1)
        #expect(project(try readObject(target), "/p") != nil)
    }

    /// Parallel updaters (threads of this process, each taking the flock) must not lose each other's writes.
    @Test func concurrentUpdatesAreAllKept() throws {
        let dir = try makeTemporaryDirectory("trust")
        defer { removeTree(dir) }
        let file = dir + "/.claude.json"
        try #"{"keep": "me"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        try onParallelThreads(count: 16) { index in
            try TrustConfig.update(file: file, projectPaths: ["/p\(index)"])
        }
        let root = try readObject(file)
        #expect(root["keep"] as? String == "me")
        #expect((root["projects"] as? [String: Any])?.count == 16)
    }
}
