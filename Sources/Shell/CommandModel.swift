import ArgumentParser
import Foundation

/// The command tree as ArgumentParser describes it (`--experimental-dump-help`), read once:
/// names, aliases, subcommands and arguments. Completion and help are built from it, so each
/// command is defined only once, in Commands.swift.
struct CommandModel: Decodable, Sendable {
    struct Name: Decodable, Sendable {
        var kind: String
        var name: String
        var flag: String { kind == "long" || kind == "longWithSingleDash" ? (kind == "long" ? "--" : "-") + name : "-" + name }
    }

    struct Argument: Decodable, Sendable {
        var kind: String  // positional, option, flag
        var names: [Name]?
        var valueName: String?
        var shouldDisplay: Bool
        var allValues: [String]?
        var abstract: String?

        var isPositional: Bool { kind == "positional" }
        var takesValue: Bool { kind == "option" }
        var flags: [String] { (names ?? []).map(\.flag) }
    }

    var commandName: String
    var aliases: [String]?
    var abstract: String?
    var subcommands: [CommandModel]?
    var arguments: [Argument]?

    var allNames: [String] { [commandName] + (aliases ?? []) }

    func subcommand(named n: String) -> CommandModel? {
        subcommands?.first { $0.allNames.contains(n) }
    }

    /// The model of `task`, from ArgumentParser's own description of TaskCLI.
    static let root: CommandModel = {
        struct Dump: Decodable { var command: CommandModel }
        do {
            _ = try TaskCLI.parseAsRoot(["--experimental-dump-help"])
        } catch {
            let text = TaskCLI.fullMessage(for: error)
            if let data = text.data(using: .utf8), let dump = try? JSONDecoder().decode(Dump.self, from: data) {
                return dump.command.filtered()
            }
        }
        return CommandModel(commandName: "task")
    }()

    /// Drops ArgumentParser's built-in help subcommand and hidden arguments.
    func filtered() -> CommandModel {
        var m = self
        m.subcommands = subcommands?.filter { $0.commandName != "help" }.map { $0.filtered() }
        m.arguments = arguments?.filter(\.shouldDisplay)
        return m
    }

    /// Every name a user may type as the first word (plus the shell's own `help`).
    var topLevelNames: [String] {
        (subcommands ?? []).flatMap(\.allNames) + ["help"]
    }
}
