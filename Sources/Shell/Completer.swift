import TaskCore

/// Tab completion for a `task>` line: command names, subcommands, flags, task ids (listed with
/// their titles), project names, statuses, setting keys and values. Built on `CommandModel`.
struct Completer {
    struct Candidate: Equatable {
        var word: String
        var display: String
    }

    /// Looks up task ids and projects; nil when the store cannot be opened.
    let store: () -> TaskStore?
    /// Asks the sprite for checkpoint or session ids (`checkpoint`, `session`); empty when it cannot.
    var remote: (String) -> [Candidate] = { _ in [] }

    func action(for text: String) -> CompletionAction {
        let (done, current) = Self.split(text)
        let candidates = self.candidates(done: done, current: current).filter { $0.word.hasPrefix(current) }
        guard !candidates.isEmpty else { return .none }
        if candidates.count == 1 {
            let rest = String(candidates[0].word.dropFirst(current.count))
            return .insert(rest + " ")
        }
        let common = Self.commonPrefix(candidates.map(\.word))
        if common.count > current.count {
            return .insert(String(common.dropFirst(current.count)))
        }
        return .list(Self.layout(candidates))
    }

    /// Words already complete, and the word being typed.
    static func split(_ text: String) -> ([String], String) {
        let parsed = (try? Tokenizer.commands(text))?.last
        let words = parsed ?? text.split(separator: " ").map(String.init)
        if text.isEmpty || text.last == ";" { return ([], "") }
        if text.last == " " { return (words, "") }
        return (Array(words.dropLast()), words.last ?? "")
    }

    func candidates(done: [String], current: String) -> [Candidate] {
        let root = CommandModel.root
        guard let first = done.first else {
            return root.topLevelNames.map { Candidate(word: $0, display: $0) }
        }
        if first == "help" {
            return done.count == 1 ? (root.subcommands ?? []).map { Candidate(word: $0.commandName, display: $0.commandName) } : []
        }
        guard var model = root.subcommand(named: first) else { return [] }
        var rest = done.dropFirst()
        if let subs = model.subcommands, !subs.isEmpty {
            guard let next = rest.first else {
                return subs.map { Candidate(word: $0.commandName, display: "\($0.commandName)  \($0.abstract ?? "")") }
            }
            guard let sub = model.subcommand(named: next) else { return [] }
            model = sub
            rest = rest.dropFirst()
        }
        let args = model.arguments ?? []
        if current.hasPrefix("-") {
            return args.filter { !$0.isPositional }.flatMap(\.flags).map { Candidate(word: $0, display: $0) }
        }
        // The value of an option just typed?
        if let last = rest.last, let opt = args.first(where: { $0.takesValue && $0.flags.contains(last) }) {
            return values(for: opt, words: Array(rest))
        }
        // Otherwise the next positional argument.
        var positionalIndex = 0
        var skipNext = false
        for w in rest {
            if skipNext { skipNext = false; continue }
            if w.hasPrefix("-") {
                skipNext = args.contains { $0.takesValue && $0.flags.contains(w) }
                continue
            }
            positionalIndex += 1
        }
        let positionals = args.filter(\.isPositional)
        guard positionalIndex < positionals.count else { return [] }
        return values(for: positionals[positionalIndex], words: Array(rest))
    }

    func values(for arg: CommandModel.Argument, words: [String]) -> [Candidate] {
        if let all = arg.allValues, !all.isEmpty { return all.map { Candidate(word: $0, display: $0) } }
        switch arg.valueName {
        case "id":
            guard let tasks = try? store()?.listTasks(TaskFilter(includeFinished: true)) else { return [] }
            return tasks.map { Candidate(word: String($0.id), display: "\($0.id)  \($0.title)  (\($0.status.rawValue))") }
        case "project":
            guard let ps = try? store()?.projects() else { return [] }
            return ps.map { Candidate(word: $0.name, display: "\($0.name)  \($0.path)") }
        case "checkpoint", "session":
            return remote(arg.valueName ?? "")
        case "sprite":
            return Completions.poolNames(store()).map { Candidate(word: $0, display: $0) }
        case "status":
            return TaskStatus.allCases.map { Candidate(word: $0.rawValue, display: $0.rawValue) }
        case "key":
            return Settings.all.map { Candidate(word: $0.key, display: "\($0.key)  \($0.summary)") }
        case "value":
            // config set <key> <value>
            guard let key = words.first(where: { !$0.hasPrefix("-") }), let def = try? Settings.definition(key) else {
                return []
            }
            return def.suggestions.map { Candidate(word: $0, display: $0) }
        default:
            return []
        }
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for w in words.dropFirst() {
            while !w.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    static func layout(_ candidates: [Candidate]) -> [String] {
        candidates.map(\.display)
    }
}
