import Foundation
import Synchronization
import TaskCore

/// What a shell keeps running while it is open: a tail of the local hook log, and the live
/// session over the pool of sprites — while any task is queued or running on a sprite, one
/// stream tails that sprite's hook log from the stored offset and stores what it reads; when the stream drops (network, a pause,
/// a fault) it reconnects with backoff and jitter and resumes from the stored offset, so every
/// event is stored exactly once. What it has to tell the user (`sprite NAME: live`,
/// `sprite NAME: reconnecting… (reason)`, a pulled branch, a notice) goes to `say`, one line each;
/// the shell prints those above its prompt. Events themselves reach the screen from the store.
public final class LiveSession: Sendable {
    let runner: TaskRunner
    let say: @Sendable (String) -> Void
    private let running = Mutex<[Task<Void, Never>]>([])

    public init(runner: TaskRunner, say: @escaping @Sendable (String) -> Void) {
        self.runner = runner
        self.say = say
    }

    public func start() {
        var tasks = [localTail()]
        if runner.hasSprite { tasks.append(spriteStreams()) }
        running.withLock { $0 += tasks }
    }

    /// Ends the streams (and the processes they run), waiting up to `timeout` for them.
    public func stop(timeout: Double = 1) {
        let tasks = running.withLock { current in
            defer { current.removeAll() }
            return current
        }
        tasks.forEach { $0.cancel() }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            for task in tasks { _ = await task.value }
            done.signal()
        }
        _ = done.wait(timeout: .now() + timeout)
    }

    /// Tails the local hook log: each event is stored (with its status change); finished tasks
    /// free slots for queued ones. A tail ends by itself when the log is rotated: the next one
    /// reads the new file.
    func localTail() -> Task<Void, Never> {
        let (runner, say) = (self.runner, self.say)
        return Task.detached {
            while !Task.isCancelled {
                do {
                    let tail = try await runner.liveTail()
                    for try await batch in tail.lines() {
                        guard let last = batch.last else { continue }
                        try await runner.ingestLive(batch, committed: last.endOffset, tail: tail)
                    }
                    for notice in runner.takeNotices() { say("task: " + notice) }
                    continue
                } catch is HookLogMoved {
                    continue
                } catch {
                    if Task.isCancelled { return }
                    say("task: hook log: \(error); retrying")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One stream per sprite of the pool with tasks placed on it, each reconnecting on its own;
    /// a stream ends when its sprite has no task left, and starts again when one is placed there.
    func spriteStreams() -> Task<Void, Never> {
        let (runner, say) = (self.runner, self.say)
        let store = runner.store
        return Task.detached {
            // `run --pull` tasks that ended while no shell was open (a one-shot command stored their end).
            for line in await runner.pullFinished() { say(line) }
            let streaming = Streaming()
            await withTaskGroup(of: Void.self) { group in
                while !Task.isCancelled {
                    let active = (try? store.activeSites(sandbox: SiteKind.sprite.rawValue)) ?? [:]
                    for name in active.keys.sorted() where streaming.names.withLock({ $0.insert(name).inserted }) {
                        group.addTask {
                            await Self.spriteStream(name, runner: runner, say: say)
                            streaming.names.withLock { _ = $0.remove(name) }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(250))
                }
                group.cancelAll()
            }
        }
    }

    /// Seconds before reconnecting after `failures` failed attempts in a row: a stream that was
    /// live and dropped is reopened at once (a drop is usually one connection's, and every line
    /// appended meanwhile waits for it); then 0.1 s doubling to 10 s, each with ±50 % jitter so
    /// many sprites do not come back in step.
    static func backoff(afterFailures failures: Int) -> Double {
        guard failures > 1 else { return 0 }
        return min(10, 0.1 * pow(2, Double(min(failures, 9) - 2))) * Double.random(in: 0.5...1.5)
    }

    /// The stream of sprite `name`'s hook log while tasks are placed there: after a drop it
    /// reconnects with backoff and jitter, saying so (`sprite NAME: reconnecting… (reason)`, then
    /// `sprite NAME: live`).
    static func spriteStream(_ name: String, runner: TaskRunner, say: @escaping @Sendable (String) -> Void) async {
        let store = runner.store
        var failures = 0
        var needsCatchUp = true
        var state = "idle"
        var liveSince: Date?
        var delivered = false
        func announce(_ new: String, _ text: String) {
            guard new != state else { return }
            state = new
            say("sprite \(name): " + text)
        }
        while !Task.isCancelled {
            guard ((try? store.activeSites(sandbox: SiteKind.sprite.rawValue)[name]) ?? 0) > 0 else { return }
            var reason = "the stream ended"
            var source: String?
            do {
                let site = try await runner.site(named: name)
                source = site.source
                // After a drop the stored state still names the file; after a tail that ended
                // by itself (the log moved), catch up first so the next one reads the new file.
                let tail = try await runner.liveTail(site: site, catchUp: needsCatchUp)
                for try await batch in tail.lines() {
                    guard let last = batch.last else {
                        runner.setLive(site.source, true)
                        liveSince = Date()
                        announce("live", "live")
                        for line in await runner.reconcile(site: site) { say(line) }
                        continue
                    }
                    try await runner.ingestLive(batch, committed: last.endOffset, tail: tail, source: site.source)
                    delivered = true
                    if batch.contains(where: { $0.record.event == "AgentExit" }) {
                        for line in await runner.pullFinished() { say(line) }
                    }
                }
                needsCatchUp = true
            } catch {
                reason = "\(error)"
                needsCatchUp = error is HookLogMoved
            }
            if let source { runner.setLive(source, false) }
            if Task.isCancelled { return }
            guard ((try? store.activeSites(sandbox: SiteKind.sprite.rawValue)[name]) ?? 0) > 0 else { return }
            announce("reconnecting", "reconnecting… (\(reason))")
            // A stream that brought lines, or was live a while, was healthy; one dropped at once
            // without a line was not (a server that accepts and drops every time is not hammered).
            if delivered || liveSince.map({ Date().timeIntervalSince($0) >= 1 }) == true { failures = 0 }
            (liveSince, delivered) = (nil, false)
            failures += 1
            try? await Task.sleep(for: .seconds(Self.backoff(afterFailures: failures)))
        }
    }
}

/// The sprites whose stream runs.
private final class Streaming: Sendable {
    let names = Mutex<Set<String>>([])
}
