// PostgresStore: users, session tokens (kept as SHA-256 only) and failed logins counted across instances.
import Chat

extension PostgresStore {
    public func createUser(username: String, passwordHash: String, at: Timestamp,
                           completion: @escaping StoreCompletion<User>) {
        write(evictingAccess(completion)) { batch in
            // One statement: the user and their membership of `general` (rooms v2), in the same commit, with its
            // `joined` event.
            guard let row = try batch.db.query(PGSQL.insertUserJoiningGeneral, [
                .text(username), .text(Validation.usernameKey(username)), .text(passwordHash), .int(at.milliseconds),
            ], row: { (userID: $0.int(0), general: Self.joinedGeneral($0, from: 1)) }).first else {
                return .failure(.usernameTaken(username))
            }
            if let general = row.general {
                batch.membershipEvent("joined", roomID: general.id, room: general.view.name, userID: row.userID,
                                      username: username, view: general.view)
            }
            return .success(User(username: username, createdAt: at))
        }
    }

    /// `general` (no owner) as a new member sees it, from columns id, name, created_at, last_seq, visibility at
    /// `from`…; nil when there is no `general`.
    static func joinedGeneral(_ row: PostgresRow, from c: Int32) -> (id: Int64, view: RoomView)? {
        guard !row.isNull(c) else { return nil }
        let room = Room(name: row.text(c + 1), createdAt: Timestamp(milliseconds: row.int(c + 2)), lastSeq: row.int(c + 3),
                        visibility: RoomVisibility(rawValue: row.text(c + 4)) ?? .public, owner: nil)
        return (row.int(c), RoomView(room: room, joined: true))
    }

    public func user(named username: String, completion: @escaping StoreCompletion<StoredUser?>) {
        read(completion) { db in
            .success(try db.query(PGSQL.userByKey, [.text(Validation.usernameKey(username))]) { row in
                StoredUser(user: User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), bot: row.bool(3)),
                           passwordHash: row.text(2))
            }.first)
        }
    }

    public func createToken(hash: [UInt8], username: String, expiresAt: Timestamp, now: Timestamp,
                            completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            try batch.db.run(PGSQL.deleteExpiredTokens, [.int(now.milliseconds)])
            let changed = try batch.db.run(PGSQL.insertToken, [.bytea(hash), .int(expiresAt.milliseconds),
                                                               .text(Validation.usernameKey(username))])
            return changed == 1 ? .success(()) : .failure(.unavailable("user '\(username)' vanished"))
        }
    }

    /// From the token cache when it holds a usable entry (answered on the caller's thread: memory only), else
    /// read and remembered. A logout on this instance fails the token at the next request; on another, within
    /// 90 ms, usually at once (see `PostgresTokenCache`).
    public func user(tokenHash: [UInt8], now: Timestamp, completion: @escaping StoreCompletion<User?>) {
        if let user = tokens.user(tokenHash, now: now) { return completion(.success(user)) }
        let ticket = tokens.ticket()
        read(completion) { [tokens] db in
            .success(try Self.user(db, tokenHash: tokenHash, now: now, cache: tokens, ticket: ticket))
        }
    }

    static func user(_ db: PostgresConnection, tokenHash: [UInt8], now: Timestamp, cache: PostgresTokenCache,
                     ticket: (generation: UInt64, started: UInt64)) throws -> User? {
        guard let (user, expiresAt) = try db.query(PGSQL.userByToken, [.bytea(tokenHash), .int(now.milliseconds)], row: { row in
            (User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), bot: row.bool(3)), row.int(2))
        }).first else { return nil }
        cache.remember(tokenHash, user: user, expiresAt: expiresAt, ticket: ticket)
        return user
    }

    /// Other instances drop the token when the NOTIFY sent at COMMIT reaches them; this one before answering.
    public func deleteToken(hash: [UInt8], completion: @escaping StoreCompletion<Void>) {
        write({ [tokens] result in
            tokens.evict(hash)
            completion(result)
        }) { batch in
            try batch.db.query(PGSQL.deleteToken, [.bytea(hash)]) { _ in () }
            return .success(())
        }
    }

    /// Atomic across instances: a transaction-scoped advisory lock on the (username, address) pair makes
    /// concurrent claims on any instance count one after another.
    public func claimLoginAttempt(username: String, address: String, at: Timestamp, since: Timestamp, limit: Int,
                                  completion: @escaping StoreCompletion<[Timestamp]?>) {
        write(completion) { batch in
            try batch.db.query(PGSQL.lockLoginPair, [.text(username), .text(address)]) { _ in () }
            try batch.db.run(PGSQL.forgetLoginFailures, [.int(since.milliseconds)])
            let failures = try batch.db.query(PGSQL.loginFailures, [.text(username), .text(address), .int(since.milliseconds)]) {
                Timestamp(milliseconds: $0.int(0))
            }
            if failures.count >= limit { return .success(failures) }
            try batch.db.run(PGSQL.insertLoginFailure, [.text(username), .text(address), .int(at.milliseconds)])
            return .success(nil)
        }
    }

    public func clearLoginFailures(username: String, address: String, completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            try batch.db.run(PGSQL.clearLoginFailures, [.text(username), .text(address)])
            return .success(())
        }
    }
}
