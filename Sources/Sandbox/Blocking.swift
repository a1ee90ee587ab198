import Foundation
import Synchronization

/// Runs async work from synchronous code (a command on the main thread) and waits for it.
/// Never call from a task of the cooperative pool.
public func runBlocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let r: Result<T, any Error>
        do { r = .success(try await operation()) } catch { r = .failure(error) }
        box.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    return try box.withLock { $0! }.get()
}
