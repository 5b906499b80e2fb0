// POST /messages (../shared/API.md "POST /messages — post"): JSON, form or text/plain; idempotent by client id.
import HTTP
import Chat

extension ChatRoutes {
    // Multipart bodies go to `streamedPost` (StreamedBodies.swift), which uploads their files as they arrive;
    // the others are buffered by the engine (at most `maxBodyBytes`) and come here.

    /// POST /messages with a JSON, form or text/plain body.
    var bufferedPost: HTTPHandler {
        { request, responder in
            self.authenticated(request, responder) { user in
                guard let body = ChatRoutes.body(request, responder, plainTextField: "text") else { return }
                self.post(user, request, body.fields, files: body["files"], responder)
            }
        }
    }

    /// 201 `{"message":…}` once durably stored; 200 with the original for an idempotent retry. Posts from the
    /// body's fields (JSON, form or multipart) and the `files` ids.
    func post(_ user: User, _ request: HTTPRequest, _ fields: [String: FieldValue], files: FieldValue, _ responder: Responder) {
        let field = { (name: String) in fields[name] ?? .absent }
        let query = FormFields.decode(Array(request.query.utf8), uri: true)
        let room: String
        switch ChatRoutes.roomField(field("room"), query["room"] ?? .absent) {
        case .success(let name): room = name
        case .failure(let refusal): return responder.respond(refusal.response)
        }
        let clientID: String?
        switch ChatRoutes.clientID(field("client_id"), header: request.headers["Idempotency-Key"]) {
        case .success(let id): clientID = id
        case .failure(let refusal): return responder.respond(refusal.response)
        }
        if field("text") == .invalid {
            let detail = RequestBody(fields: [:], isJSON: request.headers["Content-Type"]?.hasPrefix("application/json") ?? false)
            return responder.respond(APIResponse.invalid("invalid_text", detail.invalidDetail("text")))
        }
        let fileIDs: [String]
        switch files {
        case .absent: fileIDs = []
        case .list(let ids): fileIDs = ids
        default: return responder.respond(APIResponse.invalid("invalid_file", "files must be a list of file ids"))
        }
        chat.post(user: user, room: room, text: field("text").string, clientID: clientID, files: fileIDs) { [lastSeqs] result in
            APIResponse.answer(responder, result) { outcome in
                let (status, message): (Int, Message)
                switch outcome {
                case .created(let m): (status, message) = (201, m)
                case .replayed(let m): (status, message) = (200, m)
                }
                lastSeqs.observe(room: message.room, lastSeq: message.seq)
                return APIResponse.json(status, ChatJSON.wrapped("message") { ChatJSON.message(message, into: &$0) })
            }
        }
    }

    /// `room` from the body, else the query, else `general`. Invalid UTF-8, a non-string or an empty name is
    /// 400 invalid_parameter; a well-formed name that does not exist is the domain's 404 room_not_found.
    static func roomField(_ body: FieldValue, _ query: FieldValue) -> Result<String, Refusal> {
        // Both named: they must agree (as client_id and Idempotency-Key must), so a bad or different query room
        // is never silently ignored.
        if body != .absent, query != .absent, body != query {
            return .refuse(APIResponse.invalid("invalid_parameter", "room in the body and room in the query differ"))
        }
        let value = body == .absent ? query : body
        switch value {
        case .absent: return .success("general")
        case .string(let name) where !name.isEmpty: return .success(name)
        default: return .refuse(APIResponse.invalid("invalid_parameter", "room must be a non-empty UTF-8 string"))
        }
    }

    /// `client_id` and the `Idempotency-Key` header name the same thing; both at once must agree (contract).
    /// The header may be an RFC 8941 sf-string (`"abc"`, as the IETF draft writes it) or a bare token.
    static func clientID(_ field: FieldValue, header: String?) -> Result<String?, Refusal> {
        var key = header?.trimmingSpaces
        if let k = key, k.utf8.count >= 2, k.hasPrefix("\""), k.hasSuffix("\"") {
            key = String(k.dropFirst().dropLast())
        }
        switch field {
        case .invalid, .list:
            return .refuse(APIResponse.invalid("invalid_parameter", "client_id must be a string of printable ASCII"))
        case .absent:
            return .success(key)
        case .string(let id):
            if let key, key != id {
                return .refuse(APIResponse.invalid("invalid_parameter", "client_id and Idempotency-Key differ"))
            }
            return .success(id)
        }
    }
}
