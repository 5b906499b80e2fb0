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
    /// A parked follower costs no thread and no store read until a commit concerns it (`FeedWaiterRegistry`), and a
    /// re-poll from the `next` just handed out is decided from memory (parked, or answered from the latest commits).
    public func waitForEvents(user: User, after: Int64, limit: Int, onReady: @escaping Completion<FeedPage>) -> WaitTicket? {
        let limit = max(1, limit)
        let registration = feedWaiters.register(user: Validation.usernameKey(user.username), after: after, limit: limit,
                                                onWake: { [weak self] ticket in
            self?.readFeed(ticket, user: user, after: after, limit: limit, onReady: onReady)
        }, onReady: { page in onReady(.success(page)) })
        switch registration {
        case .parked(let ticket):
            return ticket
        case .ready(let page):
            onReady(.success(page))
            return nil
        case .unknown(let ticket):
            readFeed(ticket, user: user, after: after, limit: limit, onReady: onReady)
            return feedWaiters.seen(ticket) == nil ? nil : ticket
        }
    }

    /// Register first, then read: a commit landing in between either is in this read or hands the follower back.
    private func readFeed(_ ticket: WaitTicket, user: User, after: Int64, limit: Int, onReady: @escaping Completion<FeedPage>) {
        store.feed(username: user.username, after: after, limit: limit) { [feedWaiters] result in
            switch result {
            case .success(let page) where page.events.isEmpty:
                switch feedWaiters.arm(ticket, rooms: page.rooms, next: page.next) {
                case .answer(let follower, let ready): follower.onReady(ready)
                case .armed, .gone, .pending: break
                }
            case .success(let page):
                if !page.hasMore {
                    feedWaiters.learn(user: Validation.usernameKey(user.username), rooms: page.rooms, asOf: page.next)
                }
                if feedWaiters.remove(ticket) != nil { onReady(result) }
            case .failure:
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
            case .read(let follower): follower.onWake(follower.ticket)
            case .answer(let follower, let page): follower.onReady(page)
            }
        }
    }
}

