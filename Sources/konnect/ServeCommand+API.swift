// `konnect serve`'s chat wiring: --db (SQLite file) or --postgres URL → ChatService → the API's routes; /metrics.
import CLI
import API
import Chat
import Foundation
import HTTP
import Store

extension ServeCommand {
    /// `--db PATH` (default `konnect.db` in the working directory), `--postgres URL` (a libpq connection string or
    /// URI, also `KONNECT_POSTGRES_URL`: PostgreSQL instead of SQLite) and `--web-root DIR` (default ./web when it
    /// exists, else the repository's web/).
    static let apiValueFlags: Set<String> = ["db", "postgres", "web-root", "post-burst", "post-rate", "max-wait", "max-file-bytes"]

    /// One per process; `runServe` feeds it from `HTTPServer.onRequest` and adds the server's gauges.
    static let metrics = Metrics()

    static func apiRouter(arguments: Arguments, maxBodyBytes: Int) throws -> Router {
        let store = try openStore(arguments: arguments)
        let chat = ChatService(store: store)
        var options = APIOptions(webRoot: arguments.values["web-root"], metrics: metrics)
        options.maxBodyBytes = maxBodyBytes
        options.maxFileBytes = try arguments.int("max-file-bytes", 10 << 20, range: 0...1 << 30)
        options.postRateLimit = PostRateLimit(burst: try arguments.int("post-burst", 50, range: 1...1_000_000),
                                              rate: try arguments.rate("post-rate", 10))
        options.maxWait = min(try arguments.seconds("max-wait", 60), 60)
        return makeRouter(chat: chat, options: options)
    }

    /// PostgreSQL when `--postgres` (or `KONNECT_POSTGRES_URL`) names a database, else the SQLite file `--db`.
    static func openStore(arguments: Arguments) throws -> Store {
        let url = arguments.values["postgres"] ?? ProcessInfo.processInfo.environment["KONNECT_POSTGRES_URL"] ?? ""
        if !url.isEmpty {
            if arguments.values["db"] != nil { throw UsageError("--db and --postgres cannot be used together") }
            do {
                return try PostgresStore(conninfo: url)
            } catch {
                throw DatabaseError(description: "cannot open the PostgreSQL database: \(error)")
            }
        }
        let path = arguments.string("db", "konnect.db")
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw DatabaseError(description: "cannot open the database '\(path)': \(error)")
        }
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
