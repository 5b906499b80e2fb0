// Typed, blocking calls for every route of the Konnect API (../shared/API.md), over the project's HTTPClient.
import Foundation
import HTTP

/// A client for one Konnect server. Each call is one HTTP request on a persistent connection; errors come back as
/// `ClientError` (a server problem keeps its status, code and detail). Not thread-safe: one per thread.
public final class KonnectClient {
    public let server: String             // base URL without a trailing slash, e.g. http://127.0.0.1:8080
    public var token: String?             // sent as `Authorization: Bearer` when set
    /// The status of the last answer (0 before any): tells a replayed post (200) from a new one (201).
    public internal(set) var lastStatus = 0
    let httpClient: HTTPClient

    /// `timeout` bounds connecting and each answer; keep it above the long-poll `wait` (30 s by default).
    /// `server` is `http://` or `https://` with a host name or an IP literal; `tls` applies to https.
    public init(server: String, token: String? = nil, timeout: Double = 45, tls: TLSClientOptions = TLSClientOptions()) throws {
        guard let base = KonnectClient.normalize(server: server) else { throw ClientError.invalidServerURL(server) }
        do {
            httpClient = try HTTPClient(url: base, timeout: timeout, tls: tls)
        } catch {
            throw ClientError.invalidServerURL(server)
        }
        self.server = base
        self.token = token
    }

    /// The server's canonical URL, which saved logins are keyed by: scheme and host lowercased, the scheme's
    /// default port left out, no path (`HTTPS://Chat.Example.com:443/` → `https://chat.example.com`). Names and
    /// addresses stay apart: `localhost` and `127.0.0.1` are two servers (a certificate names one of them).
    /// A bare `host:port` means http, as curl reads it. Nil when it is no http(s) URL.
    public static func normalize(server: String) -> String? {
        var url = server
        if !url.contains("://") { url = "http://" + url }
        guard let (secure, host, port) = try? HTTPClient.parse(url: url) else { return nil }
        let scheme = secure ? "https" : "http"
        let hostText = host.contains(":") ? "[\(host.lowercased())]" : host.lowercased()
        return port == (secure ? 443 : 80) ? "\(scheme)://\(hostText)" : "\(scheme)://\(hostText):\(port)"
    }

    deinit { httpClient.close() }

    /// Drops the connection; the next call opens a new one.
    public func close() { httpClient.close() }

    // MARK: Accounts

    public func register(username: String, password: String) throws -> APIUser {
        let answer: UserEnvelope = try call("POST", "/register", json: ["username": username, "password": password])
        return answer.user
    }

    /// Logs in and keeps the token for the following calls.
    public func login(username: String, password: String) throws -> APISession {
        let session: APISession = try call("POST", "/login", json: ["username": username, "password": password])
        token = session.token
        return session
    }

    /// Revokes the current token on the server (204).
    public func logout() throws {
        _ = try exchange("POST", "/logout", body: nil)
        token = nil
    }

    public func me() throws -> APIUser {
        let answer: UserEnvelope = try call("GET", "/me")
        return answer.user
    }

    // MARK: Rooms

    /// Every room the caller can see (public ones, and their private and direct ones), by name: all pages.
    public func rooms() throws -> [APIRoom] {
        var all: [APIRoom] = []
        var after: String?
        while true {
            let query = after.map { Self.queryString([("after", $0)]) } ?? ""
            let answer: RoomsEnvelope = try call("GET", "/rooms" + query)
            all += answer.rooms
            guard answer.hasMore == true, let last = answer.rooms.last?.name else { return all }
            after = last
        }
    }

    /// Creates a room; `isPrivate` makes it visible to its members only.
    public func createRoom(_ name: String, isPrivate: Bool = false) throws -> APIRoom {
        var body = ["name": name]
        if isPrivate { body["visibility"] = "private" }
        let answer: RoomEnvelope = try call("POST", "/rooms", json: body)
        return answer.room
    }

    /// One room with its members (`@bob` for a direct room).
    public func room(_ name: String) throws -> APIRoom {
        let answer: RoomEnvelope = try call("GET", "/rooms/" + Self.segment(name))
        return answer.room
    }

    /// Adds `username` to `room` (yourself: joins a public room). True when added, false when already a member.
    @discardableResult
    public func addMember(room: String, username: String) throws -> Bool {
        _ = try exchange("PUT", "/rooms/\(Self.segment(room))/members/\(Self.segment(username))", body: nil)
        return lastStatus == 201
    }

    /// Removes `username` from `room` (yourself: leaves it).
    public func removeMember(room: String, username: String) throws {
        _ = try exchange("DELETE", "/rooms/\(Self.segment(room))/members/\(Self.segment(username))", body: nil)
    }

    // MARK: Messages

    /// Posts `text` to `room`. With a `clientID`, a retry of the same post answers the original message instead of
    /// storing a second one (API.md: idempotent within 24 hours).
    public func post(room: String = "general", text: String, clientID: String? = nil) throws -> APIMessage {
        var body = ["room": room, "text": text]
        if let clientID { body["client_id"] = clientID }
        let answer: MessageEnvelope = try call("POST", "/messages", json: body)
        return answer.message
    }

    /// History: the newest `limit` messages, or those before / after a seq (at most one of the two).
    public func history(room: String = "general", limit: Int? = nil, before: Int64? = nil, after: Int64? = nil) throws -> APIPage {
        var query: [(String, String)] = [("room", room)]
        if let limit { query.append(("limit", String(limit))) }
        if let before { query.append(("before", String(before))) }
        if let after { query.append(("after", String(after))) }
        return try call("GET", "/messages" + Self.queryString(query))
    }

    /// Long-poll: messages with seq > `after`, held up to `wait` seconds until one exists (then an empty page).
    public func poll(room: String = "general", after: Int64, wait: Int = 30, limit: Int? = nil) throws -> APIPage {
        var query: [(String, String)] = [("room", room), ("after", String(after)), ("wait", String(wait))]
        if let limit { query.append(("limit", String(limit))) }
        return try call("GET", "/messages" + Self.queryString(query))
    }

    // MARK: Service

    /// `GET /health`: true when the server answers 200.
    public func health() throws -> Bool {
        try exchange("GET", "/health", body: nil).status == 200
    }
}
