import Foundation

/// A value guarded by a lock; the sim's shared mutable state lives in these.
final class Locked<Value> {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// Sendable only when what it guards is: the lock makes access exclusive, not the value shareable.
extension Locked: @unchecked Sendable where Value: Sendable {}
