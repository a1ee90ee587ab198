import Foundation

/// Query-string parsing with repeated keys, `+` as space and percent-decoding
/// (Python's `urlencode` sends `+` for spaces; Hummingbird's parser does not decode it).
struct Query: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ raw: String?) {
        guard let raw, !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(String(kv[0]))
            let value = kv.count > 1 ? Self.decode(String(kv[1])) : ""
            pairs.append((key, value))
        }
    }

    static func decode(_ s: String) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }
    func first(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }
    func bool(_ key: String) -> Bool? {
        guard let v = first(key)?.lowercased() else { return nil }
        return v == "true" || v == "1" || v == "yes"
    }
    func int(_ key: String) -> Int? { first(key).flatMap { Int($0) } }
}

/// Parses durations such as `10s`, `500ms`, `10m`, `1h`, `0` or a bare number of seconds.
func parseDuration(_ s: String?) -> Double? {
    guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, factor) in units where s.hasSuffix(suffix) {
        if let n = Double(s.dropLast(suffix.count)) { return n * factor }
    }
    return Double(s)
}
