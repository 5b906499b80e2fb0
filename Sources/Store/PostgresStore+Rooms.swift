// PostgresStore: rooms v2 — listing for a user, creating (owned, direct), access, members. Each method is one
// statement (one round trip, one snapshot); writes go through the group-commit writer, and each membership it
// makes or ends queues its feed event in the same transaction (`PostgresBatch.membershipEvent`).
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
            guard let (registered, made, roomID, ownerID) = try batch.db.query(PGSQL.insertRoomOwned, [
                .text(name), .int(at.milliseconds), .text(visibility.rawValue), .text(Validation.usernameKey(owner)),
            ], row: { ($0.optionalText(0), $0.int(1), $0.int(2), $0.int(3)) }).first else {
                return .failure(.unavailable("no answer"))
            }
            guard let registered else { return .failure(.userNotFound(owner)) }
            guard made == 1 else { return .failure(.roomExists(name)) }
            let room = Room(name: name, createdAt: at, lastSeq: 0, visibility: visibility, owner: registered)
            batch.membershipEvent("joined", roomID: roomID, room: name, userID: ownerID, username: registered,
                                  view: RoomView(room: room, joined: true))
            return .success(room)
        }
    }

    public func openDirectRoom(name: String, usernames: [String], requester: String, at: Timestamp,
                               completion: @escaping StoreCompletion<RoomAccess>) {
        write(evictingAccess(completion)) { batch in
            let keys = Array(Set(usernames.map(Validation.usernameKey))).sorted()
            var found: [String: (username: String, id: Int64, joined: (roomID: Int64, room: Room)?)] = [:]
            try batch.db.query(PGSQL.openDirectRoom, [
                .text(name), .int(at.milliseconds), .text(PostgresArray.literal(keys.map { Optional($0) })),
                .int(Int64(keys.count)),
            ]) { row in
                let joined = row.isNull(3) ? nil : (roomID: row.int(3), room: Room(
                    name: name, createdAt: Timestamp(milliseconds: row.int(4)), lastSeq: row.int(5), visibility: .direct, owner: nil))
                found[row.text(0)] = (row.text(1), row.int(2), joined)
            }
            if let missing = usernames.first(where: { found[Validation.usernameKey($0)] == nil }) {
                return .failure(.userNotFound(missing))
            }
            for key in usernames.map(Validation.usernameKey) where found[key]?.joined != nil {   // each once, in order
                let member = found.removeValue(forKey: key)!
                batch.membershipEvent("joined", roomID: member.joined!.roomID, room: name, userID: member.id,
                                      username: member.username, view: RoomView(room: member.joined!.room, joined: true))
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
            let row = try batch.db.query(PGSQL.addMember, [.text(room), .text(Validation.usernameKey(username))]) { row in
                (ids: Self.ids(row), view: row.isNull(4) ? nil : RoomView(room: Room(
                    name: row.text(4), createdAt: Timestamp(milliseconds: row.int(5)), lastSeq: row.int(6),
                    visibility: RoomVisibility(rawValue: row.text(7)) ?? .private, owner: row.optionalText(8)), joined: true))
            }.first
            return Self.membership(row?.ids, room: room, username: username).map { ids in
                guard ids.changed == 1 else { return .alreadyMember }
                batch.membershipEvent("joined", roomID: ids.roomID, room: room, userID: ids.userID,
                                      username: ids.username, view: row?.view)
                return .added
            }
        }
    }

    public func removeMember(room: String, username: String, completion: @escaping StoreCompletion<Bool>) {
        write(evictingAccess(completion)) { batch in
            let row = try batch.db.query(PGSQL.removeMember, [.text(room), .text(Validation.usernameKey(username))]) {
                Self.ids($0)
            }.first
            return Self.membership(row, room: room, username: username).map { ids in
                guard ids.changed == 1 else { return false }
                batch.membershipEvent("left", roomID: ids.roomID, room: room, userID: ids.userID,
                                      username: ids.username, view: nil)
                return true
            }
        }
    }

    /// `addMember`/`removeMember`'s first four columns: room id, user id (NULL: none), rows changed, the user
    /// as registered.
    private struct MembershipRow {
        let roomID: Int64?, userID: Int64?, changed: Int64, username: String?
    }
    private static func ids(_ row: PostgresRow) -> MembershipRow {
        MembershipRow(roomID: row.isNull(0) ? nil : row.int(0), userID: row.isNull(1) ? nil : row.int(1),
                      changed: row.int(2), username: row.optionalText(3))
    }

    /// The ids and rows changed, or room_not_found / user_not_found, from `addMember`/`removeMember`'s one row.
    private static func membership(_ row: MembershipRow?, room: String, username: String)
        -> Result<(roomID: Int64, userID: Int64, username: String, changed: Int64), ChatError> {
        guard let row else { return .failure(.unavailable("no answer")) }
        guard let roomID = row.roomID else { return .failure(.roomNotFound(room)) }
        guard let userID = row.userID else { return .failure(.userNotFound(username)) }
        return .success((roomID, userID, row.username ?? username, row.changed))
    }

    /// A room from columns name, created_at, last_seq, visibility, owner.
    static func room(_ row: PostgresRow) -> Room {
        Room(name: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), lastSeq: row.int(2),
             visibility: RoomVisibility(rawValue: row.text(3)) ?? .private, owner: row.optionalText(4))
    }
}
