// The feed (../shared/API.md "The feed: GET /events"): pages of a user's events, and waiting for the next ones.
import Synchronization

extension ChatService {
    /// The caller's events after `after` (nil: none, `next` = the newest position: "from now"), at most `limit`
    /// (1…500, validated by the caller).
    public func feed(user: User, after: Int64?, limit: Int, completion: @escaping Completion<FeedPage>) {
        store.feed(username: user.username, after: after, limit: max(1, limit), completion: completion)
    }

    /// Waits for the caller's events after `after`: calls `onReady` once, on any thread, with the first non-empty
    /// page (at once if there is one). Returns a ticket to cancel with, or nil when it already answered.
    /// A parked follower costs no thread and no store read until a commit concerns it (`FeedWaiterRegistry`).
    public func waitForEvents(user: User, after: Int64, limit: Int, onReady: @escaping Completion<FeedPage>) -> WaitTicket? {
        let box = TicketBox()
        let ticket = feedWaiters.register(user: Validation.usernameKey(user.username), seen: after, limit: max(1, limit),
                                          onWake: { [weak self] in
            guard let self, let ticket = box.ticket else { return }
            self.readFeed(ticket, user: user, after: after, limit: limit, onReady: onReady)
        }, onReady: { page in onReady(.success(page)) })
        box.ticket = ticket
        readFeed(ticket, user: user, after: after, limit: limit, onReady: onReady)
        return feedWaiters.seen(ticket) == nil ? nil : ticket
    }

    /// Register first, then read: a commit landing in between either is in this read or hands the follower back.
    private func readFeed(_ ticket: WaitTicket, user: User, after: Int64, limit: Int, onReady: @escaping Completion<FeedPage>) {
        store.feed(username: user.username, after: after, limit: max(1, limit)) { [feedWaiters] result in
            switch result {
            case .success(let page) where page.events.isEmpty:
                feedWaiters.arm(ticket, rooms: page.rooms, next: page.next)
            case .success, .failure:
                if feedWaiters.remove(ticket) != nil { onReady(result) }
            }
        }
    }

    /// Forgets a follower (deadline, hang-up); answers the `next` its last read knew (nil: unknown or gone).
    @discardableResult
    public func cancelFeedWait(_ ticket: WaitTicket) -> Int64? {
        feedWaiters.remove(ticket)?.seen
    }

    /// The newest position known for a waiting follower (for the stream's heartbeats), nil when gone.
    public func feedPosition(_ ticket: WaitTicket) -> Int64? { feedWaiters.seen(ticket) }

    /// `authenticate` for a caller that needs the answer in hand (a stream's page): the SQLite store answers
    /// reads synchronously; a store that does not is taken as valid (the heartbeat's check follows).
    public func authenticateNow(token: String) -> Result<User, ChatError> {
        let box = Mutex<Result<User, ChatError>?>(nil)
        authenticate(token: token) { result in box.withLock { $0 = result } }
        return box.withLock { $0 } ?? .success(User(username: "", createdAt: Timestamp(milliseconds: 0)))
    }

    /// Followers currently waiting (for /metrics).
    public var feedFollowers: Int { feedWaiters.count }

    /// The store's news: hands every follower it concerns back to re-read.
    func feedAdvanced(newest: Int64, events: [FeedEvent]?) {
        for wake in feedWaiters.advance(newest: newest, events: events) {
            switch wake {
            case .read(let follower): follower.onWake()
            case .answer(let follower, let page): follower.onReady(page)
            }
        }
    }
}

/// Lets the wake closure name the ticket it was registered under (set right after registering, before any read).
private final class TicketBox: @unchecked Sendable {
    private let lock = Mutex<WaitTicket?>(nil)
    var ticket: WaitTicket? {
        get { lock.withLock { $0 } }
        set { lock.withLock { $0 = newValue } }
    }
}
