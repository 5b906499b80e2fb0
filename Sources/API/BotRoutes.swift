// Bots (../shared/API.md "Bots"): POST /bots, GET /bots, POST /bots/{username}/token, DELETE /bots/{username}.
import HTTP
import Chat

extension ChatJSON {
    static func bot(_ bot: Bot, into w: inout JSONWriter) {
        w.beginObject()
        w.key("username"); w.string(bot.username)
        w.key("owner"); w.string(bot.owner)
        w.key("created_at"); w.time(bot.createdAt)
        w.endObject()
    }

    /// `{"bot":{…},"token":"…"}`: the only answers that show a bot's token.
    static func botCredentials(_ credentials: BotCredentials) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("bot"); bot(credentials.bot, into: &w)
        w.key("token"); w.string(credentials.token)
        w.endObject()
        return w.finished()
    }
}

extension ChatRoutes {
    /// 201 `{"bot","token"}`; 400 invalid_username; 409 username_taken.
    var createBot: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                guard let body = ChatRoutes.body(request, responder) else { return }
                if body["username"] == .invalid {
                    return responder.respond(APIResponse.invalid("invalid_username", body.invalidDetail("username")))
                }
                chat.createBot(user: user, username: body["username"].string) { result in
                    APIResponse.answer(responder, result) { APIResponse.json(201, ChatJSON.botCredentials($0)) }
                }
            }
        }
    }

    /// 200 `{"bots":[…]}`: the caller's bots.
    var listBots: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                chat.bots(user: user) { result in
                    APIResponse.answer(responder, result) { bots in
                        var w = JSONWriter()
                        w.beginObject()
                        w.key("bots")
                        w.beginArray()
                        for bot in bots { ChatJSON.bot(bot, into: &w) }
                        w.endArray()
                        w.endObject()
                        return APIResponse.json(200, w.finished())
                    }
                }
            }
        }
    }

    /// 200 `{"bot","token"}` with a new token; the old one fails at once. 404 bot_not_found.
    var rotateBotToken: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                chat.rotateBotToken(user: user, username: request.pathParameters["username"] ?? "") { result in
                    APIResponse.answer(responder, result) { APIResponse.json(200, ChatJSON.botCredentials($0)) }
                }
            }
        }
    }

    /// 204; its tokens fail from then on, its messages stay. 404 bot_not_found.
    var deleteBot: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                chat.deleteBot(user: user, username: request.pathParameters["username"] ?? "") { result in
                    APIResponse.answer(responder, result) { _ in APIResponse.noContent() }
                }
            }
        }
    }
}
