// What PostgresStore does not implement yet (issue 11): the feed and bots are stored by SQLiteStore only.
// Each answers at once, honestly: 503 `unavailable` with a detail that says so and no Retry-After (retrying will
// not help), never a silent success.
import Chat

extension ChatError {
    static func notOnPostgres(_ feature: String) -> ChatError {
        ChatError(.unavailable, "unavailable", "\(feature) are not available on this server's PostgreSQL store yet")
    }
}

extension PostgresStore {
    // MARK: feed
    public func onFeedAdvanced(_ handler: @escaping FeedAdvancedHandler) {}   // no events are written here yet
    public func feed(username: String, after: Int64?, limit: Int, completion: @escaping StoreCompletion<FeedPage>) {
        completion(.failure(.notOnPostgres("the feed (GET /events)")))
    }

    // MARK: bots
    public func createBot(username: String, owner: String, tokenHash: [UInt8], at: Timestamp,
                          completion: @escaping StoreCompletion<Bot>) {
        completion(.failure(.notOnPostgres("bots")))
    }
    public func bots(owner: String, completion: @escaping StoreCompletion<[Bot]>) { completion(.success([])) }
    public func replaceBotToken(username: String, owner: String, tokenHash: [UInt8], completion: @escaping StoreCompletion<Bot>) {
        completion(.failure(.botNotFound(username)))
    }
    public func deleteBot(username: String, owner: String, at: Timestamp, completion: @escaping StoreCompletion<Void>) {
        completion(.failure(.botNotFound(username)))
    }
}
