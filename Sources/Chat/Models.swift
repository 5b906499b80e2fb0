// The chat domain's values: users, rooms, messages, pages. Plain data; no sockets, no SQL.

/// Milliseconds since the Unix epoch, UTC. Rendered as RFC 3339 with milliseconds: `2026-11-25T12:00:00.123Z`.
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }
}

public struct User: Sendable, Hashable {
    public var username: String          // as registered (case kept); unique ignoring ASCII case
    public var createdAt: Timestamp
    public init(username: String, createdAt: Timestamp) {
        self.username = username
        self.createdAt = createdAt
    }
}

/// Who may see a room (../shared/API.md "Rooms v2"): everyone signed in, or only its members.
public enum RoomVisibility: String, Sendable, Hashable {
    case `public`, `private`, direct
}

public struct Room: Sendable, Hashable {
    public var name: String
    public var createdAt: Timestamp
    public var lastSeq: Int64            // newest message's seq, 0 when empty
    public var visibility: RoomVisibility
    public var owner: String?            // the creator as registered; nil for `general`, v1 rooms and direct rooms
    public init(name: String, createdAt: Timestamp, lastSeq: Int64, visibility: RoomVisibility = .public,
                owner: String? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.lastSeq = lastSeq
        self.visibility = visibility
        self.owner = owner
    }
}

public struct Message: Sendable, Hashable {
    public var id: String                // unique on the server, opaque
    public var room: String
    public var seq: Int64                // 1, 2, 3, … per room, gap-free, in commit order
    public var user: String
    public var text: String
    public var createdAt: Timestamp
    public var clientID: String?
    public init(id: String, room: String, seq: Int64, user: String, text: String, createdAt: Timestamp, clientID: String?) {
        self.id = id
        self.room = room
        self.seq = seq
        self.user = user
        self.text = text
        self.createdAt = createdAt
        self.clientID = clientID
    }
}

/// Which slice of a room's history to read (../shared/API.md `GET /messages`).
public enum HistoryCursor: Sendable, Hashable {
    case newest                          // the newest `limit`
    case before(Int64)                   // the newest `limit` with seq < B
    case after(Int64)                    // the oldest `limit` with seq > A
}

public struct HistoryPage: Sendable, Hashable {
    public var room: String
    public var messages: [Message]       // ascending seq
    public var hasMore: Bool             // more exist further in the paging direction
    public var lastSeq: Int64            // the room's newest seq when read
    public init(room: String, messages: [Message], hasMore: Bool, lastSeq: Int64) {
        self.room = room
        self.messages = messages
        self.hasMore = hasMore
        self.lastSeq = lastSeq
    }
}

/// A login's result: the raw token is shown once, to the client; the store keeps only its SHA-256.
public struct Session: Sendable {
    public var token: String
    public var expiresAt: Timestamp
    public var user: User
    public init(token: String, expiresAt: Timestamp, user: User) {
        self.token = token
        self.expiresAt = expiresAt
        self.user = user
    }
}

/// The outcome of a post: `created` (201) or `replayed` (200, an idempotent retry returning the original).
public enum PostOutcome: Sendable {
    case created(Message)
    case replayed(Message)
}
