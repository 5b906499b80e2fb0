// Bots (../shared/API.md "Bots"): accounts a user owns that sign in only with their token, for integrations.

/// A bot as its owner sees it.
public struct Bot: Sendable, Hashable {
    public var username: String          // as registered
    public var owner: String             // the owner's username as registered
    public var createdAt: Timestamp
    public init(username: String, owner: String, createdAt: Timestamp) {
        self.username = username
        self.owner = owner
        self.createdAt = createdAt
    }
}

/// A bot and its token: the raw token is shown once (creation, rotation); the store keeps only its SHA-256.
public struct BotCredentials: Sendable {
    public var bot: Bot
    public var token: String
    public init(bot: Bot, token: String) {
        self.bot = bot
        self.token = token
    }
}

extension ChatError {
    public static func botNotFound(_ name: String) -> ChatError {
        ChatError(.notFound, "bot_not_found", "you have no bot '\(name)'")
    }
}

extension ChatService {
    /// POST /bots: a bot owned by `user`, a member of `general` like any new account, with a token that does
    /// not expire. Errors: invalid_username, username_taken.
    public func createBot(user: User, username: String?, completion: @escaping Completion<BotCredentials>) {
        if let error = Validation.username(username) { return completion(.failure(error)) }
        guard let token = SessionToken.generate() else { return completion(.failure(.unavailable("no random bytes for a token"))) }
        store.createBot(username: username!, owner: user.username, tokenHash: SessionToken.hash(token), at: clock()) { result in
            completion(result.map { BotCredentials(bot: $0, token: token) })
        }
    }

    /// GET /bots: the caller's bots, by username.
    public func bots(user: User, completion: @escaping Completion<[Bot]>) {
        store.bots(owner: user.username, completion: completion)
    }

    /// POST /bots/{username}/token: a new token; every older one of that bot fails from the same commit.
    /// Errors: bot_not_found (someone else's bot, a deleted one, or no bot).
    public func rotateBotToken(user: User, username: String, completion: @escaping Completion<BotCredentials>) {
        guard Validation.username(username) == nil else { return completion(.failure(.botNotFound(username))) }
        guard let token = SessionToken.generate() else { return completion(.failure(.unavailable("no random bytes for a token"))) }
        store.replaceBotToken(username: username, owner: user.username, tokenHash: SessionToken.hash(token)) { result in
            completion(result.map { BotCredentials(bot: $0, token: token) })
        }
    }

    /// DELETE /bots/{username}: its tokens fail from then on; its messages stay. Errors: bot_not_found.
    public func deleteBot(user: User, username: String, completion: @escaping Completion<Void>) {
        guard Validation.username(username) == nil else { return completion(.failure(.botNotFound(username))) }
        store.deleteBot(username: username, owner: user.username, at: clock(), completion: completion)
    }
}
