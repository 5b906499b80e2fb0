// PostgresStore: the feed (../shared/API.md "The feed"): a user's events after a position, read in one statement.
import Chat

extension PostgresStore {
    /// This process's commits at once with their events; other instances' by NOTIFY konnect_feed; every held feed
    /// re-reads once after the listener reconnects (see `PostgresListener`).
    public func onFeedAdvanced(_ handler: @escaping FeedAdvancedHandler) {
        listener.feed.setHandler(handler)
    }

    /// One statement (`PGSQL.feed`), so one snapshot: the user's events, the newest position and their rooms
    /// agree, and `next` never skips an event committed meanwhile. The newest position is the committed counter:
    /// positions are taken under its row lock in commit order, so no event at or below it can commit later.
    public func feed(username: String, after: Int64?, limit: Int, completion: @escaping StoreCompletion<FeedPage>) {
        read(completion) { db in
            var newest: Int64 = 0, userFound = false, rooms: [String] = []
            var events: [FeedEvent] = []
            var first = true
            try db.query(PGSQL.feed, [.text(Validation.usernameKey(username)), .optionalText(after.map(String.init)),
                                      .int(Int64(limit) + 1)]) { row in
                if first {
                    first = false
                    newest = row.int(0)
                    userFound = !row.isNull(1)
                    rooms = row.optionalText(2).map { $0.split(separator: " ").map(String.init) } ?? []
                }
                guard !row.isNull(3) else { return }
                events.append(Self.feedEvent(row, username: username))
            }
            guard userFound else { return .failure(.userNotFound(username)) }
            guard let after, after < newest else { return .success(FeedPage(events: [], next: newest, hasMore: false, rooms: rooms)) }
            let hasMore = events.count > limit
            if hasMore { events.removeLast() }
            return .success(FeedPage(events: events, next: hasMore ? events.last!.pos : newest, hasMore: hasMore, rooms: rooms))
        }
    }

    /// An event from `PGSQL.feed`'s columns 3–: pos, type, the room (name, created_at, last_seq, visibility,
    /// owner), then the message's columns as `message(_:at:room:)` reads them (NULL unless a message). The one
    /// place message events are built.
    static func feedEvent(_ row: PostgresRow, username: String) -> FeedEvent {
        let pos = row.int(3), type = row.text(4), room = row.text(5)
        switch type {
        case "message":
            return FeedEvent(pos: pos, room: room, kind: .message(message(row, at: 10, room: room)), user: nil)
        case "joined":
            let view = RoomView(room: Room(name: room, createdAt: Timestamp(milliseconds: row.int(6)), lastSeq: row.int(7),
                                           visibility: RoomVisibility(rawValue: row.text(8)) ?? .private,
                                           owner: row.optionalText(9)), joined: true)
            return FeedEvent(pos: pos, room: room, kind: .joined(view), user: username)
        default:
            return FeedEvent(pos: pos, room: room, kind: .left, user: username)
        }
    }
}
