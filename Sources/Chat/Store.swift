// The persistence boundary of the chat domain: what every store (SQLite now, PostgreSQL later) offers ChatService.

/// A store's answer; callers must accept it synchronously (a fast local read) or later on any thread.
public typealias StoreCompletion<T> = @Sendable (Result<T, ChatError>) -> Void

/// Called by a store whenever a room's newest seq moved, whoever wrote it. `messages` holds the committed
/// messages (ascending seq, ending at `lastSeq`) when the write was this process's own, else nil.
public typealias RoomAdvancedHandler = @Sendable (_ room: String, _ lastSeq: Int64, _ messages: [Message]?) -> Void

/// A user as the store keeps it: the public user and the password hash (a crypt(3) string).
public struct StoredUser: Sendable, Hashable {
    public var user: User
    public var passwordHash: String
    public init(user: User, passwordHash: String) {
        self.user = user
        self.passwordHash = passwordHash
    }
}

/// A validated post for the store to commit. The store checks idempotency and allocates `seq` in the same
/// transaction that inserts the message (../shared/API.md `POST /messages`).
public struct PostRequest: Sendable, Hashable {
    public var room: String
    public var user: String              // the author's username as registered
    public var text: String
    public var clientID: String?
    public var at: Timestamp             // becomes the message's created_at
    public var replaySince: Timestamp    // an earlier message with the same key counts only from here (24 h)
    public init(room: String, user: String, text: String, clientID: String?, at: Timestamp, replaySince: Timestamp) {
        self.room = room
        self.user = user
        self.text = text
        self.clientID = clientID
        self.at = at
        self.replaySince = replaySince
    }
}

/// Persistence for ChatService. Usernames are matched ignoring ASCII case; `username` arguments of the
/// login-failure methods are already lowercased. Every write completes only after its transaction committed.
/// Errors are ChatErrors: `unavailable` when the store fails, else the domain codes named per method.
public protocol Store: AnyObject, Sendable {
    /// Installs the one handler told about advancing rooms (replaces an earlier one).
    func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler)

    // MARK: accounts
    /// Errors: username_taken. The new user is a member of `general` from the same commit.
    func createUser(username: String, passwordHash: String, at: Timestamp, completion: @escaping StoreCompletion<User>)
    func user(named username: String, completion: @escaping StoreCompletion<StoredUser?>)
    func createToken(hash: [UInt8], username: String, expiresAt: Timestamp, now: Timestamp,
                     completion: @escaping StoreCompletion<Void>)
    /// The user of an unexpired token (`expiresAt > now`), or nil.
    func user(tokenHash: [UInt8], now: Timestamp, completion: @escaping StoreCompletion<User?>)
    func deleteToken(hash: [UInt8], completion: @escaping StoreCompletion<Void>)
    /// Throttling, atomically (one transaction, so parallel attempts cannot all slip through): when the pair has
    /// `limit` or more failures after `since` (exclusive), answers their times, ascending (refused); else counts
    /// this attempt as a failure at `at` — until `clearLoginFailures` on success — and answers nil. Also forgets
    /// failures of any pair from `since` or before.
    func claimLoginAttempt(username: String, address: String, at: Timestamp, since: Timestamp, limit: Int,
                           completion: @escaping StoreCompletion<[Timestamp]?>)
    func clearLoginFailures(username: String, address: String, completion: @escaping StoreCompletion<Void>)

    // MARK: rooms
    /// GET /rooms for `username`: public rooms plus the private and direct rooms they are a member of, by name
    /// (code-point order), those after `after` (exclusive; nil: from the start), at most `limit`.
    func rooms(username: String, after: String?, limit: Int, completion: @escaping StoreCompletion<RoomList>)
    /// Creates a public or private room owned by `owner` (who becomes its first member). Errors: room_exists.
    func createRoom(name: String, visibility: RoomVisibility, owner: String, at: Timestamp,
                    completion: @escaping StoreCompletion<Room>)
    /// The direct room `name` of `usernames` (its two lowercased usernames; one for self-chat), created with
    /// them as its fixed members unless it exists. Answers `requester`'s access. Errors: user_not_found.
    func openDirectRoom(name: String, usernames: [String], requester: String, at: Timestamp,
                        completion: @escaping StoreCompletion<RoomAccess>)
    /// `username`'s access to `room`, nil when no room has that name. Asked on every request that names a room,
    /// so a store answers it from memory kept exactly as fresh as a read (SQLite: each reader's cache, dropped by
    /// the `members` generation that triggers bump on any membership or room change, on any instance).
    func roomAccess(room: String, username: String, completion: @escaping StoreCompletion<RoomAccess?>)
    /// The room as `username` sees it, with every member; nil when no room has that name.
    func roomDetail(room: String, username: String, completion: @escaping StoreCompletion<RoomDetail?>)
    /// Errors: room_not_found, user_not_found.
    func addMember(room: String, username: String, completion: @escaping StoreCompletion<MembershipChange>)
    /// True when `username` was a member. Errors: room_not_found, user_not_found.
    func removeMember(room: String, username: String, completion: @escaping StoreCompletion<Bool>)

    // MARK: messages
    /// Errors: room_not_found, idempotency_key_reused.
    func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>)
    /// Errors: room_not_found.
    func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>)
    /// The hot authenticated read in one visit to the store: `user(tokenHash:now:)`, then — only if that found a
    /// user — `roomAccess(room:username:)`, then — only if the access `admits` — `history(room:cursor:limit:)`.
    /// Answers nil when the token does not authenticate. A store may answer all from one consistency check;
    /// the default simply chains them.
    func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                 completion: @escaping StoreCompletion<TokenHistory?>)

    /// True when the store answers a trivial query.
    func ping(completion: @escaping @Sendable (Bool) -> Void)
}

extension Store {
    public func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                        completion: @escaping StoreCompletion<TokenHistory?>) {
        user(tokenHash: tokenHash, now: now) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(nil): completion(.success(nil))
            case .success(let user?):
                roomAccess(room: room, username: user.username) { [self] result in
                    switch result {
                    case .failure(let error): completion(.failure(error))
                    case .success(let access):
                        guard let access, access.admits else {
                            return completion(.success(TokenHistory(user: user, access: access, page: nil)))
                        }
                        history(room: room, cursor: cursor, limit: limit) { page in
                            completion(page.map { TokenHistory(user: user, access: access, page: $0) })
                        }
                    }
                }
            }
        }
    }
}

extension ChatError {
    /// The store (or the server's own machinery) failed: I/O, disk full, lock timeout, closed. The API answers 503
    /// with a detail that says only that; `cause` goes to the server's log (issue 13 #9: no internal text to clients).
    public static func unavailable(_ cause: String) -> ChatError {
        ChatError(.unavailable, "unavailable", "the store is unavailable, try again", retryAfter: 1, cause: cause)
    }
    public static func roomNotFound(_ room: String) -> ChatError {
        ChatError(.notFound, "room_not_found", "room '\(room)' does not exist")
    }
    public static func usernameTaken(_ name: String) -> ChatError {
        ChatError(.conflict, "username_taken", "username '\(name)' is taken")
    }
    public static func roomExists(_ room: String) -> ChatError {
        ChatError(.conflict, "room_exists", "room '\(room)' already exists")
    }
    public static func idempotencyKeyReused(_ key: String) -> ChatError {
        ChatError(.unprocessable, "idempotency_key_reused", "client_id '\(key)' was used for a different text")
    }
}
