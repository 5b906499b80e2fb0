// The domain's front door: every rule of ../shared/API.md for accounts, rooms, posting, paging and waiting.
//
// Completions may run synchronously (a fast store read) or later on another thread (password hashing, the
// writer's group commit); callers must not assume which. Nothing here blocks an event loop for long: slow work
// (yescrypt, fsync) happens on the service's own threads or the store's writer.
import Synchronization

public typealias Completion<T> = @Sendable (Result<T, ChatError>) -> Void

/// A registered long-poll waiter; pass it back to `cancelWait`.
public struct WaitTicket: Sendable, Hashable {
    public let id: UInt64
    public init(id: UInt64) { self.id = id }
}

/// The chat domain over a `Store`: validates every input of the contract, hashes passwords, issues tokens,
/// throttles failed logins and parks long-poll waiters until their room advances.
public final class ChatService: @unchecked Sendable {
    public static let defaultTokenLifetime: Double = 30 * 24 * 3600
    /// Failed logins per (username, address) tolerated within `loginWindowMs` (../shared/API.md Accounts).
    public static let maxLoginFailures = 5
    public static let loginWindowMs: Int64 = 15 * 60 * 1000
    /// How long a client_id keeps answering with the original message.
    public static let idempotencyWindowMs: Int64 = 24 * 3600 * 1000

    let store: Store
    let clock: @Sendable () -> Timestamp
    let tokenLifetimeMs: Int64
    let hasher: PasswordHasher
    let loginGate: LoginGate
    let waiters = WaiterRegistry()
    private let stored = Atomic<Int>(0)

    /// - Parameters:
    ///   - clock: the time source (tests inject one to step through throttling windows and token expiry).
    ///   - tokenLifetime: seconds a login's token stays valid.
    ///   - passwordCost: yescrypt cost; 0 is libcrypt's default. Only tests should lower it.
    ///   - loginLimits: per-address admission of logins and registrations (see `LoginGate`).
    public init(store: Store, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
                tokenLifetime: Double = ChatService.defaultTokenLifetime, passwordCost: UInt = 0,
                loginLimits: LoginGate.Limits = LoginGate.Limits(), maxPendingHashes: Int = 64) {
        self.store = store
        self.clock = clock
        self.tokenLifetimeMs = Int64(tokenLifetime * 1000)
        self.hasher = PasswordHasher(cost: passwordCost, maxPending: maxPendingHashes)
        self.loginGate = LoginGate(limits: loginLimits, clock: clock)
        store.onRoomAdvanced { [weak self] room, lastSeq, messages in
            self?.roomAdvanced(room: room, lastSeq: lastSeq, messages: messages)
        }
    }

    // MARK: messages

    /// Validates, then stores durably; completes only after the transaction commits. `room` as typed (`@bob`
    /// too). `text` nil means missing or not a string (invalid_text). Errors: empty_text, text_too_long,
    /// invalid_text, room_not_found, user_not_found (`@bob` of no one), invalid_parameter (bad client id),
    /// idempotency_key_reused.
    public func post(user: User, room: String, text: String?, clientID: String?, completion: @escaping Completion<PostOutcome>) {
        if let error = Validation.text(text) { return completion(.failure(error)) }
        if let error = Validation.clientID(clientID) { return completion(.failure(error)) }
        openRoom(user: user, room: room) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let room): post(user: user, room: room, text: text!, clientID: clientID, completion: completion)
            }
        }
    }

    private func post(user: User, room: AuthorizedRoom, text: String, clientID: String?, completion: @escaping Completion<PostOutcome>) {
        let now = clock()
        let request = PostRequest(room: room.name, user: user.username, text: text, clientID: clientID, at: now,
                                  replaySince: Timestamp(milliseconds: now.milliseconds - Self.idempotencyWindowMs))
        store.post(request) { [self] result in
            if case .success(.created) = result { stored.add(1, ordering: .relaxed) }
            completion(result)
        }
    }

    /// A page of history of a room the caller was admitted to. `limit` already validated (1…200) by the caller.
    public func history(room: AuthorizedRoom, cursor: HistoryCursor, limit: Int, completion: @escaping Completion<HistoryPage>) {
        store.history(room: room.name, cursor: cursor, limit: max(1, limit), completion: completion)
    }

    /// A page of history without a caller (tests and this module only: no authorization).
    func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping Completion<HistoryPage>) {
        if Validation.roomName(room) != nil && !room.hasPrefix("@") { return completion(.failure(.roomNotFound(room))) }
        store.history(room: room, cursor: cursor, limit: max(1, limit), completion: completion)
    }

    /// `authenticate`, `openRoom` and `history` in one store visit (the hot path of GET /messages): the token's
    /// freshness check also covers the membership and the page. Errors: unauthorized, room_not_found,
    /// user_not_found.
    public func history(token: String?, room: String, cursor: HistoryCursor, limit: Int,
                        completion: @escaping Completion<HistoryPage>) {
        guard let token, !token.isEmpty, token.utf8.count <= 512 else { return completion(.failure(.unauthorized)) }
        if room.utf8.first == UInt8(ascii: "@") || Validation.roomName(room) != nil {
            // A direct room needs the caller's name to resolve (and may be created); an invalid name cannot
            // exist — still, 401 comes before 404 (authenticate first).
            return authenticate(token: token) { [self] result in
                switch result {
                case .failure(let error): completion(.failure(error))
                case .success(let user):
                    openRoom(user: user, room: room) { [self] opened in
                        switch opened {
                        case .failure(let error): completion(.failure(error))
                        case .success(let room): history(room: room, cursor: cursor, limit: limit, completion: completion)
                        }
                    }
                }
            }
        }
        store.history(tokenHash: SessionToken.hash(token), now: clock(), room: room, cursor: cursor, limit: max(1, limit)) { result in
            switch result {
            case .success(let read?):
                // The same rule as `openRoom`, on the access read in the same visit.
                guard let access = read.access, access.admits, let page = read.page else {
                    return completion(.failure(.roomNotFound(room)))
                }
                completion(.success(page))
            case .success(nil): completion(.failure(.unauthorized))
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// Waiters currently registered (for /metrics).
    public var parkedWaiters: Int { waiters.count }

    /// Messages created through this service since it started (for /metrics).
    public var messagesStored: Int { stored.load(ordering: .relaxed) }

    /// True when the store answers a trivial query.
    public func health(completion: @escaping @Sendable (Bool) -> Void) {
        store.ping(completion: completion)
    }
}
