// Rooms (../shared/API.md "Rooms" and "Rooms v2"): GET/POST /rooms, GET /rooms/{name}, PUT/DELETE members.
// Who may see a room is decided by ChatService.openRoom; these handlers only translate.
import HTTP
import Chat

extension ChatRoutes {
    /// 200 `{"rooms":[…],"has_more"}`: public rooms and the caller's private and direct ones, in code-point order of
    /// name; `limit` 1–1000 (default 1000) and `after` (a name) page them. 400 invalid_parameter.
    var listRooms: HTTPHandler {
        { [chat, lastSeqs] request, responder in
            self.authenticated(request, responder) { user in
                let query = FormFields.decode(Array(request.query.utf8))
                var limit = 1000
                if let value = query["limit"] {
                    guard let n = HistoryQuery.integer(value), (1...1000).contains(n) else {
                        return responder.respond(APIResponse.invalid("invalid_parameter", "limit must be 1–1000"))
                    }
                    limit = Int(n)
                }
                var after: String?
                switch query["after"] {
                case nil, .absent?: break
                case .string(let name)?: after = name
                case .invalid?: return responder.respond(APIResponse.invalid("invalid_parameter", "after must be a room name"))
                }
                chat.rooms(user: user, after: after, limit: limit) { result in
                    APIResponse.answer(responder, result) { list in
                        var w = JSONWriter(capacity: 48 + list.rooms.count * 128)
                        w.beginObject()
                        w.key("rooms")
                        w.beginArray()
                        for view in list.rooms {
                            lastSeqs.observe(room: view.room.name, lastSeq: view.room.lastSeq)
                            ChatJSON.room(view, into: &w)
                        }
                        w.endArray()
                        w.key("has_more"); w.bool(list.hasMore)
                        w.endObject()
                        return APIResponse.json(200, w.finished())
                    }
                }
            }
        }
    }

    /// 201 `{"room":…}`; 400 invalid_room_name / invalid_parameter (visibility); 409 room_exists.
    var createRoom: HTTPHandler {
        { [chat, lastSeqs] request, responder in
            self.authenticated(request, responder) { user in
                guard let body = ChatRoutes.body(request, responder) else { return }
                if body["name"] == .invalid {
                    return responder.respond(APIResponse.invalid("invalid_room_name", body.invalidDetail("name")))
                }
                if body["visibility"] == .invalid {
                    return responder.respond(APIResponse.invalid("invalid_parameter", "visibility is 'public' or 'private'"))
                }
                chat.createRoom(user: user, name: body["name"].string, visibility: body["visibility"].string) { result in
                    APIResponse.answer(responder, result) { view in
                        lastSeqs.observe(room: view.room.name, lastSeq: view.room.lastSeq)
                        return APIResponse.json(201, ChatJSON.wrapped("room") { ChatJSON.room(view, into: &$0) })
                    }
                }
            }
        }
    }

    /// 200 `{"room":{…,"members":[…]}}`; 404 room_not_found (also for a room that does not admit the caller).
    var getRoom: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                chat.room(user: user, name: request.pathParameters["name"] ?? "") { result in
                    APIResponse.answer(responder, result) { detail in
                        APIResponse.json(200, ChatJSON.wrapped("room") { ChatJSON.room(detail.view, members: detail.members, into: &$0) })
                    }
                }
            }
        }
    }

    /// 201 added, 200 already a member; 403 not_member; 404 room_not_found / user_not_found; 409 direct_room.
    var addMember: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                let room = request.pathParameters["name"] ?? "", username = request.pathParameters["username"] ?? ""
                chat.addMember(user: user, room: room, username: username) { result in
                    APIResponse.answer(responder, result) { change in
                        return APIResponse.json(change == .added ? 201 : 200, ChatJSON.membership(room: room, username: username))
                    }
                }
            }
        }
    }

    /// 204; 403 not_owner; 404 room_not_found / user_not_found; 409 direct_room / cannot_leave.
    var removeMember: HTTPHandler {
        { [chat] request, responder in
            self.authenticated(request, responder) { user in
                let room = request.pathParameters["name"] ?? "", username = request.pathParameters["username"] ?? ""
                chat.removeMember(user: user, room: room, username: username) { result in
                    APIResponse.answer(responder, result) { APIResponse.noContent() }
                }
            }
        }
    }
}
