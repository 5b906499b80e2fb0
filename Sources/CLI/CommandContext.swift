// What every client command shares: the server URL, output mode, credentials and how to build a client.
import Client
import Foundation
import HTTP

/// A failure to report as `konnect: <message>` with exit status 1.
struct CommandFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The environment a command runs in, resolved once from flags and environment variables.
struct CommandContext {
    static let defaultServer = "http://127.0.0.1:8080"

    var server: String                    // normalised (KonnectClient.normalize): the key of saved logins
    var json: Bool                        // --json: one JSON object per line
    var tls: TLSClientOptions             // --insecure, --cacert
    var environment: [String: String]
    var credentials: CredentialsStore

    init(arguments: ParsedArguments, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var server = arguments.value("server") ?? environment["KONNECT_SERVER"] ?? ""
        if server.isEmpty { server = Self.defaultServer }
        // `--server localhost:8080` as curl takes it; a URL that does not parse is reported when a client is made.
        self.server = KonnectClient.normalize(server: server) ?? server
        self.tls = TLSClientOptions(insecure: arguments.has("insecure"), caFile: arguments.value("cacert"))
        self.json = arguments.has("json")
        self.environment = environment
        self.credentials = CredentialsStore(path: CredentialsStore.defaultPath(environment: environment))
    }

    /// The token to send: `KONNECT_TOKEN` wins over the saved login for this server.
    var token: String? {
        if let token = environment["KONNECT_TOKEN"], !token.isEmpty { return token }
        return credentials.load(server: server)?.token
    }

    /// A client without a token (register, login).
    func anonymousClient(timeout: Double = 45) throws -> KonnectClient {
        try KonnectClient(server: server, timeout: timeout, tls: tls)
    }

    /// A client carrying the token, or a failure telling the user to log in.
    func authenticatedClient(timeout: Double = 45) throws -> KonnectClient {
        guard let token else {
            throw CommandFailure("not logged in to \(server); run 'konnect login NAME' (or set KONNECT_TOKEN)")
        }
        return try KonnectClient(server: server, token: token, timeout: timeout, tls: tls)
    }

    /// The room to use: `--room`, else (for commands that take one) the ROOM argument, else `general` (the room
    /// that always exists, API.md "Rooms"). `@bob` is the direct room with bob (API.md "Rooms v2").
    func room(_ arguments: ParsedArguments, positional: Bool = false) throws -> String {
        if positional, let room = arguments.positionals.first {
            if arguments.value("room") != nil { throw CommandUsageError("give the room once: --room R or ROOM") }
            return room
        }
        return arguments.value("room") ?? "general"
    }
}
