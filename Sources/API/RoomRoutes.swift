// Rooms (../shared/API.md "Rooms"): GET /rooms and POST /rooms.
import HTTP
import Chat

extension ChatRoutes {
    /// 200 `{"rooms":[…]}` in code-point order of name (the domain sorts).
    var listRooms: HTTPHandler {
        { [chat, lastSeqs] request, responder in
            self.authenticated(request, responder) { _ in
                chat.rooms { result in
                    APIResponse.answer(responder, result) { rooms in
                        var w = JSONWriter(capacity: 32 + rooms.count * 80)
                        w.beginObject()
                        w.key("rooms")
                        w.beginArray()
                        for room in rooms {
                            lastSeqs.observe(room: room.name, lastSeq: room.lastSeq)
                            ChatJSON.room(room, into: &w)
                        }
                        w.endArray()
                        w.endObject()
                        return APIResponse.json(200, w.finished())
                    }
                }
            }
        }
    }

    /// 201 `{"room":…}`; 400 invalid_room_name; 409 room_exists.
    var createRoom: HTTPHandler {
        { [chat, lastSeqs] request, responder in
            self.authenticated(request, responder) { _ in
                guard let body = ChatRoutes.body(request, responder) else { return }
                if body["name"] == .invalid {
                    return responder.respond(APIResponse.invalid("invalid_room_name", body.invalidDetail("name")))
                }
                chat.createRoom(name: body["name"].string) { result in
                    APIResponse.answer(responder, result) { room in
                        lastSeqs.observe(room: room.name, lastSeq: room.lastSeq)
                        return APIResponse.json(201, ChatJSON.wrapped("room") { ChatJSON.room(room, into: &$0) })
                    }
                }
            }
        }
    }
}
