// PostgresStore: rooms v2 — listing for a user, creating (owned, direct), access, members. Each method is one
// statement (one round trip, one snapshot); writes go through the group-commit writer.
import Chat

extension PostgresStore {
    public func rooms(username: String, after: String?, limit: Int, completion: @escaping StoreCompletion<RoomList>) {
        read(completion) { db in
            var views = try db.query(PGSQL.roomsFor, [.text(Validation.usernameKey(username)), .text(after ?? ""),
                                                      .int(Int64(limit) + 1)]) { row in
                RoomView(room: Self.room(row), joined: row.bool(5))
            }
            let hasMore = views.count > limit
            if hasMore { views.removeLast() }
            return .success(RoomList(rooms: views, hasMore: hasMore))
        }
    }

    public func createRoom(name: String, visibility: RoomVisibility, owner: String, at: Timestamp,
                           completion: @escaping StoreCompletion<Room>) {
        write(evictingAccess(completion)) { batch in
            guard let (registered, made) = try batch.db.query(PGSQL.insertRoomOwned, [
                .text(name), .int(at.milliseconds), .text(visibility.rawValue), .text(Validation.usernameKey(owner)),
            ], row: { ($0.optionalText(0), $0.int(1)) }).first else { return .failure(.unavailable("no answer")) }
            guard let registered else { return .failure(.userNotFound(owner)) }
            guard made == 1 else { return .failure(.roomExists(name)) }
            return .success(Room(name: name, createdAt: at, lastSeq: 0, visibility: visibility, owner: registered))
        }
    }

    public func openDirectRoom(name: String, usernames: [String], requester: String, at: Timestamp,
                               completion: @escaping StoreCompletion<RoomAccess>) {
        write(evictingAccess(completion)) { batch in
            let keys = Array(Set(usernames.map(Validation.usernameKey))).sorted()
            let found = Set(try batch.db.query(PGSQL.openDirectRoom, [
                .text(name), .int(at.milliseconds), .text(PostgresArray.literal(keys.map { Optional($0) })),
                .int(Int64(keys.count)),
            ]) { $0.text(0) })
            if let missing = usernames.first(where: { !found.contains(Validation.usernameKey($0)) }) {
                return .failure(.userNotFound(missing))
            }
            let isMember = keys.contains(Validation.usernameKey(requester))
            return .success(RoomAccess(room: name, visibility: .direct, owner: nil, isMember: isMember))
        }
    }

    /// A public room's answer from memory when kept (answered on the caller's thread: memory only; see
    /// `PostgresAccessCache`); everything else — private and direct rooms, names not found — read from the
    /// database (one round trip on a reader thread, never on the caller's), so a membership change committed by
    /// any instance is seen by the next request here. The hot read (`history(tokenHash:…)`) folds this check into
    /// its one statement, so it costs no round trip there.
    public func roomAccess(room: String, username: String, completion: @escaping StoreCompletion<RoomAccess?>) {
        let key = PostgresAccessCache.Key(room: room, userKey: Validation.usernameKey(username))
        if let hit = accessCache.access(key) { return completion(.success(hit)) }
        let ticket = accessCache.ticket()
        read(completion) { [accessCache] db in
            let found = try db.query(PGSQL.roomAccess, [.text(room), .text(key.userKey)]) { row in
                RoomAccess(room: row.text(0), visibility: RoomVisibility(rawValue: row.text(3)) ?? .private,
                           owner: row.optionalText(4), isMember: row.bool(5))
            }.first
            accessCache.remember(found, for: key, ticket: ticket)
            return .success(found)
        }
    }

    /// A completion that first drops this instance's access cache (other instances drop theirs when the NOTIFY
    /// sent by the change's triggers arrives).
    func evictingAccess<T>(_ completion: @escaping StoreCompletion<T>) -> StoreCompletion<T> {
        { [accessCache] result in
            accessCache.evictAll()
            completion(result)
        }
    }

    public func roomDetail(room: String, username: String, completion: @escaping StoreCompletion<RoomDetail?>) {
        read(completion) { db in
            var view: RoomView?
            var members: [String] = []
            try db.query(PGSQL.roomDetail, [.text(room), .text(Validation.usernameKey(username))]) { row in
                if view == nil { view = RoomView(room: Self.room(row), joined: row.bool(5)) }
                if let member = row.optionalText(6) { members.append(member) }
            }
            return .success(view.map { RoomDetail(view: $0, members: members) })
        }
    }

    public func addMember(room: String, username: String, completion: @escaping StoreCompletion<MembershipChange>) {
        write(evictingAccess(completion)) { batch in
            Self.membership(try batch.db.query(PGSQL.addMember, [.text(room), .text(Validation.usernameKey(username))]) {
                ($0.isNull(0), $0.isNull(1), $0.int(2))
            }.first, room: room, username: username).map { $0 == 1 ? .added : .alreadyMember }
        }
    }

    public func removeMember(room: String, username: String, completion: @escaping StoreCompletion<Bool>) {
        write(evictingAccess(completion)) { batch in
            Self.membership(try batch.db.query(PGSQL.removeMember, [.text(room), .text(Validation.usernameKey(username))]) {
                ($0.isNull(0), $0.isNull(1), $0.int(2))
            }.first, room: room, username: username).map { $0 == 1 }
        }
    }

    /// The rows changed, or room_not_found / user_not_found, from `addMember`/`removeMember`'s one row.
    private static func membership(_ row: (noRoom: Bool, noUser: Bool, changed: Int64)?, room: String,
                                   username: String) -> Result<Int64, ChatError> {
        guard let row else { return .failure(.unavailable("no answer")) }
        if row.noRoom { return .failure(.roomNotFound(room)) }
        if row.noUser { return .failure(.userNotFound(username)) }
        return .success(row.changed)
    }

    /// A room from columns name, created_at, last_seq, visibility, owner.
    static func room(_ row: PostgresRow) -> Room {
        Room(name: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), lastSeq: row.int(2),
             visibility: RoomVisibility(rawValue: row.text(3)) ?? .private, owner: row.optionalText(4))
    }
}
