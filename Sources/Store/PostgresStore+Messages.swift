// PostgresStore: rooms, posting through the group-commit writer, and history pages read in one statement.
import Chat

extension PostgresStore {
    public func rooms(completion: @escaping StoreCompletion<[Room]>) {
        read(completion) { db in
            .success(try db.query(PGSQL.rooms, []) { row in
                Room(name: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), lastSeq: row.int(2))
            })
        }
    }

    public func createRoom(name: String, at: Timestamp, completion: @escaping StoreCompletion<Room>) {
        write(completion) { batch in
            let changed = try batch.db.run(PGSQL.insertRoom, [.text(name), .int(at.milliseconds)])
            return changed == 1 ? .success(Room(name: name, createdAt: at, lastSeq: 0)) : .failure(.roomExists(name))
        }
    }

    public func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>) {
        write(completion, post: request) { batch in try batch.post(request) }
    }

    public func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>) {
        read(completion) { db in try Self.history(db, room: room, cursor: cursor, limit: limit) }
    }

    /// Both reads in one statement (one round trip, one snapshot): the token is checked exactly as
    /// `user(tokenHash:now:)` does, uncached.
    public func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                        completion: @escaping StoreCompletion<HistoryPage?>) {
        if tokens.user(tokenHash, now: now) != nil {
            return history(room: room, cursor: cursor, limit: limit) { completion($0.map { $0 }) }
        }
        let ticket = tokens.ticket()
        read(completion) { [tokens] db in
            let sql: String, bound: Int64
            switch cursor {
            case .newest: sql = PGSQL.authenticatedNewest; bound = 0
            case .before(let b): sql = PGSQL.authenticatedBefore; bound = b
            case .after(let a): sql = PGSQL.authenticatedAfter; bound = a
            }
            var user: (User, Int64)?
            var lastSeq: Int64?
            var messages: [Message] = []
            try db.query(sql, [.text(room), .int(bound), .int(Int64(limit) + 1), .bytea(tokenHash), .int(now.milliseconds)]) { row in
                guard !row.isNull(0) else { return }
                if user == nil { user = (User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1))), row.int(2)) }
                guard !row.isNull(3) else { return }
                lastSeq = row.int(3)
                guard !row.isNull(4) else { return }
                messages.append(Message(id: row.text(5), room: room, seq: row.int(4), user: row.text(6), text: row.text(7),
                                        createdAt: Timestamp(milliseconds: row.int(8)), clientID: row.optionalText(9)))
            }
            guard let (found, expiresAt) = user else { return .success(nil) }
            tokens.remember(tokenHash, user: found, expiresAt: expiresAt, ticket: ticket)
            return Self.page(room: room, cursor: cursor, limit: limit, lastSeq: lastSeq, messages: messages).map { $0 }
        }
    }

    /// One statement, so `last_seq` and the page come from one snapshot. Reads `limit + 1` rows to learn
    /// `has_more` without a count.
    static func history(_ db: PostgresConnection, room: String, cursor: HistoryCursor,
                        limit: Int) throws -> Result<HistoryPage, ChatError> {
        let sql: String, bound: Int64
        switch cursor {
        case .newest: sql = PGSQL.messagesNewest; bound = 0
        case .before(let b): sql = PGSQL.messagesBefore; bound = b
        case .after(let a): sql = PGSQL.messagesAfter; bound = a
        }
        var lastSeq: Int64?
        var messages: [Message] = []
        try db.query(sql, [.text(room), .int(bound), .int(Int64(limit) + 1)]) { row in
            lastSeq = row.int(0)
            guard !row.isNull(1) else { return }
            messages.append(Message(id: row.text(2), room: room, seq: row.int(1), user: row.text(3), text: row.text(4),
                                    createdAt: Timestamp(milliseconds: row.int(5)), clientID: row.optionalText(6)))
        }
        return page(room: room, cursor: cursor, limit: limit, lastSeq: lastSeq, messages: messages)
    }

    /// The page from `limit + 1` rows in query order; no `lastSeq`: the room does not exist.
    static func page(room: String, cursor: HistoryCursor, limit: Int, lastSeq: Int64?,
                     messages rows: [Message]) -> Result<HistoryPage, ChatError> {
        guard let lastSeq else { return .failure(.roomNotFound(room)) }
        var messages = rows
        let hasMore = messages.count > limit
        if hasMore { messages.removeLast() }
        if case .after = cursor {} else { messages.reverse() }
        return .success(HistoryPage(room: room, messages: messages, hasMore: hasMore, lastSeq: lastSeq))
    }
}
