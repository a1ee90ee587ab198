import Foundation
import Hummingbird

/// Small helpers for JSON and NDJSON responses.
enum Reply {
    static func json(_ status: HTTPResponse.Status, _ object: Any, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, ["error": message])
    }

    static func fsError(_ status: HTTPResponse.Status, _ message: String, code: String, path: String) -> Response {
        json(status, ["error": message, "code": code, "path": path])
    }

    static func line(_ object: [String: Any]) -> ByteBuffer {
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        data.append(0x0a)
        return ByteBuffer(bytes: data)
    }

    /// An NDJSON response whose lines are produced by `produce` as work progresses.
    static func ndjson(_ produce: @escaping @Sendable (_ emit: @Sendable ([String: Any]) async throws -> Void) async throws -> Void) -> Response {
        let body = ResponseBody { writer in
            let (stream, cont) = AsyncStream<ByteBuffer>.makeStream()
            let producer = Task {
                try? await produce { obj in cont.yield(line(obj)) }
                cont.finish()
            }
            for await buf in stream { try await writer.write(buf) }
            _ = await producer.result
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    static func iso(_ d: Date?) -> Any {
        guard let d else { return NSNull() }
        return ISO8601DateFormatter().string(from: d)
    }

    static func parseBody(_ buffer: ByteBuffer) -> [String: Any]? {
        guard buffer.readableBytes > 0 else { return [:] }
        let data = Data(buffer.readableBytesView)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
