// GET /events (../shared/API.md "The feed"): a page, a held page (long-poll), or a stream (ndjson or SSE).
import Dispatch
import Foundation
import HTTP
import Chat
import Synchronization

/// The validated query of GET /events.
struct EventsQuery: Equatable {
    enum Form: Equatable { case page, ndjson, sse }
    var after: Int64?                    // nil: from now
    var limit = 100
    var wait: Double = 0
    var form = Form.page

    /// Contract: after ≥ 0, limit 1–500, wait 0–60 (larger values count as 60); for SSE a `Last-Event-ID` wins
    /// over `after`. Anything else is 400 invalid_parameter.
    static func parse(_ request: HTTPRequest, maxWait: Double = 60) -> Result<EventsQuery, Refusal> {
        let items = FormFields.decode(Array(request.query.utf8), uri: true)
        func bad(_ detail: String) -> Result<EventsQuery, Refusal> { .refuse(APIResponse.invalid("invalid_parameter", detail)) }
        var q = EventsQuery()
        let accept = (request.headers["Accept"] ?? "").lowercased()
        if accept.contains("text/event-stream") { q.form = .sse } else if accept.contains("application/x-ndjson") { q.form = .ndjson }
        if let value = items["after"] {
            guard let a = HistoryQuery.integer(value) else { return bad("after must be a position ≥ 0") }
            q.after = a
        }
        if let last = request.headers["Last-Event-ID"] {
            // Checked whatever the form (a malformed header is a bad request), used by SSE only.
            guard let a = HistoryQuery.integer(.string(last.trimmingSpaces)) else { return bad("Last-Event-ID must be a position ≥ 0") }
            if q.form == .sse { q.after = a }
        }
        if let value = items["limit"] {
            guard let limit = HistoryQuery.integer(value), (1...500).contains(limit) else { return bad("limit must be 1–500") }
            q.limit = Int(limit)
        }
        if let value = items["wait"] {
            guard let wait = HistoryQuery.seconds(value) else { return bad("wait must be a number of seconds, 0–60 (larger values count as 60)") }
            q.wait = min(wait, maxWait)
        }
        return .success(q)
    }
}

extension ChatJSON {
    /// `{"pos","type","room",…}`: `message` with `"message"`, `joined` with `"room_info"`, `left` with nothing more.
    static func event(_ e: FeedEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.key("pos"); w.int(e.pos)
        switch e.kind {
        case .message(let m):
            w.key("type"); w.string("message")
            w.key("room"); w.string(e.room)
            w.key("message"); message(m, into: &w)
        case .joined(let view):
            w.key("type"); w.string("joined")
            w.key("room"); w.string(e.room)
            w.key("room_info"); room(view, into: &w)
        case .left:
            w.key("type"); w.string("left")
            w.key("room"); w.string(e.room)
        }
        w.endObject()
    }

    static func eventBytes(_ e: FeedEvent) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        event(e, into: &w)
        return w.bytes
    }

    /// `{"events":[…],"next":N,"has_more":B}`.
    static func feedPage(_ page: FeedPage) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + page.events.count * 200)
        w.beginObject()
        w.key("events")
        w.beginArray()
        for e in page.events { event(e, into: &w) }
        w.endArray()
        w.key("next"); w.int(page.next)
        w.key("has_more"); w.bool(page.hasMore)
        w.endObject()
        return w.finished()
    }
}

extension ChatRoutes {
    var events: HTTPHandler {
        { request, responder in
            self.authenticated(request, responder) { user in
                switch EventsQuery.parse(request, maxWait: self.maxWait) {
                case .failure(let refusal): responder.respond(refusal.response)
                case .success(let query) where query.form != .page:
                    self.streamEvents(user, query, token: ChatRoutes.bearerToken(request), responder)
                case .success(let query):
                    guard let after = query.after else {
                        // From now: the newest position; with wait, held until something new.
                        return self.chat.feed(user: user, after: nil, limit: query.limit) { result in
                            guard query.wait > 0, case .success(let now) = result else {
                                return APIResponse.answer(responder, result) { APIResponse.json(200, ChatJSON.feedPage($0)) }
                            }
                            self.holdEvents(user, query, after: now.next, responder)
                        }
                    }
                    if query.wait > 0 { return self.holdEvents(user, query, after: after, responder) }
                    self.chat.feed(user: user, after: after, limit: query.limit) { result in
                        APIResponse.answer(responder, result) { APIResponse.json(200, ChatJSON.feedPage($0)) }
                    }
                }
            }
        }
    }

    /// Long-poll: answered with the first page that has events, or at the deadline with none (and the newest
    /// position the follower's last read knew as `next`). Parked: no thread.
    func holdEvents(_ user: User, _ query: EventsQuery, after: Int64, _ responder: Responder) {
        let ticket = chat.waitForEvents(user: user, after: after, limit: query.limit) { [feedPages] result in
            APIResponse.answer(responder, result) { APIResponse.json(200, feedPages.encoded($0)) }
        }
        guard let ticket else { return }
        let chat = self.chat
        responder.park(timeout: query.wait, onDeadline: {
            let next = chat.cancelFeedWait(ticket) ?? after
            return APIResponse.json(200, ChatJSON.feedPage(FeedPage(events: [], next: next, hasMore: false)))
        }, onCancel: {
            chat.cancelFeedWait(ticket)
        })
    }

