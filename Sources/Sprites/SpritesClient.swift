// Sprites — a client for the Fly.io Sprites API (REST over libcurl, exec over WebSocket).
//
// API overview
// ------------
//     let client = try SpritesClient.fromEnvironment(configDirectory: "~/.config/task")
//     // or SpritesClient(baseURL: "http://127.0.0.1:8080", token: "…")
//
//     // Sprites
//     let s = try await client.createSprite(SpriteSpec(name: "task-42"))
//     try await client.getSprite("task-42"); try await client.listSprites(prefix: "task-")
//     try await client.updateSprite("task-42", SpriteUpdate(labels: ["x"])); try await client.deleteSprite("task-42")
//
//     // Run a command to completion (stdout, stderr, exit status)
//     let r = try await client.run("task-42", ["sh", "-c", "echo hi"])      // r.exitCode, r.stdoutText
//     // Long-lived streams and interactive sessions
//     let x = try await client.exec("task-42", ExecCommand(["tail", "-F", "log"]))
//     for try await ev in x.events { … }        // .stdout/.stderr/.exit; a lost socket throws
//     let t = try await client.exec("task-42", ExecCommand(["bash"], tty: true, rows: 40, cols: 120))
//     try await t.send(Array("ls\n".utf8)); try await t.resize(rows: 50, cols: 160)
//     let a = try await client.attach("task-42", sessionId: "1234")   // scrollback first
//
//     // Many short commands over one connection: the control channel (spec §4.8), with a
//     // fallback to exec sockets when the server has no `/control`
//     let c = try await client.run("task-42", ["true"], via: .control)
//     let op = try await client.exec("task-42", ExecCommand(["cat"], stdin: true), via: .control)
//     client.controlChannel("task-42").stats        // connections opened, commands carried
//
//     // Sessions, checkpoints, files
//     try await client.listSessions("task-42"); try await client.killSession("task-42", id: "1234")
//     for try await e in client.createCheckpoint("task-42", comment: "before") { … }
//     try await client.listCheckpoints("task-42"); client.restoreCheckpoint("task-42", id: "v1")
//     try await client.writeFile("task-42", path: "/home/sprite/a.txt", data: bytes)
//     try await client.readFile(…); try await client.listFiles(…); try await client.deleteFile(…)
//
// Errors are `SpritesError`: `.api(APIError)` (status, message, structured fields, 429 retry
// delay), `.transport`, `.connectionLost` (socket closed without an exit frame — never success;
// partial output kept), `.exitStatus`. Idempotent calls (GET, PUT, DELETE) retry 429/502/503
// with backoff honouring Retry-After; POSTs (create, checkpoint, restore, kill) never retry.
// The token is sent only in the Authorization header and never logged.
//
// TLS: `https://` and `wss://` trust the system's CAs, or those of `SSL_CERT_FILE` /
// `SSL_CERT_DIR` (`TLSTrust`); a certificate that does not verify is a `.transport` error that
// says "certificate verify failed … set SSL_CERT_FILE …" — verification is never turned off.

import Foundation
import Synchronization

/// A Sprites API client. Thread-safe; keep one per process (it keeps each sprite's control
/// channel open between commands).
public final class SpritesClient: Sendable {
    let endpoint: Endpoint
    public let retry: RetryPolicy
    /// Whether `via: .control` (and `SpriteSandbox.run`) use the control channel; off, they use
    /// exec sockets. Default: on, unless `SPRITES_CONTROL=0`.
    public let controlMode: Bool
    private let channels = Mutex<[String: ControlChannel]>([:])

    /// Base URL without a trailing `/`, e.g. `https://api.sprites.dev`.
    public var baseURL: String { endpoint.baseURL }
    var token: String { endpoint.token }
    /// The CAs trusted for `https://` and `wss://`.
    public var trust: TLSTrust { endpoint.trust }

    public init(baseURL: String, token: String, retry: RetryPolicy = RetryPolicy(),
                trust: TLSTrust = .fromEnvironment(), controlMode: Bool = SpritesConfig.controlMode()) {
        var u = baseURL
        while u.hasSuffix("/") { u.removeLast() }
        self.endpoint = Endpoint(baseURL: u, token: token, trust: trust)
        self.retry = retry
        self.controlMode = controlMode
    }

    /// The sprite's control channel, one per sprite and client (opened on its first command).
    public func controlChannel(_ sprite: String) -> ControlChannel {
        channels.withLock { table in
            if let c = table[sprite] { return c }
            let c = ControlChannel(sprite: sprite, endpoint: endpoint)
            table[sprite] = c
            return c
        }
    }

    /// Base URL from `SPRITES_API_URL`, token from `SPRITES_TOKEN` / `SPRITE_TOKEN` / the credentials file.
    public static func fromEnvironment(configDirectory: String?) throws -> SpritesClient {
        SpritesClient(baseURL: SpritesConfig.baseURL(), token: try SpritesConfig.token(configDirectory: configDirectory))
    }

    // MARK: - plumbing

    static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func query(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            .joined(separator: "&")
    }

    func spriteURL(_ name: String, _ rest: String = "") -> String { endpoint.spriteURL(name, rest) }

