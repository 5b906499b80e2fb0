// GET /messages (../shared/API.md "GET /messages — history and long-poll"): paging and parked long-polls.
import HTTP
import Chat

/// The validated query of GET /messages.
struct HistoryQuery: Equatable {
    var room = "general"
    var limit = 50
    var cursor = HistoryCursor.newest
    var wait: Double = 0                 // seconds, 0…60; not with `before`

    /// Contract: limit 1–200, at most one of before (≥ 1) / after (≥ 0), wait 0–60 (larger values count as 60),
    /// not with before. Anything else is 400 invalid_parameter.
    static func parse(_ query: String, maxWait: Double = 60) -> Result<HistoryQuery, Refusal> {
        let items = Fields(query)
        func bad(_ detail: String) -> Result<HistoryQuery, Refusal> {
            .refuse(APIResponse.invalid("invalid_parameter", detail))
        }
        var q = HistoryQuery()
        switch ChatRoutes.roomField(FieldValue.absent, items["room"] ?? FieldValue.absent) {
        case .success(let room): q.room = room
        case .failure(let refusal): return .failure(refusal)
        }
        if let value = items["limit"] {
            guard let limit = integer(value), (1...200).contains(limit) else { return bad("limit must be 1–200") }
            q.limit = Int(limit)
        }
        let before = items["before"], after = items["after"]
        if before != nil && after != nil { return bad("use at most one of before and after") }
        if let before {
            guard let b = integer(before), b >= 1 else { return bad("before must be a seq ≥ 1") }
            q.cursor = .before(b)
        }
        if let after {
            guard let a = integer(after), a >= 0 else { return bad("after must be a seq ≥ 0") }
            q.cursor = .after(a)
        }
        if let value = items["wait"] {
            // Contract v2: wait without after waits for the room's next message; with before it is meaningless.
            guard before == nil else { return bad("wait cannot go with before: it waits for newer messages (use after, or neither)") }
            guard let wait = seconds(value) else { return bad("wait must be a number of seconds, 0–60 (larger values count as 60)") }
            q.wait = min(wait, maxWait)
        }
        return .success(q)
    }

    /// The five names this route reads, decoded like `FormFields.decode` (first occurrence wins, names and values
    /// percent-decoded, values checked as UTF-8) but without building a dictionary: this runs on every page read.
    struct Fields {
        private var room, limit, before, after, wait: FieldValue?

        init(_ query: String) {
            var query = query
            query.withUTF8 { bytes in
                var start = 0
                while start <= bytes.count {
                    let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.count
                    if end > start { take(UnsafeBufferPointer(rebasing: bytes[start..<end])) }
                    start = end + 1
                }
            }
        }

        /// One `name=value` part; names this route does not read are skipped without decoding their value.
        private mutating func take(_ part: UnsafeBufferPointer<UInt8>) {
            let eq = part.firstIndex(of: UInt8(ascii: "=")) ?? part.count
            let name = UnsafeBufferPointer(rebasing: part[..<eq])
            let encoded = name.contains(UInt8(ascii: "%")) || name.contains(UInt8(ascii: "+"))
            let decoded = encoded ? Array(FormDecoding.percentDecode(ArraySlice(name), strict: false)!.utf8) : []
            func named(_ s: StaticString) -> Bool {
                s.withUTF8Buffer { encoded ? $0.elementsEqual(decoded) : $0.elementsEqual(name) }
            }
            let value = UnsafeBufferPointer(rebasing: part[min(eq + 1, part.count)...])
            if named("limit") { if limit == nil { limit = Self.decode(value) } }
            else if named("room") { if room == nil { room = Self.decode(value) } }
            else if named("before") { if before == nil { before = Self.decode(value) } }
            else if named("after") { if after == nil { after = Self.decode(value) } }
            else if named("wait") { if wait == nil { wait = Self.decode(value) } }
        }

        private static func decode(_ raw: UnsafeBufferPointer<UInt8>) -> FieldValue {
            let plain = !raw.contains(UInt8(ascii: "%")) && !raw.contains(UInt8(ascii: "+"))
            let string = plain ? String(validating: raw, as: UTF8.self)
                : FormFields.hasMalformedEscape(raw) ? nil : FormDecoding.percentDecode(ArraySlice(raw), strict: true)
            return string.map(FieldValue.string) ?? .invalid
        }

        subscript(_ name: String) -> FieldValue? {
            switch name {
            case "room": return room
            case "limit": return limit
            case "before": return before
            case "after": return after
            case "wait": return wait
            default: return nil
            }
        }
    }

