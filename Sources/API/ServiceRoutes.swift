// Service routes (../shared/API.md "Service"): GET /health, GET /openapi.yaml, GET /metrics. No auth.
import Foundation
import HTTP
import Chat

final class ServiceRoutes: Sendable {
    let chat: ChatService
    let metricsStore: Metrics
    let openAPIDocument: [UInt8]?        // read once at start; nil when the file is missing

    init(chat: ChatService, metrics: Metrics, openAPIPath: String) {
        self.chat = chat
        self.metricsStore = metrics
        openAPIDocument = FileManager.default.contents(atPath: openAPIPath).map { [UInt8]($0) }
    }

    /// 200 `{"status":"ok"}` when the store answers a trivial query, else 503 `unavailable`.
    var health: HTTPHandler {
        { [chat] _, responder in
            chat.health { ok in
                if ok {
                    responder.respond(APIResponse.json(200, Array("{\"status\":\"ok\"}\n".utf8)))
                } else {
                    responder.respond(.problem(status: 503, code: "unavailable", detail: "the store does not answer",
                                               headers: HTTPHeaders([("Retry-After", "5")])))
                }
            }
        }
    }

    /// The OpenAPI 3.1 document (`application/yaml`, RFC 9512).
    var openAPI: HTTPHandler {
        { [openAPIDocument] _, responder in
            guard let document = openAPIDocument else {
                return responder.respond(.problem(status: 404, code: "not_found", detail: "openapi.yaml was not found at start"))
            }
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([
                ("Content-Type", "application/yaml"), ("Cache-Control", "no-cache"),
            ]), body: document))
        }
    }

    /// Prometheus text exposition format 0.0.4.
    var metrics: HTTPHandler {
        { [metricsStore] _, responder in
            responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders([
                ("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Cache-Control", "no-store"),
            ]), body: Array(metricsStore.render().utf8)))
        }
    }
}
