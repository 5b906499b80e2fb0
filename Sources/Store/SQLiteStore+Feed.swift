// SQLiteStore: the feed (../shared/API.md "The feed"): a user's events after a position, read in one snapshot.
import Chat

extension SQLiteStore {
    public func onFeedAdvanced(_ handler: @escaping FeedAdvancedHandler) {
        watcher.feed.setHandler(handler)
    }

    /// One read transaction: the user's events, the newest position and their rooms come from one snapshot, so
    /// `next` never skips an event committed between two statements.
    public func feed(username: String, after: Int64?, limit: Int, completion: @escaping StoreCompletion<FeedPage>) {
        read(completion) { db in
            try db.run(SQL.beginRead, [])
            defer { _ = try? db.run(SQL.commit, []) }
            let newest = try db.query(SQL.newestPos, []) { $0.int(0) }.first ?? 0
            guard let userID = try db.query(SQL.userID, [.text(Validation.usernameKey(username))], row: { $0.int(0) }).first
            else { return .failure(.userNotFound(username)) }
            let rooms = try db.query(SQL.memberRooms, [.int(userID)]) { $0.text(0) }
            guard let after, after < newest else { return .success(FeedPage(events: [], next: newest, hasMore: false, rooms: rooms)) }
            var rows = try db.query(SQL.feed, [.int(userID), .int(after), .int(Int64(limit) + 1)]) { row in
                (event: Self.feedEvent(row, username: username), roomID: row.int(14))
            }
            let hasMore = rows.count > limit
            if hasMore { rows.removeLast() }
            let events = try Self.withFiles(db, rows)
            return .success(FeedPage(events: events, next: hasMore ? events.last!.pos : newest, hasMore: hasMore, rooms: rooms))
        }
    }

    /// Message events carry their files as history pages do: one `attachFiles` query per room in the page (its
    /// message events are in ascending seq, as pos order is commit order).
    static func withFiles(_ db: SQLiteConnection, _ rows: [(event: FeedEvent, roomID: Int64)]) throws -> [FeedEvent] {
        var events = rows.map(\.event)
        var indexes: [Int64: [Int]] = [:]
        for (i, row) in rows.enumerated() { if case .message = row.event.kind { indexes[row.roomID, default: []].append(i) } }
        for (roomID, positions) in indexes {
            var messages = positions.map { i -> Message in
                guard case .message(let message) = events[i].kind else { preconditionFailure("indexed a message") }
                return message
            }
            try attachFiles(db, roomID: roomID, to: &messages)
            for (i, message) in zip(positions, messages) where !message.files.isEmpty { events[i].kind = .message(message) }
        }
        return events
    }

    /// Columns of `SQL.feed`: pos, type, room name, created_at, last_seq, visibility, owner, then the message's
    /// seq, id, user, text, created_at, client_id, bot (NULL unless a message), and the room's id.
    static func feedEvent(_ row: SQLiteStatement, username: String) -> FeedEvent {
        let pos = row.int(0), type = row.text(1), room = row.text(2)
        switch type {
        case "message":
            let message = Message(id: row.text(8), room: room, seq: row.int(7), user: row.text(9), text: row.text(10),
                                  createdAt: Timestamp(milliseconds: row.int(11)), clientID: row.optionalText(12),
                                  bot: row.int(13) != 0)
            return FeedEvent(pos: pos, room: room, kind: .message(message), user: nil)
        case "joined":
            let view = RoomView(room: Room(name: room, createdAt: Timestamp(milliseconds: row.int(3)), lastSeq: row.int(4),
                                           visibility: RoomVisibility(rawValue: row.text(5)) ?? .private,
                                           owner: row.optionalText(6)), joined: true)
            return FeedEvent(pos: pos, room: room, kind: .joined(view), user: username)
        default:
            return FeedEvent(pos: pos, room: room, kind: .left, user: username)
        }
    }
}
