import ArgumentParser
import Foundation
import TaskCore

/// The program: reads the global options, then runs one command, a script, or the shell.
public enum TaskMain {
    struct Globals {
        var database: String?
        var commands: String?
        var noColor = false
        var quiet = false
        var local = false
    }

    static let builtInRequests: Set<String> = [
        "---completion", "--generate-completion-script", "--experimental-dump-help", "-h", "--help", "--version",
    ]

    public static func run(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // A parent may have left signals blocked (test runners do); the shell needs SIGINT.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        var args = Array(arguments.dropFirst())[...]
        if let first = args.first, builtInRequests.contains(where: { first == $0 || first.hasPrefix($0 + "=") }) {
            return runBuiltIn(Array(args))
        }
        var g = Globals()
        do {
            try parseGlobals(&args, into: &g)
        } catch {
            FileHandle.standardError.write(Data("task: \(error)\n".utf8))
            return 64
        }
        let interactive = args.isEmpty && g.commands == nil && isatty(0) == 1 && isatty(1) == 1
        let paths = TaskPaths.resolve(environment: environment, databaseOverride: g.database)
        let ctx = CommandContext(
            paths: paths, environment: environment, out: Output(fd: 1), err: Output(fd: 2),
            style: Style.detect(fd: 1, environment: environment, forceOff: g.noColor || (!interactive && args.isEmpty)),
            interactive: interactive)
        ctx.preferLocal = g.local
        let dispatcher = Dispatcher(ctx)
        if !args.isEmpty { return dispatcher.run(Array(args)) }
        if let commands = g.commands { return ScriptRunner(dispatcher: dispatcher).run(text: commands) }
        if interactive, let repl = Repl(dispatcher: dispatcher, quiet: g.quiet) { return repl.run() }
        return ScriptRunner(dispatcher: dispatcher).runStandardInput()
    }

    /// Takes the options that come before the command.
    static func parseGlobals(_ args: inout ArraySlice<String>, into g: inout Globals) throws {
        func value(_ name: String) throws -> String {
            args.removeFirst()
            guard let v = args.first else { throw TaskError.usage("\(name) needs a value") }
            return v
        }
        while let a = args.first, a.hasPrefix("-") {
            switch a {
            case "--db": g.database = try value(a)
            case "-c": g.commands = try value(a)
            case "--no-color": g.noColor = true
            case "-q", "--quiet": g.quiet = true
            case "--local": g.local = true
            case "--": args.removeFirst(); return
            default:
                if a.hasPrefix("--db=") {
                    g.database = String(a.dropFirst(5))
                } else {
                    throw TaskError.usage("unknown option \(a) (see: task --help)")
                }
            }
            args.removeFirst()
        }
        if g.database?.isEmpty == true { throw TaskError.usage("--db needs a path") }
    }

    /// --help, --version, completion scripts and ArgumentParser's own requests.
    static func runBuiltIn(_ args: [String]) -> Int32 {
        do {
            _ = try TaskCLI.parseAsRoot(args)
            print(TaskCLI.helpMessage())
            return 0
        } catch {
            let code = TaskCLI.exitCode(for: error).rawValue
            let message = TaskCLI.fullMessage(for: error)
            if code == 0 {
                print(message)
            } else {
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            return code
        }
    }
}
