// The API's entry point: every route of ../shared/API.md registered on the HTTP layer's router.
import HTTP
import Chat

/// Builds the router for the whole contract: service routes, accounts, rooms, messages and the web client's files.
/// Static files are read once, here.
public func makeRouter(chat: ChatService, options: APIOptions) -> Router {
    let router = Router(defaultBodyLimit: options.maxBodyBytes)
    let routes = ChatRoutes(chat: chat, options: options)
    let fileRoutes = FileRoutes(chat: chat, routes: routes, maxFileBytes: options.maxFileBytes)
    let uploadLimit = options.maxFileBytes + FileRoutes.multipartOverhead
    let limiter = options.postRateLimit.isOff ? nil : PostLimiter(options.postRateLimit)
    let service = ServiceRoutes(chat: chat, metrics: options.metrics, openAPIPath: options.openAPIPath)
    let files = StaticFiles(root: options.webRoot)

    options.metrics.addGauge("konnect_parked_polls", help: "Long-polls currently held waiting for a message.") {
        chat.parkedWaiters
    }
    options.metrics.addGauge("konnect_feed_followers", help: "GET /events requests and streams waiting for events.") {
        chat.feedFollowers
    }
    options.metrics.addGauge("konnect_messages_stored_total", help: "Messages durably stored by this process since start.",
                             type: "counter") { chat.messagesStored }

    router.add("GET", "/", files.handler(for: "index.html"))
    router.add("GET", "/health", service.health)
    router.add("GET", "/openapi.yaml", service.openAPI)
    router.add("GET", "/metrics", service.metrics)

    router.add("POST", "/register", routes.register)
    router.add("POST", "/login", routes.login)
    router.add("POST", "/logout", routes.logout)
    router.add("GET", "/me", routes.me)

    router.add("GET", "/rooms", routes.listRooms)
    router.add("POST", "/rooms", PostLimiter.limited(limiter, routes.createRoom))
    router.add("GET", "/rooms/{name}", routes.getRoom)
    router.add("PUT", "/rooms/{name}/members/{username}", routes.addMember)
    router.add("DELETE", "/rooms/{name}/members/{username}", routes.removeMember)

    // A multipart post may carry files: it is streamed, up to the file limit plus 64 KiB. Other bodies are buffered
    // by the engine like any route's (`maxBodyBytes`, the budget for bodies in progress, 408 when they stall).
    router.addStreaming("POST", "/messages", bodyLimit: uploadLimit, streams: ChatRoutes.streamsPost,
                        PostLimiter.limited(limiter, routes.streamedPost),
                        buffered: PostLimiter.limited(limiter, routes.bufferedPost))
    router.add("GET", "/messages", routes.history)
    router.add("GET", "/events", routes.events)

    router.add("POST", "/bots", routes.createBot)
    router.add("GET", "/bots", routes.listBots)
    router.add("POST", "/bots/{username}/token", routes.rotateBotToken)
    router.add("DELETE", "/bots/{username}", routes.deleteBot)

    // POST /files takes a token of the posting bucket (contract "Rate limits": files share it).
    router.addStreaming("POST", "/files", bodyLimit: uploadLimit, PostLimiter.limited(limiter, fileRoutes.streamedUpload))
    router.add("GET", "/files/{id}", fileRoutes.download)

    // Issue 13 item 2: a body for a route that needs a token is not read from a client that sent none; 401 at once,
    // when the head arrives (the token itself is checked by the handler, off the event loop). Add new routes that
    // take a body and need a token here.
    let needsToken: Set<String> = ["POST /messages", "POST /rooms", "POST /logout", "POST /files", "POST /bots",
                                   "POST /bots/{username}/token"]
    let limited: Set<String> = ["POST /messages", "POST /rooms", "POST /files"]   // wrapped by PostLimiter.limited above
    let maxFileBytes = options.maxFileBytes
    router.headCheck = { route, request in
        let key = route.method + " " + route.pattern
        if let length = request.headers["Content-Length"].flatMap({ Int($0) }) {
            // Over-large uploads are refused from their head, worded by the file limit (a raw upload is the file; a
            // multipart body may add 64 KiB of fields and headers). The engine refuses other bodies past theirs.
            let multipart = request.headers["Content-Type"].flatMap(MultipartParser.boundary(contentType:)) != nil
            if (key == "POST /files" && length > (multipart ? uploadLimit : maxFileBytes))
                || (key == "POST /messages" && multipart && length > uploadLimit) {
                return APIResponse.problem(.payloadTooLarge(maxFileBytes))
            }
        }
        guard needsToken.contains(key), ChatRoutes.bearerToken(request) == nil else { return nil }
        var answer = APIResponse.unauthorized("send Authorization: Bearer <token> (POST /login gives one)")
        // Every answer of a limited route advertises the policy, this early one too (no account: no RateLimit).
        if let limiter, limited.contains(key) { answer.headers.add("RateLimit-Policy", limiter.policy) }
        return answer
    }

    // The web client's other files, each its own route so unknown paths stay 404 and API paths keep their 405.
    let taken = Set(router.routes.map(\.pattern))
    for name in files.names where name != "index.html" && !taken.contains("/" + name) {
        router.add("GET", "/" + name, files.handler(for: name))
    }
    return router
}

