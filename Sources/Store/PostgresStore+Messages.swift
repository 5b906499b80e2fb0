// PostgresStore: posting through the group-commit writer, and history pages (with their files) read in one statement.
import Chat

extension PostgresStore {
    public func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>) {
        write(completion, post: request) { batch in try batch.post(request) }
    }

    public func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>) {
        read(completion) { db in try Self.history(db, room: room, cursor: cursor, limit: limit) }
    }

    /// The token check, the access and the page in one statement (one round trip, one snapshot); with the token
    /// cached, the access and the page in one statement. The access is read every time (no cache): a membership
    /// change on any instance counts from the next request.
    public func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                        completion: @escaping StoreCompletion<TokenHistory?>) {
        let bound: Int64
        switch cursor {
        case .newest: bound = 0
        case .before(let b): bound = b
        case .after(let a): bound = a
        }
        if let user = tokens.user(tokenHash, now: now) {
            // Issue 11: with the user known, only the messages not in `messageCache` are read (PostgresStore+Windows).
            return windowHistory(user: user, room: room, cursor: cursor, bound: bound, limit: limit, completion: completion)
        }
        let ticket = tokens.ticket()
        read(completion) { [tokens] db in
            let sql: String
            switch cursor {
            case .newest: sql = PGSQL.authenticatedNewest
            case .before: sql = PGSQL.authenticatedBefore
            case .after: sql = PGSQL.authenticatedAfter
            }
            var user: (User, Int64)?
            var access: RoomAccess?
            var lastSeq: Int64?
            var messages: [Message] = []
            try db.query(sql, [.text(room), .int(bound), .int(Int64(limit) + 1), .bytea(tokenHash), .int(now.milliseconds)]) { row in
                guard !row.isNull(0) else { return }
                if user == nil {
                    user = (User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), bot: row.bool(15)), row.int(2))
                }
                guard !row.isNull(3) else { return }
                if access == nil {
                    lastSeq = row.int(3)
                    access = RoomAccess(room: room, visibility: RoomVisibility(rawValue: row.text(4)) ?? .private,
                                        owner: row.optionalText(5), isMember: row.bool(6))
                }
                guard !row.isNull(7) else { return }
                messages.append(Self.message(row, at: 7, room: room))
            }
            guard let (found, expiresAt) = user else { return .success(nil) }
            tokens.remember(tokenHash, user: found, expiresAt: expiresAt, ticket: ticket)
            return Self.tokenHistory(user: found, access: access, room: room, cursor: cursor, limit: limit,
                                     lastSeq: lastSeq, messages: messages)
        }
    }

    /// The page for a user already known (a cached token): the access and the page in one statement.
    static func accessHistory(_ db: PostgresConnection, user: User, room: String, cursor: HistoryCursor, bound: Int64,
                              limit: Int) throws -> Result<TokenHistory?, ChatError> {
        let sql: String
        switch cursor {
        case .newest: sql = PGSQL.accessNewest
        case .before: sql = PGSQL.accessBefore
        case .after: sql = PGSQL.accessAfter
        }
        var access: RoomAccess?
        var lastSeq: Int64?
        var messages: [Message] = []
        try db.query(sql, [.text(room), .int(bound), .int(Int64(limit) + 1),
                           .text(Validation.usernameKey(user.username))]) { row in
            if access == nil {
                lastSeq = row.int(0)
                access = RoomAccess(room: room, visibility: RoomVisibility(rawValue: row.text(1)) ?? .private,
                                    owner: row.optionalText(2), isMember: row.bool(3))
            }
            guard !row.isNull(4) else { return }
            messages.append(Self.message(row, at: 4, room: room))
        }
        return Self.tokenHistory(user: user, access: access, room: room, cursor: cursor, limit: limit,
                                 lastSeq: lastSeq, messages: messages)
    }

    /// The hot read's answer: no page unless the access admits the user (the statement read no messages then).
    private static func tokenHistory(user: User, access: RoomAccess?, room: String, cursor: HistoryCursor, limit: Int,
                                     lastSeq: Int64?, messages: [Message]) -> Result<TokenHistory?, ChatError> {
        guard let access, access.admits else { return .success(TokenHistory(user: user, access: access, page: nil)) }
        return page(room: room, cursor: cursor, limit: limit, lastSeq: lastSeq, messages: messages).map {
            TokenHistory(user: user, access: access, page: $0)
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
            messages.append(message(row, at: 1, room: room))
        }
        return page(room: room, cursor: cursor, limit: limit, lastSeq: lastSeq, messages: messages)
    }

    /// The page from `limit + 1` rows in query order; no `lastSeq`: the room does not exist.
    /// A message from the columns every statement that reads messages lists in this order, from `column` on:
    /// seq, id, username, text, created_at, client_id, bot, files.
    static func message(_ row: PostgresRow, at column: Int32, room: String) -> Message {
        Message(id: row.text(column + 1), room: room, seq: row.int(column), user: row.text(column + 2),
                text: row.text(column + 3), createdAt: Timestamp(milliseconds: row.int(column + 4)),
                clientID: row.optionalText(column + 5), bot: row.bool(column + 6), files: files(row, column + 7))
    }

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
