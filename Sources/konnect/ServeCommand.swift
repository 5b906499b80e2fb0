// `konnect serve`: flags → HTTPServerConfiguration, routes via `ServeCommand.buildRouter`, log lines, signals.
import CLI
import Glibc
import HTTP
import Transport

/// The serve command. Others extend it in two places: `extraValueFlags` (their own flags) and `buildRouter`
/// (their routes); everything else — limits, logging, signals, exit status — stays here.
enum ServeCommand {
    static let usage = """
    usage: konnect serve [--host 127.0.0.1] [--port 8080] [--db konnect.db] [options]

    Runs the chat server: the HTTP API, /openapi.yaml and the web client at /. SIGTERM or SIGINT stops it
    gracefully (held long-polls answered at once, then exit 0).

    Options:
      --host IP               IPv4 or IPv6 literal to listen on: ::1, 0.0.0.0, :: (default 127.0.0.1)
      --port N                0 picks a free port; stderr's first line says which (default 8080)
      --db PATH               the SQLite file (WAL, synchronous=FULL), created and migrated on start (default konnect.db)
      --postgres URL          keep the data in PostgreSQL instead (a libpq connection string or URI; env
                              KONNECT_POSTGRES_URL): any number of instances on one database
      --web-root DIR          the static web client (default ./web, else the repository's web/)
      --loops N               event loops (threads) serving connections (default: one per core)
      --max-head-bytes N      request line + headers; larger → 431 (default 16384)
      --max-body-bytes N      request body; larger → 413 payload_too_large (default 65536)
      --max-file-bytes N      a file uploaded by POST /files or a multipart POST /messages; larger → 413 (default 10485760)
      --head-timeout S        seconds a client may take to send a request head (default 10)
      --idle-timeout S        seconds an idle keep-alive connection is kept (default 60)
      --max-connections N     past this, new connections get 503 with Retry-After (default 19000)
      --post-burst N          posting rate limit per account, shared by POST /messages and POST /rooms: the burst (default 50)
      --post-rate R           tokens back per second; 0 turns the limit off (default 10)
      --max-wait S            the longest a long-poll is held; larger waits count as this (default and most 60)
      --tls-cert PEM          serve HTTPS: the certificate chain (server certificate first), with --tls-key
      --tls-key PEM           the certificate's private key (OpenSSL's TLS 1.2/1.3, on the same event loops)
      --log-level L           info: one line per request on stderr; warn, error: quieter (default info)
      --help                  this text

    Example:
      konnect serve --host 0.0.0.0 --port 8080 --db /var/lib/konnect/konnect.db
    """

    static let valueFlags: Set<String> = ["host", "port", "loops", "max-head-bytes", "max-body-bytes", "head-timeout",
                                          "idle-timeout", "max-connections", "log-level", "tls-cert", "tls-key"]

    /// Flags other developers add (e.g. `db`); read them from `arguments` in `buildRouter`.
    nonisolated(unsafe) static var extraValueFlags: Set<String> = apiValueFlags

    /// The routes. `GET /health` for now; the API layer will register its routes here.
    static func buildRouter(arguments: Arguments, maxBodyBytes: Int) throws -> Router {
        try apiRouter(arguments: arguments, maxBodyBytes: maxBodyBytes)
    }
}

/// Runs `konnect serve` with the arguments after the subcommand; returns the exit status.
func runServe(arguments raw: [String]) -> Int32 {
    let arguments: Arguments
    var configuration = HTTPServerConfiguration()
    let router: Router
    var logLevel = "info"
    do {
        arguments = try Arguments(raw, valueFlags: ServeCommand.valueFlags.union(ServeCommand.extraValueFlags))
        if arguments.has("help") {
            printError(ServeCommand.usage)
            return 0
        }
        if let extra = arguments.positional.first { throw UsageError("unexpected argument '\(extra)'") }
        configuration.host = arguments.string("host", configuration.host)
        guard SocketAddress(ip: configuration.host, port: 0) != nil else {
            throw UsageError("--host must be an IPv4 or IPv6 literal, got '\(configuration.host)'")
        }
        configuration.port = try arguments.int("port", configuration.port, range: 0...65535)
        configuration.loops = try arguments.int("loops", configuration.loops, range: 0...256)
        configuration.maxHeadBytes = try arguments.int("max-head-bytes", configuration.maxHeadBytes, range: 256...1 << 24)
        configuration.headTimeout = try arguments.seconds("head-timeout", configuration.headTimeout)
        configuration.idleTimeout = try arguments.seconds("idle-timeout", configuration.idleTimeout)
        configuration.maxConnections = try arguments.int("max-connections", configuration.maxConnections, range: 1...10_000_000)
        let maxBody = try arguments.int("max-body-bytes", 64 * 1024, range: 0...1 << 30)
        switch (arguments.values["tls-cert"], arguments.values["tls-key"]) {
        case (nil, nil): break
        case (let cert?, let key?):
            do { configuration.tls = try TLSServerContext(certificateFile: cert, keyFile: key) } catch {
                throw UsageError("cannot use --tls-cert/--tls-key: \(error)")
            }
        default: throw UsageError("--tls-cert and --tls-key go together")
        }
        logLevel = arguments.string("log-level", "info")
        guard ["info", "warn", "error"].contains(logLevel) else {
            throw UsageError("--log-level must be info, warn or error, got '\(logLevel)'")
        }
        router = try ServeCommand.buildRouter(arguments: arguments, maxBodyBytes: maxBody)
    } catch let error as UsageError {
        printError("konnect serve: \(error)")
        printError(ServeCommand.usage)
        return 2
    } catch {
        printError("konnect serve: \(error)")
        return 1
    }
    let server = HTTPServer(configuration: configuration, router: router)
    var log: (@Sendable (RequestRecord) -> Void)? = nil
    if logLevel == "info" { log = { @Sendable record in printError(RequestLog.line(record)) } }
    ServeCommand.attachMetrics(server, log: log)
    server.handleSignals()
    do {
        try server.start()
    } catch {
        printError("konnect serve: cannot listen on \(configuration.host):\(configuration.port): \(error)")
        return 1
    }
    let hostText = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
    printError("konnect listening on \(configuration.tls == nil ? "http" : "https")://\(hostText):\(server.port)")
    server.waitUntilStopped()
    return 0
}

/// One access-log line: `GET /health 200 0.042ms`.
enum RequestLog {
    static func line(_ record: RequestRecord) -> String {
        let micros = Int((record.duration * 1_000_000).rounded())
        let fraction = micros % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(record.method) \(record.path) \(record.status) \(micros / 1000).\(padded)ms"
    }
}
