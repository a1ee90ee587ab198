import CCurl
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP request.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [String: String] = [:]
    var body: [UInt8]?
    /// Whole-request timeout in seconds; nil = none (streams).
    var timeout: Double? = 30
    /// The CAs trusted for `https://`.
    var trust: TLSTrust = .system
}

/// A complete HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]  // lower-cased names
    var body: [UInt8]
}

/// A streamed HTTP answer: status and headers first, then body chunks as they arrive.
enum HTTPStreamPart: Sendable {
    case head(status: Int, headers: [String: String])
    case data([UInt8])
}

/// libcurl, bound through typed setopt shims. `curl_global_init` runs once; every handle sets
/// `CURLOPT_NOSIGNAL`; SIGPIPE is ignored process-wide; each transfer runs `curl_easy_perform`
/// on its own thread and is cancelled through the xferinfo callback. `https://` verifies the
/// peer and its host name (libcurl's defaults, never turned off) against the request's trusted
/// CAs (`CURLOPT_CAINFO`, `CURLOPT_CAPATH`).
enum CurlTransport {
    private static let globalInit: Void = {
        signal(SIGPIPE, SIG_IGN)
        _ = ccurl_load()  // dlopen libcurl and curl_global_init, once
    }()

    /// Performs a request and collects the whole answer.
    static func perform(_ request: HTTPRequest) async throws -> HTTPAnswer {
        var status = 0
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        for try await part in stream(request) {
            switch part {
            case .head(let s, let h): status = s; headers = h
            case .data(let d): body += d
            }
        }
        return HTTPAnswer(status: status, headers: headers, body: body)
    }

    /// Performs a request, yielding the head and then body chunks as libcurl delivers them.
    static func stream(_ request: HTTPRequest) -> AsyncThrowingStream<HTTPStreamPart, any Error> {
        _ = globalInit
        let (stream, cont) = AsyncThrowingStream<HTTPStreamPart, any Error>.makeStream()
        let transfer = Transfer(request: request, continuation: cont)
        cont.onTermination = { _ in transfer.cancelled.store(true, ordering: .relaxed) }
        Thread { transfer.run() }.start()
        return stream
    }

    /// State shared with libcurl's callbacks (passed as the opaque user pointer).
    final class Transfer: @unchecked Sendable {
        let request: HTTPRequest
        let continuation: AsyncThrowingStream<HTTPStreamPart, any Error>.Continuation
        let cancelled = Atomic<Bool>(false)
        var headerLines: [String: String] = [:]
        var statusLine = 0
        var headSent = false
        var handle: UnsafeMutableRawPointer?
        var uploaded: UnsafeMutablePointer<UInt8>?

        init(request: HTTPRequest, continuation: AsyncThrowingStream<HTTPStreamPart, any Error>.Continuation) {
            self.request = request
            self.continuation = continuation
        }

        func sendHeadIfNeeded() {
            guard !headSent, let h = handle else { return }
            headSent = true
            var code: Int = 0
            ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &code)
            continuation.yield(.head(status: code, headers: headerLines))
        }

        func run() {
            guard let h = ccurl_easy_init() else {
                let why = ccurl_load_error().map { String(cString: $0) } ?? "curl_easy_init failed"
                continuation.finish(throwing: SpritesError.transport("libcurl is not available: \(why) (install libcurl4)"))
                return
            }
            handle = h
            defer { ccurl_easy_cleanup(h) }
            let me = Unmanaged.passUnretained(self).toOpaque()
            let trust = request.trust
            if request.url.hasPrefix("https://") {
                do { try trust.check() } catch {
                    continuation.finish(throwing: error)
                    return
                }
                if let f = trust.caFile { ccurl_setopt_str(h, CURLOPT_CAINFO, f) }
                if let d = trust.caDirectory { ccurl_setopt_str(h, CURLOPT_CAPATH, d) }
                ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
                ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
            }
            let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
            errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
            defer { errorBuffer.deallocate() }
            ccurl_setopt_ptr(h, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
            ccurl_setopt_str(h, CURLOPT_URL, request.url)
            ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 30)
            if let t = request.timeout { ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(t * 1000)) }
            ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            ccurl_setopt_write_fn(h) { ptr, size, n, ud in
                let t = Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue()
                t.sendHeadIfNeeded()
                let count = size * n
                if count > 0, let ptr {
                    t.continuation.yield(.data(Array(UnsafeRawBufferPointer(start: ptr, count: count))))
                }
                return count
            }
            ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, me)
            ccurl_setopt_header_fn(h) { ptr, size, n, ud in
                let t = Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue()
                let count = size * n
                guard let ptr else { return count }
                let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: count), as: UTF8.self)
                if line.hasPrefix("HTTP/") {
                    t.headerLines = [:]  // a new response (after 100-continue or a redirect)
                } else if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                    t.headerLines[name] = value
                }
                return count
            }
            ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, me)
            ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
            ccurl_setopt_xferinfo_fn(h) { ud, _, _, _, _ in
                let t = Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue()
                return t.cancelled.load(ordering: .relaxed) ? 1 : 0
            }
            ccurl_setopt_ptr(h, CURLOPT_XFERINFODATA, me)

            var list: UnsafeMutablePointer<curl_slist>?
            for (k, v) in request.headers { list = ccurl_slist_append(list, "\(k): \(v)") }
            list = ccurl_slist_append(list, "Expect:")
            defer { ccurl_slist_free_all(list) }
            ccurl_setopt_ptr(h, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))

            switch request.method {
            case "GET": ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
            case "HEAD": ccurl_setopt_long(h, CURLOPT_NOBODY, 1)
            default: ccurl_setopt_str(h, CURLOPT_CUSTOMREQUEST, request.method)
            }
            if let body = request.body {
                let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: max(body.count, 1))
                buf.initialize(from: body, count: body.count)
                uploaded = buf
                ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                ccurl_setopt_ptr(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(buf))
            } else if request.method == "POST" || request.method == "PUT" {
                ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, 0)
                ccurl_setopt_str(h, CURLOPT_POSTFIELDS, "")
            }
            defer { uploaded?.deallocate() }

            let rc = ccurl_easy_perform(h)
            if rc == CURLE_OK {
                sendHeadIfNeeded()
                continuation.finish()
            } else if rc == CURLE_ABORTED_BY_CALLBACK {
                continuation.finish(throwing: CancellationError())
            } else {
                let detail = String(cString: errorBuffer)
                let msg = detail.isEmpty ? String(cString: ccurl_easy_strerror(rc)) : detail
                let host = TLSTrust.hostPort(request.url)
                let text: String
                switch rc {
                case CURLE_PEER_FAILED_VERIFICATION:
                    text = "certificate verify failed for \(host) (\(msg)): \(trust.advice)"
                case CURLE_SSL_CACERT_BADFILE:
                    text = "cannot use the CA certificates for \(host) (\(msg)); check SSL_CERT_FILE and SSL_CERT_DIR"
                case CURLE_SSL_CONNECT_ERROR:
                    text = "TLS handshake with \(host) failed (\(msg))"
                default:
                    text = "\(request.method) \(CurlTransport.redact(request.url)): \(msg)"
                }
                continuation.finish(throwing: SpritesError.transport(text))
            }
        }
    }

    /// The URL without its query (queries may carry commands; never log them whole).
    static func redact(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