/// The patterns `makeRouter` registers for files of the web root other than `/` (openapi.yaml documents them as
/// `/{file}`); exposed for the spec-coverage test.
public func staticFileRoutes(options: APIOptions) -> [String] {
    StaticFiles(root: options.webRoot).names.filter { $0 != "index.html" }.map { "/" + $0 }
}

/// State shared by the Accounts, Rooms and Messages handlers.
final class ChatRoutes: Sendable {
    let chat: ChatService
    let pages = PageCache()           // encoded history pages, so a fan-out to many pollers encodes once
    let lastSeqs = LastSeqCache()     // each room's newest seq seen, for a long-poll's deadline answer
    let feedPages = FeedPageCache()   // encoded feed pages, so a post woken into many followers is encoded once
    let options: APIOptions
    var maxFileBytes: Int { options.maxFileBytes }   // each file of a multipart post
    var maxWait: Double { options.maxWait }          // the longest a long-poll is held

    init(chat: ChatService, options: APIOptions) {
        self.chat = chat
        self.options = options
    }

    /// Contract "Conventions": `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive).
    static func bearerToken(_ request: HTTPRequest) -> String? {
        request.headers["Authorization"].flatMap(bearerToken(fromHeader:))
    }

    /// The token of `Bearer <token>` (spaces and tabs around either part ignored), on the header's bytes: every
    /// authenticated request goes through here, so no lowercased copies.
    static func bearerToken(fromHeader value: String) -> String? {
        let utf8 = value.utf8
        func blank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        var i = utf8.startIndex, end = utf8.endIndex
        while i < end, blank(utf8[i]) { utf8.formIndex(after: &i) }
        while end > i, blank(utf8[utf8.index(before: end)]) { utf8.formIndex(before: &end) }
        for letter in "bearer".utf8 {
            guard i < end, utf8[i] | 0x20 == letter else { return nil }     // ASCII case-insensitive (RFC 9110 §11.1)
            utf8.formIndex(after: &i)
        }
        guard i < end, utf8[i] == UInt8(ascii: " ") else { return nil }
        while i < end, blank(utf8[i]) { utf8.formIndex(after: &i) }
        return i < end ? String(Substring(value.utf8[i..<end])) : nil
    }

    /// Runs `next` with the request's user, or answers 401 `unauthorized` with `WWW-Authenticate: Bearer`.
    func authenticated(_ request: HTTPRequest, _ responder: Responder, _ next: @escaping @Sendable (User) -> Void) {
        guard let token = ChatRoutes.bearerToken(request) else {
            responder.respond(APIResponse.unauthorized("send Authorization: Bearer <token> (POST /login gives one)"))
            return
        }
        chat.authenticate(token: token) { result in
            switch result {
            case .success(let user):
                // A posting route (see makeRouter) takes a token of the account's bucket first.
                if let limited = responder as? RateLimitedResponder, !limited.admit(user) { return }
                next(user)
            case .failure(let error): responder.respond(APIResponse.problem(error))
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
