// Long-poll: parking waiters and waking a room's waiters at once when the store says the room advanced.

extension ChatService {
    /// Long-poll: calls `onReady` once, on any thread, with the page `history(room, .after(after), limit)` as soon
    /// as it is non-empty — at once if it already is. Returns nil if it answered at once (onReady already called),
    /// else a ticket to cancel with. Errors (room_not_found) also arrive through `onReady`.
    ///
    /// In a private or direct room the waiter is checked again when the room advances: a member removed since
    /// gets 404 room_not_found instead of what was posted after the removal (../shared/API.md "Rooms v2").
    public func waitForMessages(room: AuthorizedRoom, after: Int64, limit: Int, onReady: @escaping Completion<HistoryPage>) -> WaitTicket? {
        waitForMessages(room: room.name, member: room.access.visibility == .public ? nil : room.username,
                        after: after, limit: limit, onReady: onReady)
    }

    /// Without a caller (tests and this module): `member` is whose access to recheck on wake-up, nil for none.
    func waitForMessages(room: String, member: String? = nil, after: Int64, limit: Int,
                         onReady: @escaping Completion<HistoryPage>) -> WaitTicket? {
        if Validation.roomName(room) != nil && !room.hasPrefix("@") {
            onReady(.failure(.roomNotFound(room)))
            return nil
        }
        // Register first, then look: a post committed in between either shows up in this read or wakes the
        // waiter, so none is missed. Whoever removes the waiter from the registry answers it (exactly once).
        // The registry knows the room's newest seq from the store's own reports (this process's commits at once,
        // other processes' through the store's watcher): a re-poll at that seq parks without a read, one a few
        // posts behind is answered from the messages it keeps; only the rest read the store.
        let ticket: WaitTicket
        switch waiters.register(room: room, member: member, after: after, limit: max(1, limit), onReady: onReady) {
        case .parked(let parked):
            return parked
        case .ready(let messages, let lastSeq):
            onReady(.success(HistoryPage(room: room, messages: messages, hasMore: messages.last!.seq < lastSeq,
                                         lastSeq: lastSeq)))
            return nil
        case .unknown(let registered):
            ticket = registered
        }
        store.history(room: room, cursor: .after(after), limit: max(1, limit)) { [waiters] result in
            switch result {
            case .success(let page) where page.messages.isEmpty:
                return
            case .success, .failure:
                waiters.remove(ticket)?.onReady(result)
            }
        }
        return waiters.contains(ticket) ? ticket : nil
    }

    /// Forgets a waiter (its deadline passed, or its client hung up). Harmless if it already fired.
    public func cancelWait(_ ticket: WaitTicket) {
        _ = waiters.remove(ticket)
    }

    /// Answers every parked waiter with an empty page (shutdown: clients reconnect elsewhere with the same `after`).
    public func releaseAllWaiters() {
        for waiter in waiters.takeAll() {
            waiter.onReady(.success(HistoryPage(room: waiter.room, messages: [], hasMore: false, lastSeq: waiter.after)))
        }
    }

    /// The store's news: wakes every waiter of `room` behind `lastSeq`. Waiters are grouped by (after, limit) so
    /// each distinct page is built once and the same `HistoryPage` value goes to the whole group (the API may
    /// cache its encoding). With the committed messages in hand, contiguous groups need no query.
    func roomAdvanced(room: String, lastSeq: Int64, messages: [Message]?) {
        let ready = waiters.advance(room: room, lastSeq: lastSeq, messages: messages)
        if ready.isEmpty { return }
        var groups: [PageKey: [WaiterRegistry.Waiter]] = [:]
        for waiter in ready {
            if let member = waiter.member {
                recheck(waiter, member: member, lastSeq: lastSeq, messages: messages)
                continue
            }
            groups[PageKey(after: waiter.after, limit: waiter.limit), default: []].append(waiter)
        }
        for (key, group) in groups {
            if let page = Self.page(room: room, key: key, lastSeq: lastSeq, committed: messages) {
                for waiter in group { waiter.onReady(.success(page)) }
            } else {
                store.history(room: room, cursor: .after(key.after), limit: key.limit) { result in
                    for waiter in group { waiter.onReady(result) }
                }
            }
        }
    }

    /// A waiter of a private or direct room: answered only if its user is still a member (the access read is
    /// from memory, kept fresh across instances), else 404 — so a removed member gets nothing posted after.
    private func recheck(_ waiter: WaiterRegistry.Waiter, member: String, lastSeq: Int64, messages: [Message]?) {
        let room = waiter.room
        store.roomAccess(room: room, username: member) { [store] result in
            switch result {
            case .failure(let error): return waiter.onReady(.failure(error))
            case .success(let access):
                guard let access, access.admits else { return waiter.onReady(.failure(.roomNotFound(room))) }
            }
            let key = PageKey(after: waiter.after, limit: waiter.limit)
            if let page = Self.page(room: room, key: key, lastSeq: lastSeq, committed: messages) {
                waiter.onReady(.success(page))
            } else {
                store.history(room: room, cursor: .after(key.after), limit: key.limit, completion: waiter.onReady)
            }
        }
    }

    struct PageKey: Hashable {
        let after: Int64
        let limit: Int
    }

    /// The page for `key` cut from the just-committed messages (ascending, ending at `lastSeq`), or nil when
    /// they do not reach back to `after + 1` (the waiter missed earlier messages: it needs a query).
    static func page(room: String, key: PageKey, lastSeq: Int64, committed: [Message]?) -> HistoryPage? {
        guard let committed, let first = committed.first, let last = committed.last, last.seq == lastSeq,
              first.seq <= key.after + 1, key.after < lastSeq else { return nil }
        let start = Int(key.after + 1 - first.seq)
        let end = min(start + key.limit, committed.count)
        let slice = Array(committed[start..<end])
        return HistoryPage(room: room, messages: slice, hasMore: slice.last!.seq < lastSeq, lastSeq: lastSeq)
    }
}
