// Rooms v2 (../shared/API.md "Rooms v2"): who may enter a room — decided here, once, for every route — listing,
// creating, direct rooms and membership.

extension ChatService {
    /// The only door into a room: resolves `room` as typed (`@bob`, `@Bob,Alice`, a name) for `user` and admits
    /// them or answers room_not_found exactly as for a name never created. A direct room the caller belongs to is
    /// created on first use (user_not_found when the other user does not exist). One store visit (`roomAccess`,
    /// from memory on SQLite) whether or not the room exists and whether or not it admits the caller.
    public func openRoom(user: User, room typed: String, completion: @escaping Completion<AuthorizedRoom>) {
        // The caller's lowercase name is needed only for direct rooms (not on the hot path of a named room).
        guard let resolved = RoomName.resolve(typed, caller: Validation.usernameKey(user.username)) else {
            return completion(.failure(.roomNotFound(typed)))
        }
        store.roomAccess(room: resolved.name, username: user.username) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let access?) where access.admits:
                completion(.success(AuthorizedRoom(access: access, username: user.username)))
            case .success(let access):
                guard access == nil, let users = resolved.direct,
                      users.contains(Validation.usernameKey(user.username)) else {
                    return completion(.failure(.roomNotFound(resolved.name)))
                }
                openDirectRoom(resolved.name, users: users, for: user, completion: completion)
            }
        }
    }

    /// First use of a direct room by one of its two users: the other one is looked up with a read first, so
    /// `@nobody` costs no write; then the room is made (or found, if the other user just made it) by the writer.
    private func openDirectRoom(_ name: String, users: [String], for user: User, completion: @escaping Completion<AuthorizedRoom>) {
        let caller = Validation.usernameKey(user.username)
        let other = users.first { $0 != caller } ?? caller
        store.user(named: other) { [self] found in
            switch found {
            case .failure(let error): return completion(.failure(error))
            case .success(nil): return completion(.failure(.userNotFound(other)))
            case .success: break
            }
            store.openDirectRoom(name: name, usernames: Array(Set(users)).sorted(), requester: user.username,
                                 at: clock()) { result in
                completion(result.map { AuthorizedRoom(access: $0, username: user.username) })
            }
        }
    }

    /// GET /rooms: public rooms and the caller's private and direct ones, by name, after `after`, at most
    /// `limit` (1…1000, validated by the caller).
    public func rooms(user: User, after: String?, limit: Int, completion: @escaping Completion<RoomList>) {
        store.rooms(username: user.username, after: after, limit: max(1, limit), completion: completion)
    }

    /// POST /rooms: `visibility` nil is public. Errors: invalid_room_name, invalid_parameter, room_exists.
    public func createRoom(user: User, name: String?, visibility: String?, completion: @escaping Completion<RoomView>) {
        if let error = Validation.roomName(name) { return completion(.failure(error)) }
        let kind: RoomVisibility
        switch visibility {
        case nil, "public": kind = .public
        case "private": kind = .private
        default:
            return completion(.failure(ChatError(.invalid, "invalid_parameter", "visibility is 'public' or 'private'")))
        }
        store.createRoom(name: name!, visibility: kind, owner: user.username, at: clock()) { result in
            completion(result.map { RoomView(room: $0, joined: true) })
        }
    }

    /// GET /rooms/{name}: the room with its members. Errors: room_not_found, user_not_found.
    public func room(user: User, name: String, completion: @escaping Completion<RoomDetail>) {
        openRoom(user: user, room: name) { [store] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let room):
                store.roomDetail(room: room.name, username: user.username) { result in
                    completion(result.flatMap { $0.map(Result.success) ?? .failure(.roomNotFound(room.name)) })
                }
            }
        }
    }

    /// PUT /rooms/{name}/members/{username}. A public room: anyone may add themselves, members anyone
    /// (else not_member); a private room: members (the only ones it exists for); a direct room: direct_room.
    /// Errors also: room_not_found, user_not_found.
    public func addMember(user: User, room: String, username: String, completion: @escaping Completion<MembershipChange>) {
        openRoom(user: user, room: room) { [store] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let room):
                if room.access.visibility == .direct { return completion(.failure(.directRoom)) }
                let adding = Validation.usernameKey(username), caller = Validation.usernameKey(user.username)
                if adding != caller, !room.access.isMember { return completion(.failure(.notMember)) }
                if Validation.username(username) != nil { return completion(.failure(.userNotFound(username))) }
                store.addMember(room: room.name, username: username, completion: completion)
            }
        }
    }

    /// DELETE /rooms/{name}/members/{username}: anyone may leave (but not `general`: cannot_leave); only the
    /// owner removes others (not_owner); a direct room: direct_room. Removing a non-member succeeds.
    public func removeMember(user: User, room: String, username: String, completion: @escaping Completion<Void>) {
        openRoom(user: user, room: room) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let room):
                if room.access.visibility == .direct { return completion(.failure(.directRoom)) }
                let removing = Validation.usernameKey(username), caller = Validation.usernameKey(user.username)
                if removing == caller {
                    if room.name == "general" { return completion(.failure(.cannotLeave)) }
                } else if room.access.owner.map(Validation.usernameKey) != caller {
                    return completion(.failure(.notOwner))
                }
                if Validation.username(username) != nil { return completion(.failure(.userNotFound(username))) }
                store.removeMember(room: room.name, username: username) { [self] result in
                    // Their held requests here answer now; on other instances, when the next message arrives.
                    if case .success = result, room.access.visibility != .public {
                        for waiter in waiters.remove(room: room.name, member: removing) {
                            waiter.onReady(.failure(.roomNotFound(room.name)))
                        }
                    }
                    completion(result.map { _ in () })
                }
            }
        }
    }
}
