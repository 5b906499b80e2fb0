// SQLiteStore: users, session tokens (kept as SHA-256 only) and the failed-login records behind throttling.
import Chat

extension SQLiteStore {
    public func createUser(username: String, passwordHash: String, at: Timestamp,
                           completion: @escaping StoreCompletion<User>) {
        write(completion) { batch in
            let key = Validation.usernameKey(username)
            let changed = try batch.db.run(SQL.insertUser, [.text(username), .text(key), .text(passwordHash),
                                                            .int(at.milliseconds)])
            guard changed == 1 else { return .failure(.usernameTaken(username)) }
            try batch.db.run(SQL.joinGeneral, [.text(key)])     // new users are members of `general`
            return .success(User(username: username, createdAt: at))
        }
    }

    public func user(named username: String, completion: @escaping StoreCompletion<StoredUser?>) {
        read(completion) { db in
            .success(try db.query(SQL.userByKey, [.text(Validation.usernameKey(username))]) { row in
                StoredUser(user: User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1))),
                           passwordHash: row.text(2))
            }.first)
        }
    }

    public func createToken(hash: [UInt8], username: String, expiresAt: Timestamp, now: Timestamp,
                            completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            // Logins are rare next to posts: a good moment to drop tokens that can no longer authenticate.
            try batch.db.run(SQL.deleteExpiredTokens, [.int(now.milliseconds)])
            let changed = try batch.db.run(SQL.insertToken, [.blob(hash), .int(expiresAt.milliseconds),
                                                             .text(Validation.usernameKey(username))])
            return changed == 1 ? .success(()) : .failure(.unavailable("user '\(username)' vanished"))
        }
    }

    /// Every authenticated request asks this, so a found token is cached per reader until a commit that removed
    /// or changed any token or user (a logout or expiry purge, here or on another instance: the `tokens`
    /// generation, see `SQLiteReader`) drops the cache; posts and logins keep it. Expiry is checked on each use.
    /// Unknown tokens are not cached: guessing must not fill memory.
    public func user(tokenHash: [UInt8], now: Timestamp, completion: @escaping StoreCompletion<User?>) {
        cachedRead(completion) { reader in
            try reader.revalidate()
            return .success(try Self.user(reader, tokenHash: tokenHash, now: now))
        }
    }

    /// The token's user from `reader` (revalidated by the caller), through its cache.
    static func user(_ reader: SQLiteReader, tokenHash: [UInt8], now: Timestamp) throws -> User? {
        let key = SQLiteReader.TokenKey(tokenHash)
        if let key, let hit = reader.token(key) {
            return hit.expiresAt > now.milliseconds ? hit.user : nil
        }
        guard let entry = try reader.db.query(SQL.userByToken, [.blob(tokenHash)], row: { row in
            SQLiteReader.TokenEntry(user: User(username: row.text(0), createdAt: Timestamp(milliseconds: row.int(1))),
                                    expiresAt: row.int(2))
        }).first else { return nil }
        if let key { reader.remember(entry, for: key) }
        return entry.expiresAt > now.milliseconds ? entry.user : nil
    }

    public func deleteToken(hash: [UInt8], completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            try batch.db.run(SQL.deleteToken, [.blob(hash)])
            return .success(())
        }
    }

    public func claimLoginAttempt(username: String, address: String, at: Timestamp, since: Timestamp, limit: Int,
                                  completion: @escaping StoreCompletion<[Timestamp]?>) {
        write(completion) { batch in
            try batch.db.run(SQL.forgetLoginFailures, [.int(since.milliseconds + 1)])
            let failures = try batch.db.query(SQL.loginFailures, [.text(username), .text(address), .int(since.milliseconds)]) {
                Timestamp(milliseconds: $0.int(0))
            }
            if failures.count >= limit { return .success(failures) }
            try batch.db.run(SQL.insertLoginFailure, [.text(username), .text(address), .int(at.milliseconds)])
            return .success(nil)
        }
    }

    public func clearLoginFailures(username: String, address: String, completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            try batch.db.run(SQL.clearLoginFailures, [.text(username), .text(address)])
            return .success(())
        }
    }
}