    var authHeaders: [String: String] { endpoint.authHeaders }

    /// Sends a request; retries only when `idempotent`. Throws `.api` for status ≥ 400.
    func send(_ method: String, _ url: String, json: Any? = nil, body: [UInt8]? = nil,
              contentType: String? = nil, timeout: Double = 30, idempotent: Bool) async throws -> HTTPAnswer {
        var req = endpoint.request(method, url, timeout: timeout)
        if let json {
            req.body = JSON.encode(json)
            req.headers["Content-Type"] = "application/json"
        } else if let body {
            req.body = body
            req.headers["Content-Type"] = contentType ?? "application/octet-stream"
        }
        let attempts = idempotent ? max(1, retry.maxAttempts) : 1
        var attempt = 0
        while true {
            let answer = try await CurlTransport.perform(req)
            if answer.status < 400 { return answer }
            let err = APIError(status: answer.status, body: answer.body, retryAfterHeader: answer.headers["retry-after"])
            attempt += 1
            guard attempt < attempts, RetryPolicy.retryableStatuses.contains(answer.status) else {
                throw SpritesError.api(err)
            }
            try await Task.sleep(for: .seconds(retry.delay(attempt: attempt - 1, retryAfter: err.retryAfterSeconds)))
        }
    }

    /// What `fs/delete` answers.
    struct Deleted: Decodable {
        var deleted: [String]?
    }

