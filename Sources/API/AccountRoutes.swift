// Accounts (../shared/API.md "Accounts"): POST /register, POST /login, POST /logout, GET /me.
import HTTP
import Chat

extension ChatRoutes {
    /// 201 `{"user":…}`; 400 invalid_username / invalid_password; 409 username_taken.
    var register: HTTPHandler {
        { [chat] request, responder in
            guard let body = ChatRoutes.body(request, responder) else { return }
            if body["username"] == .invalid {
                return responder.respond(APIResponse.invalid("invalid_username", body.invalidDetail("username")))
            }
            if body["password"] == .invalid {
                return responder.respond(APIResponse.invalid("invalid_password", body.invalidDetail("password")))
            }
            chat.register(username: body["username"].string, password: body["password"].string,
                          clientAddress: request.remoteAddress) { result in
                APIResponse.answer(responder, result) { user in
                    APIResponse.json(201, ChatJSON.wrapped("user") { ChatJSON.user(user, into: &$0) })
                }
            }
        }
    }

    /// 200 `{"token","token_type":"Bearer","expires_at","user"}`; 401 invalid_credentials; 429 too_many_attempts.
    var login: HTTPHandler {
        { [chat] request, responder in
            guard let body = ChatRoutes.body(request, responder) else { return }
            // A username or password that is not a string cannot match an account: the same 401 as a wrong one.
            chat.login(username: body["username"].string, password: body["password"].string,
                       clientAddress: request.remoteAddress) { result in
                APIResponse.answer(responder, result) { session in
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("token"); w.string(session.token)
                    w.key("token_type"); w.string("Bearer")
                    w.key("expires_at"); w.time(session.expiresAt)
                    w.key("user"); ChatJSON.user(session.user, into: &w)
                    w.endObject()
                    return APIResponse.json(200, w.finished())
                }
            }
        }
    }

    /// 204; the token is revoked on every instance (it is deleted from the store).
    var logout: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { _ in
                chat.logout(token: ChatRoutes.bearerToken(request) ?? "") { result in
                    APIResponse.answer(responder, result) { APIResponse.noContent() }
                }
            }
        }
    }

    /// 200 `{"user":…}` for the token's user.
    var me: HTTPHandler {
        { request, responder in
            self.authenticated(request, responder) { user in
                responder.respond(APIResponse.json(200, ChatJSON.wrapped("user") { ChatJSON.user(user, into: &$0) }))
            }
        }
    }

    /// The parsed body, or nil after answering 400/415.
    static func body(_ request: HTTPRequest, _ responder: Responder, plainTextField: String? = nil) -> RequestBody? {
        switch RequestBody.parse(request, plainTextField: plainTextField) {
        case .success(let body): return body
        case .failure(let refusal): responder.respond(refusal.response); return nil
        }
    }
}
