import Foundation
import Synchronization

/// What one model costs, in US dollars per million tokens.
public struct ModelPrice: Sendable, Equatable {
    public var input: Double
    public var output: Double
    /// Writing the prompt cache (5-minute entries).
    public var cacheWrite: Double
    public var cacheRead: Double

    public init(input: Double, output: Double, cacheWrite: Double, cacheRead: Double) {
        self.input = input
        self.output = output
        self.cacheWrite = cacheWrite
        self.cacheRead = cacheRead
    }

    /// The cost of these token counts.
    public func cost(input i: Int64, output o: Int64, cacheWrite w: Int64, cacheRead r: Int64) -> Double {
        (Double(i) * input + Double(o) * output + Double(w) * cacheWrite + Double(r) * cacheRead) / 1_000_000
    }
}

/// Prices per model, matched by the longest prefix of the model id (`claude-sonnet-4-5` prices
/// `claude-sonnet-4-5-20250929`). A model no prefix matches costs 0 and is reported as unpriced.
public struct PriceTable: Sendable, Equatable {
    public var entries: [String: ModelPrice]

    public init(entries: [String: ModelPrice]) { self.entries = entries }

    /// Anthropic's public list prices for the Claude 4.x family (and the 3.x models still served),
    /// per million tokens: input, output, cache write (5 min), cache read.
    public static let builtIn = PriceTable(entries: [
        "claude-opus-4-5": ModelPrice(input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.50),
        "claude-opus-4-1": ModelPrice(input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.50),
        "claude-opus-4": ModelPrice(input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.50),
        "claude-sonnet-4-5": ModelPrice(input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.30),
        "claude-sonnet-4": ModelPrice(input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.30),
        "claude-haiku-4-5": ModelPrice(input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.10),
        "claude-3-7-sonnet": ModelPrice(input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.30),
        "claude-3-5-haiku": ModelPrice(input: 0.80, output: 4, cacheWrite: 1, cacheRead: 0.08),
    ])

    /// The price of `model`, nil when unpriced.
    public func price(of model: String) -> ModelPrice? {
        var best: (Int, ModelPrice)?
        for (prefix, price) in entries where model.hasPrefix(prefix) {
            if best == nil || prefix.count > best!.0 { best = (prefix.count, price) }
        }
        return best?.1
    }

    /// The built-in table with `$TASK_HOME/prices.json` laid over it: an object of model-id
    /// prefixes, each `{"input": 3, "output": 15, "cache_write": 3.75, "cache_read": 0.3}`
    /// (dollars per million tokens). Returns the table and, when the file is malformed, what is
    /// wrong (the built-in table is used then).
    public static func load(file: String) -> (PriceTable, problem: String?) {
        guard let data = FileManager.default.contents(atPath: file) else { return (builtIn, nil) }
        func bad(_ why: String) -> (PriceTable, problem: String?) {
            (builtIn, "\(file) is malformed (\(why)); using the built-in prices")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return bad("not JSON") }
        guard let models = object as? [String: Any] else { return bad("not an object of model prefixes") }
        var table = builtIn
        for (prefix, value) in models {
            guard let fields = value as? [String: Any] else { return bad("\(prefix): not an object") }
            func number(_ key: String, _ fallback: Double?) -> Double? {
                if let n = fields[key] as? NSNumber, n.doubleValue >= 0 { return n.doubleValue }
                return fields[key] == nil ? fallback : nil
            }
            guard let input = number("input", nil), let output = number("output", nil),
                  let write = number("cache_write", input * 1.25), let read = number("cache_read", input * 0.1)
            else { return bad("\(prefix): needs input and output (and optional cache_write, cache_read) as numbers ≥ 0") }
            table.entries[prefix] = ModelPrice(input: input, output: output, cacheWrite: write, cacheRead: read)
        }
        return (table, nil)
    }

    private static let loaded = Mutex<[String: Bool]>([:])

    /// ``load(file:)`` for this process: the problem with a malformed file is returned once per
    /// process (the caller reports it), later calls get the table alone.
    public static func current(home: String) -> (PriceTable, problem: String?) {
        let file = (home as NSString).appendingPathComponent("prices.json")
        let (table, problem) = load(file: file)
        guard let problem else { return (table, nil) }
        let first = loaded.withLock { seen in
            defer { seen[file] = true }
            return seen[file] == nil
        }
        return (table, first ? problem : nil)
    }
}
