// The domain's front door: every rule of ../shared/API.md for accounts, rooms, posting, paging and waiting.
// INTERFACE STUB — the chat-store issue replaces the bodies; the public signatures are what `API` relies on.
//
// Completions may run synchronously (a fast store read) or later on another thread (password hashing, the
// writer's group commit); callers must not assume which. Nothing here blocks an event loop for long: slow work
// (yescrypt, fsync) happens on the service's own threads.

public typealias Completion<T> = @Sendable (Result<T, ChatError>) -> Void

/// A registered long-poll waiter; pass it back to `cancelWait`.
public struct WaitTicket: Sendable, Hashable {
    public let id: UInt64
    public init(id: UInt64) { self.id = id }
}

public final class ChatService: @unchecked Sendable {
    public static let defaultTokenLifetime: Double = 30 * 24 * 3600

    // MARK: accounts

    /// 201: the new user. Errors: invalid_username, invalid_password, username_taken.
    public func register(username: String?, password: String?, completion: @escaping Completion<User>) { fatalError("stub") }

    /// A session with a fresh token. Errors: invalid_credentials (unknown user and wrong password alike),
    /// too_many_attempts (retryAfter set) after 5 failures in 15 minutes for this (username, clientAddress).
    public func login(username: String?, password: String?, clientAddress: String, completion: @escaping Completion<Session>) { fatalError("stub") }

    /// The token's user. Errors: unauthorized (code "unauthorized") for a missing, unknown, expired or revoked token.
    public func authenticate(token: String?, completion: @escaping Completion<User>) { fatalError("stub") }

    /// Revokes the token on every server instance (it is gone from the store).
    public func logout(token: String, completion: @escaping Completion<Void>) { fatalError("stub") }

    // MARK: rooms

    /// All rooms by name (code-point order).
    public func rooms(completion: @escaping Completion<[Room]>) { fatalError("stub") }

    /// Errors: invalid_room_name, room_exists.
    public func createRoom(name: String?, completion: @escaping Completion<Room>) { fatalError("stub") }

    // MARK: messages

    /// Validates, then stores durably; completes only after the transaction commits.
    /// `text` nil means missing or not a string (invalid_text). Errors: empty_text, text_too_long, invalid_text,
    /// room_not_found, invalid_parameter (bad client id), idempotency_key_reused.
    public func post(user: User, room: String, text: String?, clientID: String?, completion: @escaping Completion<PostOutcome>) { fatalError("stub") }

    /// A page of history. `limit` already validated (1…200) by the caller. Errors: room_not_found.
    public func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping Completion<HistoryPage>) { fatalError("stub") }

    /// Long-poll: calls `onReady` once, on any thread, with the page `history(room, .after(after), limit)` as soon
    /// as it is non-empty — at once if it already is. Returns nil if it answered at once (onReady already called),
    /// else a ticket to cancel with. Errors (room_not_found) also arrive through `onReady`.
    public func waitForMessages(room: String, after: Int64, limit: Int, onReady: @escaping Completion<HistoryPage>) -> WaitTicket? { fatalError("stub") }

    /// Forgets a waiter (its deadline passed, or its client hung up). Harmless if it already fired.
    public func cancelWait(_ ticket: WaitTicket) { fatalError("stub") }

    /// Waiters currently registered (for /metrics), and messages stored since start (counter).
    public var parkedWaiters: Int { 0 }

    /// True when the store answers a trivial query.
    public func health(completion: @escaping @Sendable (Bool) -> Void) { fatalError("stub") }
}

extension Timestamp {
    /// `2026-11-25T12:00:00.123Z`
    public var rfc3339: String { fatalError("stub") }
    public static func now() -> Timestamp { fatalError("stub") }
}
