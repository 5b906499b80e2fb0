// The feed (../shared/API.md "The feed: GET /events"): events of every room a user belongs to, in one order.

/// What happened at one position of the feed.
public enum FeedEventKind: Sendable, Hashable {
    case message(Message)                // a new message in `room`
    case joined(RoomView)                // `user` became a member of `room` (the room as they see it now)
    case left                            // `user` stopped being one
}

/// One event at its position `pos`: positions grow with commit order over the whole database (every instance),
/// and within a room they follow `seq`.
public struct FeedEvent: Sendable, Hashable {
    public var pos: Int64
    public var room: String
    public var kind: FeedEventKind
    public var user: String?             // joined/left: whose membership (as registered); nil for messages
    public init(pos: Int64, room: String, kind: FeedEventKind, user: String?) {
        self.pos = pos
        self.room = room
        self.kind = kind
        self.user = user
    }
}

/// A page of the feed for one user. `next` is what to pass back as `after`: the last event's pos when more
/// follow, else the newest position of the whole feed when read (it may move past other users' events, and be
/// lower than the `after` asked for when that was past the newest).
public struct FeedPage: Sendable, Hashable {
    public var events: [FeedEvent]       // ascending pos
    public var next: Int64
    public var hasMore: Bool
    public var rooms: [String]           // the rooms the user is a member of as of `next` (lets waiters decide in memory)
    public init(events: [FeedEvent], next: Int64, hasMore: Bool, rooms: [String] = []) {
        self.events = events
        self.next = next
        self.hasMore = hasMore
        self.rooms = rooms
    }
}

/// Called by a store whenever the feed's newest position moved, whoever wrote it. `events` are the committed
/// events (ascending pos, ending at `newest`) when the write was this process's own, else nil.
public typealias FeedAdvancedHandler = @Sendable (_ newest: Int64, _ events: [FeedEvent]?) -> Void
