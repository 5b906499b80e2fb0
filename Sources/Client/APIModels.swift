// The API's JSON objects as the client sees them (../shared/API.md), decoded with Codable.
import Foundation
import HTTP

/// A user as the API shows it: `{"username","created_at"}`.
public struct APIUser: Codable, Sendable, Hashable {
    public var username: String
    public var createdAt: String          // RFC 3339 UTC with milliseconds, as sent
    public var bot: Bool?                 // v2: whether the account is a bot (nil from older servers)

    enum CodingKeys: String, CodingKey {
        case username, bot
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
    public var bot: Bool?                 // v2: written by a bot (nil from older servers)
    public var files: [APIFile]          // attached files (issue 15); empty when none (or from an older server)

    enum CodingKeys: String, CodingKey {
        case id, room, seq, user, text, bot, files
        case createdAt = "created_at"
        case clientID = "client_id"
    }

    public init(id: String, room: String, seq: Int64, user: String, text: String, createdAt: String, clientID: String?,
                bot: Bool? = nil, files: [APIFile] = []) {
        self.bot = bot
        self.files = files
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
        try c.encodeIfPresent(bot, forKey: .bot)
        try c.encode(files, forKey: .files)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        room = try c.decode(String.self, forKey: .room)
        seq = try c.decode(Int64.self, forKey: .seq)
        user = try c.decode(String.self, forKey: .user)
        text = try c.decode(String.self, forKey: .text)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
        bot = try c.decodeIfPresent(Bool.self, forKey: .bot)
        files = try c.decodeIfPresent([APIFile].self, forKey: .files) ?? []
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
    public var jsonLine: String {
        "{\"username\":\(jsonString(username)),\"created_at\":\(jsonString(createdAt))" + (bot.map { ",\"bot\":\($0)" } ?? "") + "}"
    }
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
            + "\"client_id\":\(clientID.map(jsonString) ?? "null"),"
            + (bot.map { "\"bot\":\($0)," } ?? "")
            + "\"files\":[" + files.map(\.jsonLine).joined(separator: ",") + "]}"
    }
}

extension APIFile: JSONLine {
    public var jsonLine: String {
        "{\"id\":\(jsonString(id)),\"name\":\(jsonString(name)),\"type\":\(jsonString(type)),\"size\":\(size),"
            + "\"sha256\":\(jsonString(sha256)),\"width\":\(width.map(String.init) ?? "null"),"
            + "\"height\":\(height.map(String.init) ?? "null"),\"created_at\":\(jsonString(createdAt))}"
    }
}

/// A stored file (../shared/API.md "Files and images").
public struct APIFile: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var type: String
    public var size: Int64
    public var sha256: String
    public var width: Int?
    public var height: Int?
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, type, size, sha256, width, height
        case createdAt = "created_at"
    }

    public init(id: String, name: String, type: String, size: Int64, sha256: String, width: Int?, height: Int?, createdAt: String) {
        self.id = id
        self.name = name
        self.type = type
        self.size = size
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.createdAt = createdAt
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode(size, forKey: .size)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(width, forKey: .width)          // null unless an image, as the API writes it
        try c.encode(height, forKey: .height)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// One event of `GET /events`: `message` (with `message`), `joined` (with `room_info`) or `left`.
public struct APIEvent: Codable, Sendable, Hashable {
    public var pos: Int64
    public var type: String
    public var room: String
    public var message: APIMessage?
    public var roomInfo: APIRoom?

    enum CodingKeys: String, CodingKey {
        case pos, type, room, message
        case roomInfo = "room_info"
    }
}

extension APIEvent: JSONLine {
    public var jsonLine: String {
        var line = "{\"pos\":\(pos),\"type\":\(jsonString(type)),\"room\":\(jsonString(room))"
        if let message { line += ",\"message\":\(message.jsonLine)" }
        if let roomInfo { line += ",\"room_info\":\(roomInfo.jsonLine)" }
        return line + "}"
    }
}

/// One page of `GET /events`: pass `next` back as `after`.
public struct APIEventPage: Codable, Sendable, Hashable {
    public var events: [APIEvent]
    public var next: Int64
    public var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case events, next
        case hasMore = "has_more"
    }
}

/// A bot as its owner sees it.
public struct APIBot: Codable, Sendable, Hashable {
    public var username: String
    public var owner: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case username, owner
        case createdAt = "created_at"
    }
}

extension APIBot: JSONLine {
    public var jsonLine: String {
        "{\"username\":\(jsonString(username)),\"owner\":\(jsonString(owner)),\"created_at\":\(jsonString(createdAt))}"
    }
}

/// `POST /bots` and `POST /bots/{username}/token`: the bot and its token (shown once).
public struct APIBotCredentials: Codable, Sendable, Hashable {
    public var bot: APIBot
    public var token: String
}

extension APIBotCredentials: JSONLine {
    public var jsonLine: String { "{\"bot\":\(bot.jsonLine),\"token\":\(jsonString(token))}" }
}
