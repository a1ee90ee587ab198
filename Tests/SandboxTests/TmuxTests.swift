import Foundation
import Testing
@testable import Sandbox

@Suite(.serialized) struct TmuxTests {
    /// Waits until `pane` shows `marker` (the pane's program is ready for input).
    func waitFor(_ marker: String, in pane: String, _ tmux: Tmux) async throws -> Bool {
        try await eventually { try await tmux.capturePane(pane: pane).contains(marker) }
    }

    func fileText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @Test func sessionWindowsAndPanes() async throws {
        try await withTmuxFixture { fixture in
            let tmux = fixture.tmux
            #expect(try await !tmux.hasSession())
            #expect(try await !tmux.paneExists("%0"))
            try await tmux.ensureSession()
            try await tmux.ensureSession()
            #expect(try await tmux.hasSession())
            let size = try await tmux.tmux(["display-message", "-p", "-t", "task:", "#{window_width}x#{window_height} #{remain-on-exit}"])
            #expect(size.stdoutText == "200x50 off\n")

            let pane = try await tmux.newWindow(name: "t1", cwd: fixture.dir, command: ["sh", "-c", "pwd; echo hello-capture; exec tail -f /dev/null"])
            #expect(pane.hasPrefix("%"))
            #expect(try await tmux.paneExists(pane))
            #expect(try await waitFor("hello-capture", in: pane, tmux))
            let resolved = URL(fileURLWithPath: fixture.dir).resolvingSymlinksInPath().path
            #expect(try await tmux.capturePane(pane: pane).contains(resolved))
            try await tmux.killWindow(pane: pane)
            #expect(try await !tmux.paneExists(pane))

            // remain-on-exit off: a window whose command ends goes away by itself.
            let short = try await tmux.newWindow(name: "t2", command: ["sh", "-c", "sleep 0.2"])
            #expect(try await eventually { try await !tmux.paneExists(short) })
            #expect(try await tmux.hasSession())

            #expect(tmux.attachCommand(pane: pane) == ["env", "-u", "TMUX", "tmux", "-L", tmux.socket, "-f", "/dev/null", "attach-session", "-t", pane])
            let socketPath = try await tmux.tmux(["display-message", "-p", "#{socket_path}"]).stdoutText.trimmingCharacters(in: .newlines)
            #expect(FileManager.default.fileExists(atPath: socketPath))
            await fixture.tearDown()
            #expect(try await !tmux.hasSession())
            #expect(!FileManager.default.fileExists(atPath: socketPath))
        }
    }

    @Test func commandWordsEndingInSemicolonSurvive() async throws {
        try await withTmuxFixture { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/args"
            _ = try await fixture.tmux.newWindow(name: "semi", command: ["sh", "-c", "printf '%s|' \"$@\" > '\(out)'", "sh", "a;", ";", "b"])
            #expect(await eventually { fileText(out) == "a;|;|b|" })
        }
    }

    @Test func sendTextSingleLineWithSemicolonAndLeadingDash() async throws {
        try await withTmuxFixture { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/out"
            let pane = try await fixture.tmux.newWindow(name: "cat", command: ["sh", "-c", "echo READY; exec cat > '\(out)'"])
            #expect(try await waitFor("READY", in: pane, fixture.tmux))
            let texts = ["ends with semicolon;", "-n starts with a dash", ";", "Enter Escape C-c are words", "quote's \"$(x)\" `y` \\;"]
            for text in texts {
                try await fixture.tmux.sendText(pane: pane, text: text)
            }
            let expected = texts.map { $0 + "\n" }.joined()
            #expect(await eventually { fileText(out) == expected })
            #expect(fileText(out) == expected)
        }
    }

    @Test func sendTextMultiLineUsesPaste() async throws {
        try await withTmuxFixture { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/out"
            let pane = try await fixture.tmux.newWindow(name: "cat", command: ["sh", "-c", "echo READY; exec cat > '\(out)'"])
            #expect(try await waitFor("READY", in: pane, fixture.tmux))
            try await fixture.tmux.sendText(pane: pane, text: "line one\n-line two;\r\nline three;\n\n")
            #expect(await eventually { fileText(out) == "line one\n-line two;\nline three;\n" })
        }
    }

    /// A program that turned on bracketed paste (as Claude does) gets the text wrapped in
    /// ESC[200~ … ESC[201~ and the Enter after it, separately.
    @Test func multiLineIsABracketedPasteFollowedByEnter() async throws {
        try await withTmuxFixture(enterDelay: .milliseconds(300)) { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/raw"
            let pane = try await fixture.tmux.newWindow(
                name: "raw", command: ["sh", "-c", "stty raw -echo; printf '\\033[?2004hREADY'; exec cat > '\(out)'"])
            #expect(try await waitFor("READY", in: pane, fixture.tmux))
            try await fixture.tmux.sendText(pane: pane, text: "a\nb;")
            #expect(await eventually { fileText(out).hasSuffix("\r") })
            #expect(fileText(out) == "\u{1B}[200~a\rb;\u{1B}[201~\r")
        }
    }

    @Test func sendsToOnePaneAreSerialised() async throws {
        try await withTmuxFixture(enterDelay: .milliseconds(40)) { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/out"
            let pane = try await fixture.tmux.newWindow(name: "cat", command: ["sh", "-c", "echo READY; exec cat > '\(out)'"])
            #expect(try await waitFor("READY", in: pane, fixture.tmux))
            let tmux = fixture.tmux
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    group.addTask { try await tmux.sendText(pane: pane, text: "message number \(index)") }
                }
                try await group.waitForAll()
            }
            let expected = Set((0..<6).map { "message number \($0)" })
            #expect(await eventually { Set(fileText(out).split(separator: "\n").map(String.init)) == expected })
            #expect(fileText(out).split(separator: "\n", omittingEmptySubsequences: false).count == 7)
        }
    }

    @Test func sendKeysSendsKeyNames() async throws {
        try await withTmuxFixture { fixture in
            try await fixture.tmux.ensureSession()
            let out = fixture.dir + "/out"
            let pane = try await fixture.tmux.newWindow(
                name: "keys", command: ["sh", "-c", "trap 'echo INT >> \(out); exit 0' INT; echo READY; while :; do sleep 0.05; done"])
            #expect(try await waitFor("READY", in: pane, fixture.tmux))
            try await fixture.tmux.sendKeys(pane: pane, keys: ["C-c"])
            #expect(await eventually { fileText(out) == "INT\n" })
        }
    }

    @Test func userConfigurationIsNotLoaded() async throws {
        let home = try makeTemporaryDirectory("home")
        defer { removeTree(home) }
        try "set -g status-left USERCONF\n".write(toFile: home + "/.tmux.conf", atomically: true, encoding: .utf8)
        let socket = "task-test-\(UUID().uuidString.prefix(12))"
        for configFile in ["/dev/null", nil] as [String?] {
            let tmux = Tmux(sandbox: LocalSandbox(environment: ["HOME": home, "XDG_CONFIG_HOME": home]), socket: socket, configFile: configFile)
            try await tmux.ensureSession()
            let statusLeft = try await tmux.tmux(["show-options", "-g", "-v", "status-left"]).stdoutText
            #expect(statusLeft.contains("USERCONF") == (configFile == nil))
            try await tmux.killServer()
        }
    }

    @Test func errorsCarryTmuxMessage() async throws {
        try await withTmuxFixture { fixture in
            try await fixture.tmux.ensureSession()
            await #expect(throws: Tmux.Failure.self) { try await fixture.tmux.killWindow(pane: "%999999") }
        }
    }
}
