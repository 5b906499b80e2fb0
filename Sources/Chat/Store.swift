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
    public var bot: Bool                 // the author is a bot
    public var files: [String]           // ids of files to attach, in order (each uploaded by `user`)
    public init(room: String, user: String, text: String, clientID: String?, at: Timestamp, replaySince: Timestamp,
                bot: Bool = false, files: [String] = []) {
        self.bot = bot
        self.files = files
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
    /// Attaches `request.files` in order (the message's `files`; histories show them too). Errors: room_not_found,
    /// idempotency_key_reused, invalid_file (a file id that does not exist or was not uploaded by `request.user`).
    func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>)
    /// Errors: room_not_found.
    func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>)
    /// The hot authenticated read in one visit to the store: `user(tokenHash:now:)`, then — only if that found a
    /// user — `roomAccess(room:username:)`, then — only if the access `admits` — `history(room:cursor:limit:)`.
    /// Answers nil when the token does not authenticate. A store may answer all from one consistency check;
    /// the default simply chains them.
    func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                 completion: @escaping StoreCompletion<TokenHistory?>)

    // MARK: files (issue 15)
    // An upload is written chunk by chunk (`FileChunks.size` bytes each, the last shorter) so no store or server
    // holds a whole file; `finishUpload` makes it a file, deduplicated by sha256. Downloads read chunk by chunk.

    /// Starts an upload: an empty staging area only `appendUpload`, `finishUpload` and `abortUpload` see. A store
    /// may drop staging areas left unfinished for an hour or more (an uploader that vanished).
    func beginUpload(at: Timestamp, completion: @escaping StoreCompletion<UploadID>)
    /// Stores chunk `index` (0, 1, 2, … in order, each `FileChunks.size` bytes but the last) of the upload, durably.
    /// Errors: invalid_file when the upload is unknown (finished, aborted or dropped).
    func appendUpload(_ upload: UploadID, index: Int, bytes: [UInt8], completion: @escaping StoreCompletion<Void>)
    /// Turns the upload into the file `file` (its id, name, type, size and sha256 as computed by the caller over
    /// the appended bytes) in one transaction. When a file with the same sha256 is already stored, the new file
    /// shares its content and the staged chunks are discarded (dedup: content is stored once per sha256).
    /// Answers the file. Errors: invalid_file when the upload is unknown.
    func finishUpload(_ upload: UploadID, file: NewFile, completion: @escaping StoreCompletion<FileInfo>)
    /// Discards the upload's staged chunks (a failed or refused upload). Unknown uploads are not an error.
    func abortUpload(_ upload: UploadID, completion: @escaping StoreCompletion<Void>)
    /// The file with that id, nil when none. No access check: that is `ChatService.openFile`'s.
    func file(id: String, completion: @escaping StoreCompletion<FileInfo?>)
    /// Chunk `index` of the file's content (see `FileChunks`), nil when the file or the chunk does not exist.
    func fileChunk(id: String, index: Int, completion: @escaping StoreCompletion<[UInt8]?>)
    /// The names of the rooms where some message carries the file (each once, any order; empty when none).
    func fileRooms(id: String, completion: @escaping StoreCompletion<[String]>)

    // MARK: feed (../shared/API.md "The feed")
    // Every write that makes a message or changes a membership also writes its event, in the same transaction,
    // at a position `pos` taken from ONE counter of the whole database inside that transaction: post (a
    // `message` event), createUser (`joined` general), createRoom (`joined` for the owner), openDirectRoom
    // (`joined` for each member it adds), addMember (`joined`, only when added), removeMember (`left`, only when
    // one was removed). Positions must grow in commit order, so a reader that saw pos N can never later find a
    // new event below N. SQLite has one writer: the batch takes max(pos) once and counts up. PostgreSQL: a
    // one-row counter `UPDATE feed_position SET pos = pos + 1 RETURNING pos` in the writing transaction — the
    // row lock is held to COMMIT, so the next writer gets a higher pos only after this one committed (a rollback
    // gives the number back). Messages take their pos after their seq, so within a room pos follows seq.

    /// Installs the one handler told about the feed's newest position moving (replaces an earlier one): at once
    /// with the events for this process's commits, without them (nil) for other processes' (within ~200 ms).
    func onFeedAdvanced(_ handler: @escaping FeedAdvancedHandler)
    /// `username`'s events after `after`, ascending pos, at most `limit`, read in one snapshot: `message` events
    /// of the rooms they were a member of at the event's pos (after a `joined`, before the next `left`), and
    /// their own `joined`/`left` events. `next` and `hasMore` as `FeedPage` says; `rooms` their rooms as of
    /// `next`. `after` nil: no events, `next` = the newest position (following "from now").
    func feed(username: String, after: Int64?, limit: Int, completion: @escaping StoreCompletion<FeedPage>)

    // MARK: bots (../shared/API.md "Bots")
    /// Creates bot `username` owned by `owner`, with one token (`tokenHash`) that never expires; like any new
    /// account it is a member of `general` from the same commit (with its `joined` event). It has no password
    /// (`user(named:)` answers it with `user.bot` true, which login refuses as unknown). Errors: username_taken.
    func createBot(username: String, owner: String, tokenHash: [UInt8], at: Timestamp, completion: @escaping StoreCompletion<Bot>)
    /// The bots `owner` owns and has not deleted, by username (lowercase form).
    func bots(owner: String, completion: @escaping StoreCompletion<[Bot]>)
    /// In one transaction: every token of `owner`'s bot `username` deleted, `tokenHash` its only one (on every
    /// instance the old token fails from this commit). Errors: bot_not_found (not owner's, deleted, or none).
    func replaceBotToken(username: String, owner: String, tokenHash: [UInt8], completion: @escaping StoreCompletion<Bot>)
    /// Deletes every token of `owner`'s bot and marks it deleted at `at`: its name stays taken, its messages
    /// stay, it is no longer listed. Errors: bot_not_found.
    func deleteBot(username: String, owner: String, at: Timestamp, completion: @escaping StoreCompletion<Void>)

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
