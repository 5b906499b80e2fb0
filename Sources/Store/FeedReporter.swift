// Tells ChatService when the feed's newest position moved: one piece for both stores' watchers.
import Chat
import Synchronization

/// The feed's side of `RoomWatcher` (SQLite) and `PostgresListener`: this process's commits arrive from the writer
/// with their events (`committed`); other processes' are noticed by the store's own means and reported without
/// them (`observed`). The newest position reported is kept, so a stale or repeated observation reports nothing,
/// and the very first one (reading where the feed stands at start) wakes no one.
final class FeedReporter: Sendable {
    private struct State: ~Copyable {
        var handler: FeedAdvancedHandler?
        var newest: Int64 = -1                // the newest position reported; -1: never read
    }

    private let state = Mutex(State())

    func setHandler(_ handler: @escaping FeedAdvancedHandler) {
        state.withLock { $0.handler = handler }
    }

    /// From the writer, after COMMIT: the feed events of that transaction (ascending pos).
    func committed(_ events: [FeedEvent]) {
        guard let last = events.last?.pos else { return }
        let handler = state.withLock { s -> FeedAdvancedHandler? in
            s.newest = max(s.newest, last)
            return s.handler
        }
        handler?(last, events)
    }

    /// Another process's commit moved the newest position to `newest`: reported without events when it moved past
    /// what was known, or whenever `always` (a re-read after a lost connection) — but never the first time.
    func observed(_ newest: Int64, always: Bool = false) {
        let handler = state.withLock { s -> FeedAdvancedHandler? in
            let first = s.newest < 0
            guard newest > s.newest || (always && !first) else { return nil }
            s.newest = max(s.newest, newest)
            return first ? nil : s.handler
        }
        handler?(newest, nil)
    }
}
