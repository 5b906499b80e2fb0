// The engine alone for Tests/Bench/engine.sh: HTTPServer + Router with the original `GET /health`, no store, no
// metrics, so the nginx comparison measures Transport + HTTP only. Built by engine.sh from the release objects.
import Glibc
import HTTP

@main
enum EngineServer {
    static func main() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let router = Router()
        router.add("GET", "/health") { _, responder in
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([
                ("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store"),
            ]), body: Array("{\"status\":\"ok\"}".utf8)))
        }
        let server = HTTPServer(configuration: configuration, router: router)
        server.handleSignals()
        try server.start()
        var line = "engine listening on http://127.0.0.1:\(server.port)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        server.waitUntilStopped()
    }
}
