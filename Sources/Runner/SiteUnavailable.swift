import Foundation
import Sandbox

/// A site that cannot take a task now but will later: the Sprites account's limit on sprites at
/// once is reached, or creating sprites is rate-limited. The task waits `queued` with the reason
/// and is tried again after `retryAfter` seconds (by the next command or shell that looks).
public struct SiteUnavailable: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var retryAfter: Double

    public init(reason: String, retryAfter: Double) {
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var description: String { reason }

    /// `error` when it says the site will take the task later (this, or a sandbox's
    /// ``SandboxError/unavailable(_:retryAfter:)``).
    static func from(_ error: any Error) -> SiteUnavailable? {
        if let wait = error as? SiteUnavailable { return wait }
        if case SandboxError.unavailable(let reason, let after)? = error as? SandboxError {
            return SiteUnavailable(reason: reason, retryAfter: after)
        }
        return nil
    }

    /// The status detail of a task waiting for the site.
    var detail: String { "waiting for a sprite: \(reason)" }
}
