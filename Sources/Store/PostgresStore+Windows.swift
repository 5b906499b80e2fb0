// PostgresStore: history pages for a known user, reading from PostgreSQL only the messages not held in memory.
import Chat

extension PostgresStore {
    /// As `accessHistory` — the access (read every time), `last_seq` and the page from one snapshot — but only the
    /// messages `messageCache` does not hold are read, in one statement with every other page waiting for a reader
    /// (`PostgresPageBatch`). Where the time went before (README "On PostgreSQL"): reading, sending and decoding a
    /// page's 51 rows of text, and the statement's fixed costs.
    func windowHistory(user: User, room: String, cursor: HistoryCursor, bound: Int64, limit: Int,
                       completion: @escaping StoreCompletion<TokenHistory?>) {
        let cursor = Self.windowCursor(cursor)
        let held = messageCache.held(room: room, window: messageCache.expectedWindow(room: room, cursor: cursor, limit: limit))
        let request = PostgresPageBatch.Request(user: user, room: room, cursor: cursor, bound: bound, limit: limit,
                                                held: held, completion: completion)
        if pageBatch.add(request) { submitPageDrain() }
    }

    /// Cursors far past any seq answer as at 2^62 (the same page), so no window arithmetic can overflow.
    static func windowCursor(_ cursor: HistoryCursor) -> HistoryCursor {
        let far: Int64 = 1 << 62
        switch cursor {
        case .newest: return .newest
        case .before(let b): return .before(min(max(b, 0), far))
        case .after(let a): return .after(min(max(a, 0), far))
        }
    }

    private func submitPageDrain() {
        let started = Flag()
        readers.submit { [self] db, error, lastTry in
            let (requests, more) = pageBatch.take(first: !started.value)
            started.value = true
            if more { submitPageDrain() }
            guard !requests.isEmpty else { return true }
            guard let db else {
                let failure = ChatError.unavailable("\(error.map { "\($0)" } ?? "no connection")")
                for r in requests { r.completion(.failure(failure)) }
                return true
            }
            let results: [Result<TokenHistory?, ChatError>]
            do { results = try Self.windowPages(db, requests, cache: messageCache) } catch {
                // A connection that died while idle is noticed here: the same requests run again on a new one.
                if !lastTry, db.isBroken { pageBatch.putBack(requests); return false }
                let failure = ChatError.unavailable("\(error)")
                for r in requests { r.completion(.failure(failure)) }
                return true
            }
            for (r, result) in zip(requests, results) { r.completion(result) }
            return true
        }
    }

    /// One drain job's runs happen on one reader thread, one after the other.
    private final class Flag: @unchecked Sendable { var value = false }

    /// Runs `PGSQL.windowBatch` for `requests` and makes each one's answer.
    static func windowPages(_ db: PostgresConnection, _ requests: [PostgresPageBatch.Request],
                            cache: PostgresMessageCache) throws -> [Result<TokenHistory?, ChatError>] {
        struct Found {
            let roomID: Int64
            let lastSeq: Int64
            let access: RoomAccess
            var fetched: [Message] = []
        }
        var kinds: [Int64] = [], bounds: [Int64] = [], spans: [Int64] = [], skipLo: [Int64] = [], skipHi: [Int64] = []
        for r in requests {
            switch r.cursor {
            case .newest: kinds.append(0); bounds.append(1 << 62)
            case .before(let b): kinds.append(1); bounds.append(b)
            case .after(let a): kinds.append(2); bounds.append(a)
            }
            spans.append(Int64(r.limit) + 1)
            skipLo.append(r.held.lo)
            skipHi.append(r.held.hi)
        }
        var found = [Found?](repeating: nil, count: requests.count)
        try db.query(PGSQL.windowBatch, [
            .text(PostgresArray.literal(requests.map { Optional($0.room) })), .text(PostgresArray.literal(kinds)),
            .text(PostgresArray.literal(bounds)), .text(PostgresArray.literal(spans)),
            .text(PostgresArray.literal(requests.map { Optional(Validation.usernameKey($0.user.username)) })),
            .text(PostgresArray.literal(skipLo)), .text(PostgresArray.literal(skipHi)),
        ]) { row in
            let i = Int(row.int(0)) - 1
            guard requests.indices.contains(i) else { return }
            let room = requests[i].room
            if found[i] == nil {
                found[i] = Found(roomID: row.int(1), lastSeq: row.int(2),
                                 access: RoomAccess(room: room, visibility: RoomVisibility(rawValue: row.text(3)) ?? .private,
                                                    owner: row.optionalText(4), isMember: row.bool(5)))
            }
            guard !row.isNull(6) else { return }
            found[i]!.fetched.append(message(row, at: 6, room: room))
        }
        var results: [Result<TokenHistory?, ChatError>] = []
        results.reserveCapacity(requests.count)
        for (r, f) in zip(requests, found) {
            // No page unless the access admits the user: the statement read no message then, and nothing held is used.
            guard let f, f.access.admits else {
                results.append(.success(TokenHistory(user: r.user, access: f?.access, page: nil)))
                continue
            }
            cache.remember(room: r.room, roomID: f.roomID, f.fetched)
            if let page = windowPage(room: r.room, cursor: r.cursor, limit: r.limit, lastSeq: f.lastSeq, roomID: f.roomID,
                                     fetched: f.fetched, held: r.held) {
                results.append(.success(TokenHistory(user: r.user, access: f.access, page: page)))
                continue
            }
            // Never expected (seqs are gap-free and messages never change): read it whole, the way before the cache.
            cache.forget(room: r.room)
            results.append(try accessHistory(db, user: r.user, room: r.room, cursor: r.cursor, bound: r.bound, limit: r.limit))
        }
        return results
    }

    /// The page from the rows read and the held run, or nil when they do not make up exactly the seqs the cursor
    /// names (a gap, a row outside the window, a held run of another room).
    static func windowPage(room: String, cursor: HistoryCursor, limit: Int, lastSeq: Int64, roomID: Int64,
                           fetched: [Message], held: PostgresMessageCache.Held) -> HistoryPage? {
        let span = Int64(limit)
        let lo: Int64, hi: Int64
        switch cursor {
        case .newest: lo = max(1, lastSeq - span); hi = lastSeq
        case .before(let b): hi = min(b - 1, lastSeq); lo = max(1, hi - span)
        case .after(let a): lo = a + 1; hi = min(a + span + 1, lastSeq)
        }
        var bySeq: [Int64: Message] = [:]
        for m in fetched {
            guard lo <= m.seq, m.seq <= hi, bySeq.updateValue(m, forKey: m.seq) == nil else { return nil }
        }
        var messages: [Message] = []
        if lo <= hi {
            messages.reserveCapacity(Int(hi - lo + 1))
            for seq in lo...hi {
                if let m = bySeq[seq] {
                    messages.append(m)
                } else if held.roomID == roomID, held.lo <= seq, seq <= held.hi {
                    messages.append(held.messages[Int(seq - held.lo)])
                } else {
                    return nil
                }
            }
        }
        let hasMore = messages.count > limit
        if hasMore {
            if case .after = cursor { messages.removeLast() } else { messages.removeFirst() }
        }
        return HistoryPage(room: room, messages: messages, hasMore: hasMore, lastSeq: lastSeq)
    }
}
