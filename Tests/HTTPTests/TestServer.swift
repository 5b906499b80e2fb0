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