    /// An NDJSON POST whose lines are delivered as they arrive. Never retried.
    func progressStream(_ url: String, json: Any?) -> AsyncThrowingStream<ProgressEvent, any Error> {
        var req = endpoint.request("POST", url, timeout: nil)
        if let json { req.body = JSON.encode(json); req.headers["Content-Type"] = "application/json" }
        let source = CurlTransport.stream(req)
        return AsyncThrowingStream { cont in
            let task = Task {
                var splitter = LineSplitter()
                var status = 0, headers: [String: String] = [:], errorBody: [UInt8] = []
                do {
                    for try await part in source {
                        switch part {
                        case .head(let s, let h): status = s; headers = h
                        case .data(let d):
                            if status >= 400 { errorBody += d; continue }
                            for line in splitter.feed(d) {
                                if let e = ProgressEvent.line(line) { cont.yield(e) }
                            }
                        }
                    }
                    if status >= 400 {
                        throw SpritesError.api(APIError(status: status, body: errorBody, retryAfterHeader: headers["retry-after"]))
                    }
                    if let rest = splitter.flush(), let e = ProgressEvent.line(rest) { cont.yield(e) }
                    cont.finish()
                } catch {
                    cont.finish(throwing: error)
                }
            }
            cont.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: - sprites

    /// `POST /v1/sprites` → 201. Not retried (creates are rate limited; never loop on them).
    public func createSprite(_ spec: SpriteSpec) async throws -> Sprite {
        var body: [String: Any] = ["name": spec.name]
        if !spec.labels.isEmpty { body["labels"] = spec.labels }
        if !spec.environment.isEmpty { body["environment"] = spec.environment }
        if let a = spec.urlAuth { body["url_settings"] = ["auth": a] }
        var config: [String: Any] = [:]
        if let v = spec.ramMB { config["ram_mb"] = v }
        if let v = spec.cpus { config["cpus"] = v }
        if let v = spec.region { config["region"] = v }
        if !config.isEmpty { body["config"] = config }
        let a = try await send("POST", "\(baseURL)/v1/sprites", json: body, timeout: 120, idempotent: false)
        return try JSONDecoder.model(Sprite.self, from: a.body)
    }

    public func getSprite(_ name: String) async throws -> Sprite {
        let a = try await send("GET", spriteURL(name), idempotent: true)
        var s = try JSONDecoder.model(Sprite.self, from: a.body)
        s.apiVersion = a.headers["sprite-version"]
        return s
    }

    /// One page of `GET /v1/sprites` (`maxResults` clamped to 1…50).
    public func listSprites(prefix: String? = nil, maxResults: Int = 50, continuationToken: String? = nil) async throws -> SpritePage {
        var q: [(String, String)] = [("max_results", String(min(50, max(1, maxResults))))]
        if let prefix { q.append(("prefix", prefix)) }
        if let continuationToken { q.append(("continuation_token", continuationToken)) }
        return try JSONDecoder.model(SpritePage.self, from: try await send("GET", "\(baseURL)/v1/sprites?\(Self.query(q))", idempotent: true).body)
    }

    /// Every sprite, following continuation tokens.
    public func listAllSprites(prefix: String? = nil) async throws -> [Sprite] {
        var all: [Sprite] = []
        var token: String?
        repeat {
            let page = try await listSprites(prefix: prefix, continuationToken: token)
            all += page.sprites
            token = page.hasMore ? page.nextContinuationToken : nil
        } while token != nil
        return all
    }

    public func updateSprite(_ name: String, _ update: SpriteUpdate) async throws -> Sprite {
        var body: [String: Any] = [:]
        if let l = update.labels { body["labels"] = l }
        if update.clearLabels { body["clear_labels"] = true }
        if let a = update.urlAuth { body["url_settings"] = ["auth": a] }
        return try JSONDecoder.model(Sprite.self, from: try await send("PUT", spriteURL(name), json: body, idempotent: true).body)
    }

    /// `DELETE /v1/sprites/{name}` (its checkpoints go with it).
    public func deleteSprite(_ name: String) async throws {
        _ = try await send("DELETE", spriteURL(name), idempotent: true)
    }

    // MARK: - sessions

    public func listSessions(_ sprite: String) async throws -> [SessionSummary] {
        let a = try await send("GET", spriteURL(sprite, "/exec"), idempotent: true)
        return (try? JSONDecoder().decode(ListBody<SessionSummary>.self, from: Data(a.body)))?.items ?? []
    }

    /// Signals a session (`SIGTERM` by default), escalating to SIGKILL after `timeout`.
    /// Returns the NDJSON events; an already-finished session (410) returns no events.
    @discardableResult
    public func killSession(_ sprite: String, id: String, signal: String = "SIGTERM", timeout: Duration = .seconds(10)) async throws -> [ProgressEvent] {
        let secs = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let q = Self.query([("signal", signal), ("timeout", "\(Int(secs.rounded()))s")])
        do {
            let a = try await send("POST", spriteURL(sprite, "/exec/\(Self.segment(id))/kill?\(q)"),
                                   timeout: secs + 30, idempotent: false)
            var s = LineSplitter()
            var lines = s.feed(a.body)
            if let rest = s.flush() { lines.append(rest) }
            return lines.compactMap(ProgressEvent.line)
        } catch SpritesError.api(let e) where e.status == 410 {
            return []
        }
    }

    // MARK: - checkpoints

    /// `POST …/checkpoint`: progress lines as they arrive; the last is `complete` ("Checkpoint vN created").
    public func createCheckpoint(_ sprite: String, comment: String? = nil) -> AsyncThrowingStream<ProgressEvent, any Error> {
        progressStream(spriteURL(sprite, "/checkpoint"), json: comment.map { ["comment": $0] } ?? [String: Any]())
    }

    /// Checkpoints, newest first as the server orders them.
    public func listCheckpoints(_ sprite: String) async throws -> [Checkpoint] {
        let a = try await send("GET", spriteURL(sprite, "/checkpoints"), idempotent: true)
        return (try? JSONDecoder().decode(ListBody<Checkpoint>.self, from: Data(a.body)))?.items ?? []
    }

    public func getCheckpoint(_ sprite: String, id: String) async throws -> Checkpoint {
        let a = try await send("GET", spriteURL(sprite, "/checkpoints/\(Self.segment(id))"), idempotent: true)
        return try JSONDecoder.model(Checkpoint.self, from: a.body)
    }

    /// Restores the filesystem from a checkpoint; ends the sprite's sessions. Never retried.
    public func restoreCheckpoint(_ sprite: String, id: String) -> AsyncThrowingStream<ProgressEvent, any Error> {
        progressStream(spriteURL(sprite, "/checkpoints/\(Self.segment(id))/restore"), json: nil)
    }

    // MARK: - filesystem

    public func readFile(_ sprite: String, path: String, workingDir: String? = nil) async throws -> [UInt8] {
        var q = [("path", path)]
        if let workingDir { q.append(("workingDir", workingDir)) }
        return try await send("GET", spriteURL(sprite, "/fs/read?\(Self.query(q))"), idempotent: true).body
    }

    /// Writes a file (creating parent folders unless `mkdirParents` is false); `mode` is octal.
    public func writeFile(_ sprite: String, path: String, data: [UInt8], mode: Int = 0o644,
                          mkdirParents: Bool = true, workingDir: String? = nil) async throws {
        var q = [("path", path), ("mode", String(format: "%04o", mode)), ("mkdirParents", mkdirParents ? "true" : "false")]
        if let workingDir { q.append(("workingDir", workingDir)) }
        _ = try await send("PUT", spriteURL(sprite, "/fs/write?\(Self.query(q))"), body: data, timeout: 300, idempotent: true)
    }

    /// Lists a folder; a file path returns itself as the only entry.
    public func listFiles(_ sprite: String, path: String, workingDir: String? = nil) async throws -> [FileEntry] {
        var q = [("path", path)]
        if let workingDir { q.append(("workingDir", workingDir)) }
        let a = try await send("GET", spriteURL(sprite, "/fs/list?\(Self.query(q))"), idempotent: true)
        return try JSONDecoder.model(ListBody<FileEntry>.self, from: a.body).items
    }

    /// Deletes a file or (with `recursive`) a folder; returns the deleted paths.
    @discardableResult
    public func deleteFile(_ sprite: String, path: String, recursive: Bool = false, workingDir: String? = nil) async throws -> [String] {
        var q = [("path", path), ("recursive", recursive ? "true" : "false")]
        if let workingDir { q.append(("workingDir", workingDir)) }
        let a = try await send("DELETE", spriteURL(sprite, "/fs/delete?\(Self.query(q))"), idempotent: true)
        return try JSONDecoder.model(Deleted.self, from: a.body).deleted ?? []
    }
}
