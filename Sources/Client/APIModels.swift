// The API's JSON objects as the client sees them (../shared/API.md), decoded with Codable.
import Foundation
import HTTP

/// A user as the API shows it: `{"username","created_at"}`.
public struct APIUser: Codable, Sendable, Hashable {
    public var username: String
    public var createdAt: String          // RFC 3339 UTC with milliseconds, as sent

    enum CodingKeys: String, CodingKey {
        case username
        case createdAt = "created_at"
    }
}

/// What `POST /login` answers: a bearer token for that user.
public struct APISession: Codable, Sendable, Hashable {
    public var token: String
    public var tokenType: String
    public var expiresAt: String
    public var user: APIUser

    enum CodingKeys: String, CodingKey {
        case token, user
        case tokenType = "token_type"
        case expiresAt = "expires_at"
    }
}

/// A room: `{"name","created_at","last_seq","visibility","joined","owner"}`, with `members` from GET /rooms/{name}.
/// The v2 fields are optional so that a v1 server's rooms still decode.
public struct APIRoom: Codable, Sendable, Hashable {
    public var name: String
    public var createdAt: String
    public var lastSeq: Int64
    public var visibility: String?        // public, private or direct
    public var joined: Bool?
    public var owner: String?
    public var members: [String]?

    enum CodingKeys: String, CodingKey {
        case name, visibility, joined, owner, members
        case createdAt = "created_at"
        case lastSeq = "last_seq"
    }

    public init(name: String, createdAt: String, lastSeq: Int64, visibility: String? = nil, joined: Bool? = nil,
                owner: String? = nil, members: [String]? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.lastSeq = lastSeq
        self.visibility = visibility
        self.joined = joined
        self.owner = owner
        self.members = members
    }
}

/// A message exactly as the API sends it; encoding it again gives the same object (`client_id` null included),
/// which is what `--json` prints.
public struct APIMessage: Codable, Sendable, Hashable {
    public var id: String
    public var room: String
    public var seq: Int64
    public var user: String
    public var text: String
    public var createdAt: String
    public var clientID: String?

    enum CodingKeys: String, CodingKey {
        case id, room, seq, user, text
        case createdAt = "created_at"
        case clientID = "client_id"
    }

    public init(id: String, room: String, seq: Int64, user: String, text: String, createdAt: String, clientID: String?) {
        self.id = id
        self.room = room
        self.seq = seq
        self.user = user
        self.text = text
        self.createdAt = createdAt
        self.clientID = clientID
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(room, forKey: .room)
        try c.encode(seq, forKey: .seq)
        try c.encode(user, forKey: .user)
        try c.encode(text, forKey: .text)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(clientID, forKey: .clientID)   // null when absent, as the API writes it
    }

    /// The creation time as a date (nil if the server sent something unparseable).
    public var date: Date? { APITime.parse(createdAt) }
}

/// One page of `GET /messages`: ascending seq, plus the room's newest seq when answered.
public struct APIPage: Codable, Sendable, Hashable {
    public var room: String
    public var messages: [APIMessage]
    public var hasMore: Bool
    public var lastSeq: Int64

    enum CodingKeys: String, CodingKey {
        case room, messages
        case hasMore = "has_more"
        case lastSeq = "last_seq"
    }
}

/// RFC 3339 timestamps as the contract writes them (`2026-11-25T12:00:00.123Z`).
public enum APITime {
    public static func parse(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}

/// A value printed as one line of JSON with the keys in the contract's order (JSONEncoder keeps no order), so
/// `konnect … --json` shows objects exactly as the API writes them.
public protocol JSONLine {
    var jsonLine: String { get }
}

extension APIUser: JSONLine {
    public var jsonLine: String { "{\"username\":\(jsonString(username)),\"created_at\":\(jsonString(createdAt))}" }
}

extension APISession: JSONLine {
    public var jsonLine: String {
        "{\"token\":\(jsonString(token)),\"token_type\":\(jsonString(tokenType)),"
            + "\"expires_at\":\(jsonString(expiresAt)),\"user\":\(user.jsonLine)}"
    }
}

extension APIRoom: JSONLine {
    public var jsonLine: String {
        var line = "{\"name\":\(jsonString(name)),\"created_at\":\(jsonString(createdAt)),\"last_seq\":\(lastSeq)"
        if let visibility { line += ",\"visibility\":\(jsonString(visibility))" }
        if let joined { line += ",\"joined\":\(joined)" }
        if visibility != nil { line += ",\"owner\":\(owner.map(jsonString) ?? "null")" }
        if let members { line += ",\"members\":[" + members.map(jsonString).joined(separator: ",") + "]" }
        return line + "}"
    }
}

extension APIMessage: JSONLine {
    public var jsonLine: String {
        "{\"id\":\(jsonString(id)),\"room\":\(jsonString(room)),\"seq\":\(seq),\"user\":\(jsonString(user)),"
            + "\"text\":\(jsonString(text)),\"created_at\":\(jsonString(createdAt)),"
            + "\"client_id\":\(clientID.map(jsonString) ?? "null")}"
    }
}
