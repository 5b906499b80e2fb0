// SQLiteStore: posting through the group-commit writer, and history pages read in one snapshot.
import Chat

extension SQLiteStore {
    public func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>) {
        write(completion) { batch in try batch.post(request) }
    }

    /// Answered from the reader's cache while the room's `last_seq` is unchanged since it was read (a post to that
    /// room, here or on another instance, drops its pages: see `SQLiteReader`); else read and cached.
    public func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>) {
        cachedRead(completion) { reader in
            try reader.revalidate()
            return try Self.history(reader, room: room, cursor: cursor, limit: limit)
        }
    }

    /// One revalidation for the three reads: access and page are as fresh as the token check (all as of this
    /// request), and the access comes from the reader's cache (no query once the pair is known).
    public func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                        completion: @escaping StoreCompletion<TokenHistory?>) {
        cachedRead(completion) { reader in
            try reader.revalidate()
            guard let user = try Self.user(reader, tokenHash: tokenHash, now: now) else { return .success(nil) }
            let access = try Self.access(reader, room: room, username: user.username)
            guard let access, access.admits else { return .success(TokenHistory(user: user, access: access, page: nil)) }
            return try Self.history(reader, room: room, cursor: cursor, limit: limit).map {
                TokenHistory(user: user, access: access, page: $0)
            }
        }
    }

    /// A page from `reader` (revalidated by the caller), through its cache.
    static func history(_ reader: SQLiteReader, room: String, cursor: HistoryCursor,
                        limit: Int) throws -> Result<HistoryPage, ChatError> {
        let key = SQLiteReader.PageKey(room: room, cursor: cursor, limit: limit)
        if let hit = reader.page(key) { return .success(hit) }
        let result = try readHistory(reader.db, room: room, cursor: cursor, limit: limit)
        if case .success(let page) = result { reader.remember(page, for: key) }
        return result
    }

    /// One read transaction, so `last_seq` and the page come from the same snapshot. Reads `limit + 1` rows
    /// to learn `has_more` without a count.
    static func readHistory(_ db: SQLiteConnection, room: String, cursor: HistoryCursor,
                            limit: Int) throws -> Result<HistoryPage, ChatError> {
        try db.run(SQL.beginRead, [])
        defer { _ = try? db.run(SQL.commit, []) }
        guard let (roomID, lastSeq) = try db.query(SQL.roomByName, [.text(room)], row: { ($0.int(0), $0.int(2)) }).first
        else { return .failure(.roomNotFound(room)) }
        let sql: String
        var values: [SQLiteValue] = [.int(roomID)]
        switch cursor {
        case .newest: sql = SQL.messagesNewest
        case .before(let b): sql = SQL.messagesBefore; values.append(.int(b))
        case .after(let a): sql = SQL.messagesAfter; values.append(.int(a))
        }
        values.append(.int(Int64(limit) + 1))
        var messages = try db.query(sql, values) { row in
            Message(id: row.text(1), room: room, seq: row.int(0), user: row.text(2), text: row.text(3),
                    createdAt: Timestamp(milliseconds: row.int(4)), clientID: row.optionalText(5))
        }
        let hasMore = messages.count > limit
        if hasMore { messages.removeLast() }
        if case .after = cursor {} else { messages.reverse() }
        return .success(HistoryPage(room: room, messages: messages, hasMore: hasMore, lastSeq: lastSeq))
    }
}
