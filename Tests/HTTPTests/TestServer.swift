// Test support: the real server on 127.0.0.1 port 0 with the routes the engine tests use.
import Dispatch
import Glibc
import Synchronization
@testable import HTTP
import Transport

/// A server on 127.0.0.1, port 0, with the routes the engine tests use.
final class TestServer: @unchecked Sendable {
    let server: HTTPServer
    let parked = ParkBox()
    let streamed = StreamCounters()
    var port: Int { server.port }

    init(loops: Int = 1, _ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.loops = loops
        configuration.shutdownGrace = 2
        configure(&configuration)
        let router = Router(defaultBodyLimit: 64 * 1024)
        router.add("GET", "/health") { _, r in r.respond(HTTPResponse(status: 200, contentType: "application/json; charset=utf-8", body: "{\"status\":\"ok\"}")) }
        router.add("POST", "/echo", bodyLimit: 100) { req, r in
            r.respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: req.body))
        }
        router.add("GET", "/rooms/{name}") { req, r in
            r.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "\(req.pathParameters["name"] ?? "?") from \(req.remoteAddress)"))
        }
        router.add("GET", "/big") { req, r in
            let size = Int(req.queryValue("n") ?? "0") ?? 0
            var body: [UInt8] = []
            body.reserveCapacity(size)
            while body.count < size { body.append(contentsOf: patternBlock.prefix(size - body.count)) }
            let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: body)
            if let ms = req.queryValue("ms").flatMap(Int.init) {   // from another thread, like the API's handlers
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { r.respond(response) }
            } else {
                r.respond(response)
            }
        }
        // Answers from another thread after `ms` milliseconds (a handler still busy when the client half-closes).
        router.add("POST", "/later") { req, r in
            let ms = Int(req.queryValue("ms") ?? "100") ?? 100
            let body = req.body
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                r.respond(HTTPResponse(status: 201, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: body))
            }
        }
        // Needs `Authorization`; the head-time check refuses a body without it (issue 13 item 2).
        router.add("POST", "/secret", bodyLimit: 1 << 20) { req, r in
            r.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "\(req.body.count)"))
        }
        router.headCheck = { route, req in
            guard route.pattern == "/secret", req.headers["Authorization"] == nil else { return nil }
            return .problem(status: 401, code: "unauthorized", detail: "credentials needed")
        }
        let box = parked
        router.add("GET", "/park") { req, r in
            let seconds = Double(req.queryValue("t") ?? "10") ?? 10
            box.add(r)
            r.park(timeout: seconds, onDeadline: { HTTPResponse(status: 200, contentType: "text/plain", body: "deadline") },
                   onCancel: { box.cancels.add(1, ordering: .relaxed) })
        }
        // Streaming bodies (issue 15): pause after every piece and resume from another thread.
        let streams = streamed
        router.addStreaming("POST", "/stream", bodyLimit: 1 << 20) { _, stream, r in
            let tally = StreamTally()
            stream.start { piece in
                switch piece {
                case .data(let bytes):
                    tally.count += bytes.count
                    for b in bytes { tally.sum = tally.sum &* 31 &+ Int(b) }
                    stream.pause()
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1)) { stream.resume() }
                case .end:
                    r.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "\(tally.count) \(tally.sum)"))
                case .failed:
                    streams.failures.add(1, ordering: .relaxed)
                }
            }
        }
        // Answers streamed piece by piece: `n` bytes in pieces of `piece`, from another thread when `async`; a
        // source that fails after `fail` pieces.
        router.add("GET", "/pieces") { req, r in
            let source = PieceSource(length: Int(req.queryValue("n") ?? "0") ?? 0, piece: Int(req.queryValue("piece") ?? "1000") ?? 1000,
                                     async: req.queryValue("async") != nil, failAfter: req.queryValue("fail").flatMap(Int.init))
            var response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]))
            response.bodySource = source
            r.respond(response)
        }
        // Streams only the requests that say `X-Stream`; the others are buffered (64 KiB) for the plain handler.
        router.addStreaming("POST", "/stream-some", bodyLimit: 1 << 20, streams: { $0.headers["X-Stream"] != nil }, { _, stream, r in
            let tally = StreamTally()
            stream.start { piece in
                if case .data(let bytes) = piece { tally.count += bytes.count }
                if case .end = piece { r.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "streamed \(tally.count)")) }
            }
        }, buffered: { req, r in
            r.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "buffered \(req.body.count)"))
        })
        router.addStreaming("POST", "/stream-refuse", bodyLimit: 1 << 20) { _, _, r in
            r.respond(.problem(status: 403, code: "forbidden", detail: "not reading that"))
        }
        server = HTTPServer(configuration: configuration, router: router)
        try server.start()
    }

    func stop() { server.shutdown() }
}

/// The responders of parked requests, for answering them from the test thread.
final class ParkBox: @unchecked Sendable {
    let responders = Locked<[Responder]>([])
    let cancels = Atomic<Int>(0)
    func add(_ r: Responder) { responders.withLock { $0.append(r) } }
    func take() -> Responder? { responders.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
    var count: Int { responders.withLock { $0.count } }
}

/// What the streaming routes saw.
final class StreamCounters: Sendable {
    let failures = Atomic<Int>(0)
}

/// One streamed body's running count and hash (touched on one loop thread only).
final class StreamTally: @unchecked Sendable {
    var count = 0
    var sum = 0
}

/// A test body source: bytes `i % 251`, in pieces, synchronously or from another thread, optionally failing.
final class PieceSource: ResponseBodySource, @unchecked Sendable {
    let length: Int
    let piece: Int
    let async: Bool
    let failAfter: Int?
    var sent = 0, pieces = 0
    init(length: Int, piece: Int, async: Bool, failAfter: Int?) {
        self.length = length
        self.piece = piece
        self.async = async
        self.failAfter = failAfter
    }
    func next(_ completion: @escaping @Sendable ([UInt8]?) -> Void) {
        if let failAfter, pieces >= failAfter { return completion(nil) }
        let n = min(piece, length - sent)
        let bytes = (sent..<sent + n).map { UInt8($0 % 251) }
        sent += n
        pieces += 1
        if async { DispatchQueue.global().async { completion(bytes) } } else { completion(bytes) }
    }
}
