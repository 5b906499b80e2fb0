// `konnect serve`'s chat wiring: --db (SQLite file) → ChatService → the API's routes; /metrics fed by the server.
import CLI
import API
import Chat
import HTTP
import Store

extension ServeCommand {
    /// `--db PATH` (default `konnect.db` in the working directory) and `--web-root DIR` (default ./web when it
    /// exists, else the repository's web/).
    static let apiValueFlags: Set<String> = ["db", "web-root", "post-burst", "post-rate", "max-wait", "max-file-bytes"]

    /// One per process; `runServe` feeds it from `HTTPServer.onRequest` and adds the server's gauges.
    static let metrics = Metrics()

    static func apiRouter(arguments: Arguments, maxBodyBytes: Int) throws -> Router {
        let path = arguments.string("db", "konnect.db")
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: path)
        } catch {
            throw DatabaseError(description: "cannot open the database '\(path)': \(error)")
        }
        let chat = ChatService(store: store)
        var options = APIOptions(webRoot: arguments.values["web-root"], metrics: metrics)
        options.maxBodyBytes = maxBodyBytes
        options.maxFileBytes = try arguments.int("max-file-bytes", 10 << 20, range: 0...1 << 30)
        options.postRateLimit = PostRateLimit(burst: try arguments.int("post-burst", 50, range: 1...1_000_000),
                                              rate: try arguments.rate("post-rate", 10))
        options.maxWait = min(try arguments.seconds("max-wait", 60), 60)
        return makeRouter(chat: chat, options: options)
    }

    /// Hooks the server into /metrics (request counts and latency, open connections).
    static func attachMetrics(_ server: HTTPServer, log: (@Sendable (RequestRecord) -> Void)?) {
        let metrics = metrics
        server.onRequest = { record in
            metrics.record(record)
            log?(record)
        }
        metrics.addGauge("konnect_open_connections", help: "Client connections currently open.") { server.openConnections }
    }
}

/// The database could not be opened (exit status 1, not a usage error).
struct DatabaseError: Error, CustomStringConvertible {
    var description: String
}
