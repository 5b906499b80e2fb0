// SQLiteStore: rooms v2 — listing for a user, creating (owned, direct), access through the reader cache, members.
import Chat

extension SQLiteStore {
    public func rooms(username: String, after: String?, limit: Int, completion: @escaping StoreCompletion<RoomList>) {
        read(completion) { db in
            var views = try db.query(SQL.roomsFor, [.text(Validation.usernameKey(username)), .text(after ?? ""),
                                                    .int(Int64(limit) + 1)]) { row in
                RoomView(room: Self.room(row), joined: row.int(5) != 0)
            }
            let hasMore = views.count > limit
            if hasMore { views.removeLast() }
            return .success(RoomList(rooms: views, hasMore: hasMore))
        }
    }

    public func createRoom(name: String, visibility: RoomVisibility, owner: String, at: Timestamp,
                           completion: @escaping StoreCompletion<Room>) {
        write(completion) { batch in
            let key = Validation.usernameKey(owner)
            let changed = try batch.db.run(SQL.insertRoomOwned, [.text(name), .int(at.milliseconds),
                                                                 .text(visibility.rawValue), .text(key)])
            guard changed == 1 else {
                let exists = try batch.db.query(SQL.roomID, [.text(name)]) { $0.int(0) }.first != nil
                return .failure(exists ? .roomExists(name) : .userNotFound(owner))
            }
            guard case .success(let (roomID, userID)) = try Self.ids(batch, room: name, username: owner) else {
                return .failure(.userNotFound(owner))
            }
            try batch.db.run(SQL.insertMember, [.int(roomID), .int(userID)])
            return .success(Room(name: name, createdAt: at, lastSeq: 0, visibility: visibility, owner: owner))
        }
    }

    public func openDirectRoom(name: String, usernames: [String], requester: String, at: Timestamp,
                               completion: @escaping StoreCompletion<RoomAccess>) {
        write(completion) { batch in
            var userIDs: [Int64] = []
            for username in usernames {
                guard let id = try batch.db.query(SQL.userID, [.text(Validation.usernameKey(username))],
                                                  row: { $0.int(0) }).first else { return .failure(.userNotFound(username)) }
                userIDs.append(id)
            }
            try batch.db.run(SQL.insertDirectRoom, [.text(name), .int(at.milliseconds)])
            guard let roomID = try batch.db.query(SQL.roomID, [.text(name)], row: { $0.int(0) }).first else {
                return .failure(.roomNotFound(name))
            }
            for id in userIDs { try batch.db.run(SQL.insertMember, [.int(roomID), .int(id)]) }
            return .success(RoomAccess(room: name, visibility: .direct, owner: nil, isMember: true))
        }
    }

    /// From the reader's cache while the `members` generation is unchanged (see `SQLiteReader`).
    public func roomAccess(room: String, username: String, completion: @escaping StoreCompletion<RoomAccess?>) {
        cachedRead(completion) { reader in
            try reader.revalidate()
            return .success(try Self.access(reader, room: room, username: username))
        }
    }

    /// `username`'s access to `room` from `reader` (revalidated by the caller), through its cache.
    static func access(_ reader: SQLiteReader, room: String, username: String) throws -> RoomAccess? {
        let key = SQLiteReader.AccessKey(room: room, username: username)
        if let hit = reader.access(key) { return hit }
        let found = try reader.db.query(SQL.roomAccess, [.text(room), .text(Validation.usernameKey(username))]) { row in
            RoomAccess(room: row.text(0), visibility: RoomVisibility(rawValue: row.text(3)) ?? .private,
                       owner: row.optionalText(4), isMember: row.int(5) != 0)
        }.first
        reader.remember(found, for: key)
        return found
    }

    public func roomDetail(room: String, username: String, completion: @escaping StoreCompletion<RoomDetail?>) {
        read(completion) { db in
            try db.run(SQL.beginRead, [])
            defer { _ = try? db.run(SQL.commit, []) }
            guard let view = try db.query(SQL.roomAccess, [.text(room), .text(Validation.usernameKey(username))], row: {
                RoomView(room: Self.room($0), joined: $0.int(5) != 0)
            }).first else { return .success(nil) }
            let members = try db.query(SQL.roomMembers, [.text(room)]) { $0.text(0) }
            return .success(RoomDetail(view: view, members: members))
        }
    }

    public func addMember(room: String, username: String, completion: @escaping StoreCompletion<MembershipChange>) {
        write(completion) { batch in
            switch try Self.ids(batch, room: room, username: username) {
            case .failure(let error): return .failure(error)
            case .success(let (roomID, userID)):
                return .success(try batch.db.run(SQL.insertMember, [.int(roomID), .int(userID)]) == 1 ? .added : .alreadyMember)
            }
        }
    }

    public func removeMember(room: String, username: String, completion: @escaping StoreCompletion<Bool>) {
        write(completion) { batch in
            switch try Self.ids(batch, room: room, username: username) {
            case .failure(let error): return .failure(error)
            case .success(let (roomID, userID)):
                return .success(try batch.db.run(SQL.deleteMember, [.int(roomID), .int(userID)]) == 1)
            }
        }
    }

    private static func ids(_ batch: SQLiteBatch, room: String, username: String) throws -> Result<(Int64, Int64), ChatError> {
        guard let roomID = try batch.db.query(SQL.roomID, [.text(room)], row: { $0.int(0) }).first else {
            return .failure(.roomNotFound(room))
        }
        guard let userID = try batch.db.query(SQL.userID, [.text(Validation.usernameKey(username))],
                                              row: { $0.int(0) }).first else { return .failure(.userNotFound(username)) }
        return .success((roomID, userID))
    }

    /// A room from columns name, created_at, last_seq, visibility, owner.
    static func room(_ row: SQLiteStatement) -> Room {
        Room(name: row.text(0), createdAt: Timestamp(milliseconds: row.int(1)), lastSeq: row.int(2),
             visibility: RoomVisibility(rawValue: row.text(3)) ?? .private, owner: row.optionalText(4))
    }
}
