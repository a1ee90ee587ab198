import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes processes that open a database lacking migrations at the same moment take turns.
///
/// GRDB's migrator reads which migrations are applied before it opens each one's transaction, so
/// two processes starting on a new (or older) database would both apply the first missing one and
/// the second would fail ("duplicate column name"); two making a new database at once could find
/// it half made ("database is locked"). The lock is `flock` on a file beside the database, held
/// while making or migrating it and removed after; a holder checks that the file it locked is
/// still the one at the path (a predecessor may have removed it meanwhile).
enum MigrationLock {
    /// How long a process waits for another's migration before saying so.
    static let patience: Double = 60

    /// Whether opening the database at `databasePath` must wait its turn: it does not exist yet
    /// (it is to be made), or another process holds the lock (it is making or migrating it).
    /// Looked at in this order, so a database made meanwhile is seen with its maker's lock.
    static func mayBeNeeded(beside databasePath: String) -> Bool {
        !FileManager.default.fileExists(atPath: databasePath) || FileManager.default.fileExists(atPath: lockPath(databasePath))
    }

    static func lockPath(_ databasePath: String) -> String { databasePath + "-migrating" }

    static func holding<T>(beside databasePath: String, _ body: () throws -> T) throws -> T {
        let path = lockPath(databasePath)
        let fd = try acquire(path)
        defer {
            unlink(path)
            close(fd)
        }
        return try body()
    }

    private static func acquire(_ path: String) throws -> Int32 {
        let deadline = Date().addingTimeInterval(patience)
        while true {
            let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw TaskError.failed("cannot create \(path) to update the database's schema: \(String(cString: strerror(errno)))")
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                var held = stat(), current = stat()
                if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_dev == current.st_dev, held.st_ino == current.st_ino {
                    return fd
                }
            }
            close(fd)
            guard Date() < deadline else {
                throw TaskError.failed(
                    "another task process has been updating the database's schema for \(Int(patience)) s (\(path) is locked); "
                        + "if none is running, remove that file")
            }
            usleep(20_000)
        }
    }
}