    /// ASCII digits only (no sign, no spaces), fitting Int64.
    static func integer(_ value: FieldValue) -> Int64? {
        guard case .string(let s) = value, !s.isEmpty, s.utf8.count <= 18,
              s.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(s)
    }

    /// Digits with at most one decimal point; any size (the caller caps at 60).
    static func seconds(_ value: FieldValue) -> Double? {
        guard case .string(let s) = value, !s.isEmpty, s.first != ".", s.last != "." else { return nil }
        var dots = 0
        for b in s.utf8 {
            if b == UInt8(ascii: ".") { dots += 1; continue }
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
        }
        guard dots <= 1 else { return nil }
        return s.utf8.count > 12 ? 60 : Double(s)
    }
}

extension ChatRoutes {
    /// 200 `{"room","messages","has_more","last_seq"}`; with `after` and `wait` the request parks until a post or
    /// the deadline (then an empty list). A parked request holds no thread (contract "GET /messages").
    /// A plain page (the hot path) authenticates and reads in one store visit; a bad query or a long-poll
    /// authenticates first, so a bad token is 401 whatever the query.
    var history: HTTPHandler {
        { request, responder in
            guard let token = ChatRoutes.bearerToken(request) else {
                return self.authenticated(request, responder) { _ in }      // answers the 401
            }
            switch HistoryQuery.parse(request.query, maxWait: self.maxWait) {
            case .failure(let refusal):
                self.authenticated(request, responder) { _ in responder.respond(refusal.response) }
            case .success(let query):
                if query.wait > 0 {
                    self.authenticated(request, responder) { user in
                        self.chat.openRoom(user: user, room: query.room) { opened in
                            switch opened {
                            case .failure(let error): responder.respond(APIResponse.problem(error))
                            case .success(let room):
                                if case .after(let after) = query.cursor { return self.longPoll(query, room: room, after: after, responder) }
                                // `wait` without `after` (contract v2): after the room's newest seq now.
                                self.chat.history(room: room, cursor: .newest, limit: 1) { result in
                                    switch result {
                                    case .success(let page): self.longPoll(query, room: room, after: page.lastSeq, responder)
                                    case .failure(let error): responder.respond(APIResponse.problem(error))
                                    }
                                }
                            }
                        }
                    }
                } else {
                    self.chat.history(token: token, room: query.room, cursor: query.cursor, limit: query.limit) { result in
                        self.answerPage(responder, query, result)
                    }
                }
            }
        }
    }

    /// Parks the request on `room` (authorized by the domain) until a post or the deadline.
    func longPoll(_ query: HistoryQuery, room authorized: AuthorizedRoom, after: Int64, _ responder: Responder) {
        let ticket = chat.waitForMessages(room: authorized, after: after, limit: query.limit) { result in
            self.answerPage(responder, query, result)
        }
        guard let ticket else { return }     // answered at once
        let room = authorized.name
        if lastSeqs.value(room: room) == nil {
            // The deadline answer needs the room's last_seq without a store read: learn it now, off the hot path.
            chat.history(room: authorized, cursor: .newest, limit: 1) { result in
                if case .success(let page) = result { self.lastSeqs.observe(room: page.room, lastSeq: page.lastSeq) }
            }
        }
        let chat = self.chat, lastSeqs = self.lastSeqs, pages = self.pages
        responder.park(timeout: query.wait, onDeadline: {
            chat.cancelWait(ticket)
            // Nothing newer than `after` was posted (else onReady had answered): an empty page. The room's
            // last_seq comes from the cache; if the read started at park time has not landed, ask once more (the
            // SQLite store answers reads synchronously).
            if lastSeqs.value(room: room) == nil {
                chat.history(room: authorized, cursor: .newest, limit: 1) { result in
                    if case .success(let page) = result { lastSeqs.observe(room: page.room, lastSeq: page.lastSeq) }
                }
            }
            let page = HistoryPage(room: room, messages: [], hasMore: false, lastSeq: lastSeqs.value(room: room) ?? after)
            return APIResponse.json(200, pages.encoded(page))
        }, onCancel: {
            chat.cancelWait(ticket)
        })
    }

    func answerPage(_ responder: Responder, _ query: HistoryQuery, _ result: Result<HistoryPage, ChatError>) {
        APIResponse.answer(responder, result) { page in
            lastSeqs.observe(room: page.room, lastSeq: page.lastSeq)
            return APIResponse.json(200, pages.encoded(page))
        }
    }
}
