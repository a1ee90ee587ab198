import Foundation

/// A key of the API's JSON, by name.
struct LooseKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reading the API's JSON as it comes (spec §3): keys that may be missing or spelled two ways
/// across versions, scalars of whichever JSON type the server chose (session ids are numbers in
/// the docs, strings on the wire), dates as RFC 3339 text or epoch seconds.
extension KeyedDecodingContainer where Key == LooseKey {
    /// The first of `names` present as a string (a number is given as its decimal text).
    func text(_ names: String...) -> String? {
        for name in names {
            let key = LooseKey(name)
            if let s = try? decode(String.self, forKey: key) { return s }
            if let i = try? decode(Int.self, forKey: key) { return String(i) }
            if let d = try? decode(Double.self, forKey: key), d.isFinite { return String(Int(d)) }
        }
        return nil
    }

    func int(_ name: String) -> Int? {
        let key = LooseKey(name)
        if let i = try? decode(Int.self, forKey: key) { return i }
        if let d = try? decode(Double.self, forKey: key), d.isFinite { return Int(d) }
        return (try? decode(String.self, forKey: key)).flatMap { Int($0) }
    }

    func bool(_ name: String) -> Bool? { try? decode(Bool.self, forKey: LooseKey(name)) }

    /// The first of `names` present as a date: RFC 3339 (with or without fractions) or epoch seconds.
    func date(_ names: String...) -> Date? {
        for name in names {
            let key = LooseKey(name)
            if let s = try? decode(String.self, forKey: key) { return JSON.date(s) }
            if let n = try? decode(Double.self, forKey: key) { return Date(timeIntervalSince1970: n) }
        }
        return nil
    }

    func strings(_ name: String) -> [String]? { try? decode([String].self, forKey: LooseKey(name)) }

    func stringMap(_ name: String) -> [String: String]? { try? decode([String: String].self, forKey: LooseKey(name)) }

    func object(_ name: String) -> KeyedDecodingContainer<LooseKey>? {
        try? nestedContainer(keyedBy: LooseKey.self, forKey: LooseKey(name))
    }

    /// A required string, or the decoding error naming it.
    func required(_ name: String) throws -> String {
        guard let value = text(name) else {
            throw DecodingError.keyNotFound(LooseKey(name), .init(codingPath: codingPath, debugDescription: "no \(name)"))
        }
        return value
    }
}

/// One element of a list, decoded on its own: an element the model refuses is left out, not the list.
struct Each<Model: Decodable>: Decodable {
    let value: Model?
    init(from decoder: any Decoder) throws { value = try? Model(from: decoder) }
}

/// A list the server sends bare (`[…]`) or inside an object under the key that names it
/// (`{"sessions": […]}`, `{"checkpoints": …}`, `{"entries": …}`).
struct ListBody<Model: Decodable>: Decodable {
    static var keys: [String] { ["sessions", "checkpoints", "entries", "sprites"] }
    let items: [Model]

    init(from decoder: any Decoder) throws {
        if let bare = try? decoder.singleValueContainer().decode([Each<Model>].self) {
            items = bare.compactMap(\.value)
            return
        }
        let o = try decoder.container(keyedBy: LooseKey.self)
        for key in Self.keys {
            if let list = try? o.decode([Each<Model>].self, forKey: LooseKey(key)) {
                items = list.compactMap(\.value)
                return
            }
        }
        items = []
    }
}

extension JSONDecoder {
    /// Decodes an answer's body as `Model`, or says the answer was not what the API promises.
    static func model<Model: Decodable>(_ type: Model.Type, from bytes: [UInt8]) throws -> Model {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw SpritesError.invalidResponse("not a \(type) (\(bytes.count) bytes): \(error)")
        }
    }
}
