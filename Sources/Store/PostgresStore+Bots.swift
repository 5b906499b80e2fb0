// PostgresStore: bots — accounts owned by a user, a token that does not expire, rotation and deletion in one commit,
// revoked on every instance (NOTIFY konnect_tokens for each token removed).
import Chat

extension PostgresStore {
    /// Tokens of bots never expire: the largest time there is.
    static let neverExpires = Int64.max

    public func createBot(username: String, owner: String, tokenHash: [UInt8], at: Timestamp,
                          completion: @escaping StoreCompletion<Bot>) {
        write(evictingAccess(completion)) { batch in
            guard let row = try batch.db.query(PGSQL.insertBot, [
                .text(username), .text(Validation.usernameKey(username)), .int(at.milliseconds),
                .text(Validation.usernameKey(owner)), .bytea(tokenHash), .int(Self.neverExpires),
            ], row: { row in
                (owner: row.optionalText(0), botID: row.isNull(1) ? nil : row.int(1),
                 general: Self.joinedGeneral(row, from: 2))
            }).first else { return .failure(.unavailable("no answer")) }
            guard let registeredOwner = row.owner else { return .failure(.userNotFound(owner)) }
            guard let botID = row.botID else { return .failure(.usernameTaken(username)) }
            if let general = row.general {          // a member of `general`, as every new account
                batch.membershipEvent("joined", roomID: general.id, room: general.view.name, userID: botID,
                                      username: username, view: general.view)
            }
            return .success(Bot(username: username, owner: registeredOwner, createdAt: at))
        }
    }

    public func bots(owner: String, completion: @escaping StoreCompletion<[Bot]>) {
        read(completion) { db in
            .success(try db.query(PGSQL.botsOf, [.text(Validation.usernameKey(owner))]) { row in
                Bot(username: row.text(0), owner: row.text(1), createdAt: Timestamp(milliseconds: row.int(2)))
            })
        }
    }

    /// The old tokens are deleted and NOTIFYed in the transaction (every other instance evicts them when the
    /// NOTIFY arrives, within 90 ms even if it is lost); this instance drops its whole token cache after COMMIT,
    /// before answering.
    public func replaceBotToken(username: String, owner: String, tokenHash: [UInt8],
                                completion: @escaping StoreCompletion<Bot>) {
        write(evictingTokens(completion)) { batch in
            guard let bot = try Self.lockBot(batch, username: username, owner: owner) else { return .failure(.botNotFound(username)) }
            try batch.db.query(PGSQL.deleteUserTokens, [.int(bot.id)]) { _ in () }
            try batch.db.run(PGSQL.insertTokenFor, [.bytea(tokenHash), .int(bot.id), .int(Self.neverExpires)])
            return .success(bot.bot)
        }
    }

    public func deleteBot(username: String, owner: String, at: Timestamp, completion: @escaping StoreCompletion<Void>) {
        write(evictingTokens(completion)) { batch in
            guard let bot = try Self.lockBot(batch, username: username, owner: owner) else { return .failure(.botNotFound(username)) }
            try batch.db.query(PGSQL.deleteUserTokens, [.int(bot.id)]) { _ in () }
            try batch.db.run(PGSQL.markDeleted, [.int(at.milliseconds), .int(bot.id)])
            return .success(())
        }
    }

    /// A completion that first drops this instance's token cache (rotations and deletions are rare).
    private func evictingTokens<T>(_ completion: @escaping StoreCompletion<T>) -> StoreCompletion<T> {
        { [tokens] result in
            tokens.evictAll()
            completion(result)
        }
    }

    /// `owner`'s live bot `username`, its row locked to COMMIT (see `PGSQL.lockBotOf`).
    private static func lockBot(_ batch: PostgresBatch, username: String, owner: String) throws -> (id: Int64, bot: Bot)? {
        try batch.db.query(PGSQL.lockBotOf, [.text(Validation.usernameKey(username)), .text(Validation.usernameKey(owner))]) { row in
            (row.int(0), Bot(username: row.text(1), owner: row.text(2), createdAt: Timestamp(milliseconds: row.int(3))))
        }.first
    }
}