    /// A stream of events (ndjson lines or SSE events) until the client leaves: each page the follower is handed
    /// is sent and the next wait starts after it; heartbeats carry the newest position known.
    func streamEvents(_ user: User, _ query: EventsQuery, token: String?, _ responder: Responder) {
        guard let after = query.after else {
            return chat.feed(user: user, after: nil, limit: 1) { result in
                switch result {
                case .failure(let error): responder.respond(APIResponse.problem(error))
                case .success(let now): self.streamEvents(user, query, after: now.next, token: token, responder)
                }
            }
        }
        streamEvents(user, query, after: after, token: token, responder)
    }

    private func streamEvents(_ user: User, _ query: EventsQuery, after: Int64, token: String?, _ responder: Responder) {
        let sse = query.form == .sse
        let follower = StreamFollower(cursor: after)
        let head = HTTPResponse(status: 200, headers: HTTPHeaders([
            ("Content-Type", sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson; charset=utf-8"),
            ("Cache-Control", "no-store"), ("X-Accel-Buffering", "no")]))
        let chat = self.chat
        let stream = responder.stream(head, maxQueuedBytes: options.feedStreamMaxQueued) {
            if let ticket = follower.close() { chat.cancelFeedWait(ticket) }
        }
        guard stream.isOpen else { return }
        stream.send(Array((sse ? ": connected\n\n" : "").utf8))
        // A stream outlives the request that authenticated it: its token is checked again with every heartbeat
        // and page (a cached read), so a logout, a rotated or a deleted bot's token ends it within a heartbeat.
        let token = token ?? ""
        stream.every(options.feedHeartbeat) {
            chat.authenticate(token: token) { result in
                guard case .success = result else { return stream.finish() }
                let next = max(follower.cursor, follower.ticket.flatMap(chat.feedPosition) ?? 0)
                stream.send(Array((sse ? ": heartbeat\n\n" : "{\"type\":\"heartbeat\",\"next\":\(next)}\n").utf8))
            }
        }
        pump(user, token: token, limit: query.limit, sse: sse, follower, stream)
    }

    /// Where a stream's page is checked, encoded and queued (off the thread that woke it): one serial queue per
    /// core, a stream always on the same one (its pages stay in order; a few threads, not one per blocked item).
    static let streamWork: [DispatchQueue] = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map {
        DispatchQueue(label: "konnect.feed-streams.\($0)", qos: .userInitiated)
    }

    static func streamQueue(_ follower: StreamFollower) -> DispatchQueue {
        streamWork[Int(UInt(bitPattern: ObjectIdentifier(follower).hashValue) % UInt(streamWork.count))]
    }

    /// Waits for the next page after the follower's cursor, sends it, and waits again.
    private func pump(_ user: User, token: String, limit: Int, sse: Bool, _ follower: StreamFollower, _ stream: ResponseStream) {
        guard stream.isOpen else { return }
        let cursor = follower.cursor
        let ticket = chat.waitForEvents(user: user, after: cursor, limit: limit) { result in
            guard case .success(let page) = result else { return stream.finish() }
            // The wake comes on the store's writer thread (a commit wakes every follower it concerns): the token
            // check, the encoding and the send go to the stream's work queue, so 10,000 streams' checks run on
            // every core instead of holding up the next commit (issue 10). One page at a time per stream: order
            // is kept.
            ChatRoutes.streamQueue(follower).async {
                guard case .success = self.chat.authenticateNow(token: token) else { return stream.finish() }
                // Encoded once per event for all its followers (issue 10: 10,000 streams, one post); a page of
                // one event sends the shared bytes themselves.
                var bytes: [UInt8] = []
                for e in page.events {
                    let framed = FeedEventCache.shared.bytes(e, sse: sse)
                    if page.events.count == 1 { bytes = framed } else { bytes += framed }
                }
                follower.advance(to: page.next)
                stream.send(bytes)
                // A full page means a backlog: the next one waits until the client read most of this one.
                if page.hasMore {
                    stream.whenDrained { self.pump(user, token: token, limit: limit, sse: sse, follower, stream) }
                } else {
                    self.pump(user, token: token, limit: limit, sse: sse, follower, stream)
                }
            }
        }
        if let ticket, !follower.waiting(ticket, at: cursor) { chat.cancelFeedWait(ticket) }   // closed meanwhile
    }
}

/// A stream's position and its current wait, shared by the pump, the heartbeat and the close handler.
final class StreamFollower: Sendable {
    private struct State {
        var cursor: Int64
        var ticket: WaitTicket?
        var closed = false
    }
    private let state: Mutex<State>

    init(cursor: Int64) { state = Mutex(State(cursor: cursor)) }

    var cursor: Int64 { state.withLock { $0.cursor } }
    var ticket: WaitTicket? { state.withLock { $0.ticket } }

    func advance(to next: Int64) { state.withLock { $0.cursor = next; $0.ticket = nil } }

    /// Records the wait started at `cursor`, unless it was answered already (the cursor moved on: nothing to
    /// record); false when the stream closed meanwhile (the caller cancels it).
    func waiting(_ ticket: WaitTicket, at cursor: Int64) -> Bool {
        state.withLock { s in
            if s.closed { return false }
            if s.cursor == cursor { s.ticket = ticket }
            return true
        }
    }

    /// The stream ended: the wait to cancel, if any.
    func close() -> WaitTicket? {
        state.withLock { s in
            s.closed = true
            defer { s.ticket = nil }
            return s.ticket
        }
    }
}
