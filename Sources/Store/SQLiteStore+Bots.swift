// SQLiteStore: bots — accounts owned by a user, a token that does not expire, rotation and deletion in one commit.
import Chat

extension SQLiteStore {
    /// Tokens of bots never expire: the largest time there is.
    static let neverExpires = Int64.max

    public func createBot(username: String, owner: String, tokenHash: [UInt8], at: Timestamp,
                          completion: @escaping StoreCompletion<Bot>) {
        write(completion) { batch in
            let key = Validation.usernameKey(username)
            let changed = try batch.db.run(SQL.insertBot, [.text(username), .text(key), .int(at.milliseconds),
                                                           .text(Validation.usernameKey(owner))])
            guard changed == 1 else {
                let taken = try batch.db.query(SQL.userID, [.text(key)]) { $0.int(0) }.first != nil
                return .failure(taken ? .usernameTaken(username) : .userNotFound(owner))
            }
            guard let bot = try Self.bot(batch, username: username, owner: owner) else { return .failure(.userNotFound(owner)) }
            try batch.db.run(SQL.insertTokenFor, [.blob(tokenHash), .int(bot.id), .int(Self.neverExpires)])
            try batch.db.run(SQL.joinGeneral, [.text(key)])     // a member of `general`, as every new account
            try Self.joinedGeneral(batch, username: username)
            return .success(bot.bot)
        }
    }

    public func bots(owner: String, completion: @escaping StoreCompletion<[Bot]>) {
        read(completion) { db in
            .success(try db.query(SQL.botsOf, [.text(Validation.usernameKey(owner))]) { row in
                Bot(username: row.text(0), owner: row.text(1), createdAt: Timestamp(milliseconds: row.int(2)))
            })
        }
    }

    public func replaceBotToken(username: String, owner: String, tokenHash: [UInt8],
                                completion: @escaping StoreCompletion<Bot>) {
        write(completion) { batch in
            guard let bot = try Self.bot(batch, username: username, owner: owner) else { return .failure(.botNotFound(username)) }
            try batch.db.run(SQL.deleteUserTokens, [.int(bot.id)])   // the trigger bumps `tokens`: every reader's cache drops
            try batch.db.run(SQL.insertTokenFor, [.blob(tokenHash), .int(bot.id), .int(Self.neverExpires)])
            return .success(bot.bot)
        }
    }

    public func deleteBot(username: String, owner: String, at: Timestamp, completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            guard let bot = try Self.bot(batch, username: username, owner: owner) else { return .failure(.botNotFound(username)) }
            try batch.db.run(SQL.deleteUserTokens, [.int(bot.id)])
            try batch.db.run(SQL.markDeleted, [.int(at.milliseconds), .int(bot.id)])
            return .success(())
        }
    }

    private static func bot(_ batch: SQLiteBatch, username: String, owner: String) throws -> (id: Int64, bot: Bot)? {
        try batch.db.query(SQL.botOf, [.text(Validation.usernameKey(username)), .text(Validation.usernameKey(owner))]) { row in
            (row.int(0), Bot(username: row.text(1), owner: row.text(2), createdAt: Timestamp(milliseconds: row.int(3))))
        }.first
    }
}
