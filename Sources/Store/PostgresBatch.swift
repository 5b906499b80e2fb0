// One group-commit transaction on PostgreSQL: rooms locked once; messages, their files and feed events inserted at the end.
import Chat

/// The writer's view of one open transaction. Each room a post touches is locked (`SELECT … FOR UPDATE`) on
/// first use and held until COMMIT, so writers of that room on every instance take turns: the seq read under
/// the lock is the newest committed one, and the number given out is committed before the next writer reads it
/// (gap-free, commit order; a rollback gives the numbers back). The same lock orders idempotency checks: a
/// second instance racing on one client_id waits for the first to commit, then finds its message.
///
/// Feed events (posts, memberships) are collected as the jobs run and take their positions in `finish`, all at
/// once from the one `feed_position` counter, as the transaction's last statement before COMMIT (see
/// `PGSQL.appendEvents`): positions are in commit order across instances, and contiguous per transaction.
final class PostgresBatch {
    private final class RoomState {
        let id: Int64
        var lastSeq: Int64
        var lastCreatedAt: Int64              // the newest message's created_at (ms): a later post is never earlier
        var messages: [Message] = []
        init(id: Int64, lastSeq: Int64, lastCreatedAt: Int64) {
            self.id = id
            self.lastSeq = lastSeq
            self.lastCreatedAt = lastCreatedAt
        }
    }

    private struct PendingKey: Hashable {
        let roomID: Int64
        let user: String
        let clientID: String
    }

    let db: PostgresConnection
    private var rooms: [String: RoomState] = [:]
    private var order: [String] = []               // rooms in first-touched order, for stable notifications
    private var pending: [PendingKey: Message] = [:]   // this batch's posts with a client_id, not yet inserted
    private var prefetched: [PendingKey: Message?] = [:]  // looked up by `prepare`: the newest earlier message, or nil
    private let ids = MessageIDs()

    /// An event written by this transaction, waiting for its position.
    private struct PendingEvent {
        let type: String                           // message, joined, left
        let roomID: Int64
        let seq: Int64?                            // message events
        let userID: Int64?                         // joined/left
        let event: FeedEvent                       // as told to this process's followers (pos set in `finish`)
    }
    private var events: [PendingEvent] = []
    private(set) var feed: [FeedEvent] = []    // after `finish`: the events this transaction wrote, ascending pos

    init(db: PostgresConnection) { self.db = db }

    /// Queues a `joined`/`left` event for a membership change made in this transaction.
    func membershipEvent(_ type: String, roomID: Int64, room: String, userID: Int64, username: String, view: RoomView?) {
        events.append(PendingEvent(type: type, roomID: roomID, seq: nil, userID: userID,
                                   event: FeedEvent(pos: 0, room: room, kind: view.map(FeedEventKind.joined) ?? .left,
                                                    user: username)))
    }

    /// Before any job runs: locks the posts' rooms in code-point order (so two instances' batches over the same
    /// rooms cannot deadlock on them), then looks up every client_id of the batch in one statement. Under the
    /// room locks no other transaction can add a message to those rooms, so the answers hold until COMMIT.
    func prepare(_ posts: [PostRequest]) throws {
        let names = Set(posts.map(\.room)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names { _ = try room(name) }
        var keys: [PendingKey] = [], roomNames: [String] = [], since: [Int64] = []
        for post in posts {
            guard let clientID = post.clientID, let room = rooms[post.room] else { continue }
            let key = PendingKey(roomID: room.id, user: post.user, clientID: clientID)
            guard prefetched.updateValue(nil, forKey: key) == nil else { continue }
            keys.append(key)
            roomNames.append(post.room)
            since.append(post.replaySince.milliseconds)
        }
        if keys.isEmpty { return }
        try db.query(PGSQL.messagesByClientIDs, [
            .text(PostgresArray.literal(keys.map(\.roomID))), .text(PostgresArray.literal(keys.map { $0.user })),
            .text(PostgresArray.literal(keys.map { $0.clientID })), .text(PostgresArray.literal(since)),
        ]) { row in
            let index = Int(row.int(0)) - 1
            guard keys.indices.contains(index) else { return }
            let key = keys[index]
            prefetched[key] = Message(id: row.text(1), room: roomNames[index], seq: row.int(2), user: key.user,
                                      text: row.text(3), createdAt: Timestamp(milliseconds: row.int(4)),
                                      clientID: key.clientID, bot: row.bool(5), files: PostgresStore.files(row, 6))
        }
    }

    func post(_ request: PostRequest) throws -> Result<PostOutcome, ChatError> {
        guard let room = try room(request.room) else { return .failure(.roomNotFound(request.room)) }
        if let key = request.clientID {
            let pendingKey = PendingKey(roomID: room.id, user: request.user, clientID: key)
            var original = pending[pendingKey]
            if original == nil, let known = prefetched[pendingKey] {
                original = known.flatMap { $0.createdAt >= request.replaySince ? $0 : nil }
            } else if original == nil {
                original = try db.query(PGSQL.messageByClientID, [.int(room.id), .text(request.user), .text(key),
                                                                   .int(request.replaySince.milliseconds)]) { row in
                    Message(id: row.text(0), room: request.room, seq: row.int(1), user: request.user, text: row.text(2),
                            createdAt: Timestamp(milliseconds: row.int(3)), clientID: key, bot: row.bool(4), files: PostgresStore.files(row, 5))
                }.first
            }
            if let original {        // with the original's files, as stored (read with it)
                return original.text.utf8.elementsEqual(request.text.utf8) ? .success(.replayed(original))
                    : .failure(.idempotencyKeyReused(key))
            }
        }
        let files: [FileInfo]
        switch try attachments(request) {
        case .success(let found): files = found
        case .failure(let error): return .failure(error)
        }
        // created_at never goes backwards within a room (issue 12): posts taken at once on several threads or
        // instances commit in seq order, not in the order their clocks were read. `lastCreatedAt` was read under
        // the room's row lock, so it is the newest committed one on any instance.
        let createdAt = Timestamp(milliseconds: max(request.at.milliseconds, room.lastCreatedAt))
        room.lastCreatedAt = createdAt.milliseconds
        let message = Message(id: ids.next(request.at), room: request.room, seq: room.lastSeq + 1,
                              user: request.user, text: request.text, createdAt: createdAt, clientID: request.clientID,
                              bot: request.bot, files: files)
        room.lastSeq = message.seq
        room.messages.append(message)
        events.append(PendingEvent(type: "message", roomID: room.id, seq: message.seq, userID: nil,
                                   event: FeedEvent(pos: 0, room: request.room, kind: .message(message), user: nil)))
        if let key = message.clientID { pending[PendingKey(roomID: room.id, user: message.user, clientID: key)] = message }
        return .success(.created(message))
    }

    /// The files a post names, in its order, each uploaded by its author (one statement for all of them), as
    /// SQLiteBatch checks them: an unknown id or someone else's file is `invalid_file` and nothing is posted.
    private func attachments(_ request: PostRequest) throws -> Result<[FileInfo], ChatError> {
        if request.files.isEmpty { return .success([]) }
        var known: [String: FileInfo] = [:]
        try db.query(PGSQL.filesByIDs, [.text(PostgresArray.literal(request.files.map { Optional($0) }))]) { row in
            let file = PostgresStore.fileInfo(row)
            known[file.id] = file
        }
        var files: [FileInfo] = []
        for id in request.files {
            guard let file = known[id], Validation.usernameKey(file.uploader) == Validation.usernameKey(request.user) else {
                return .failure(.invalidFile("no file '\(id)' uploaded by you"))
            }
            files.append(file)
        }
        return .success(files)
    }

    /// Inserts the batch's messages (one statement) and their files (one more), moves each touched room's counter
    /// (queueing its NOTIFY), then — last, as the lock it takes is held to COMMIT — gives the batch's events their
    /// positions.
    func finish() throws {
        var roomIDs: [Int64] = [], seqs: [Int64] = [], createdAt: [Int64] = []
        var ids: [String?] = [], users: [String?] = [], texts: [String?] = [], clientIDs: [String?] = []
        var bots: [String?] = []
        for name in order {
            guard let room = rooms[name] else { continue }
            for m in room.messages {
                roomIDs.append(room.id); seqs.append(m.seq); createdAt.append(m.createdAt.milliseconds)
                ids.append(m.id); users.append(m.user); texts.append(m.text); clientIDs.append(m.clientID)
                bots.append(m.bot ? "t" : "f")
            }
        }
        if !roomIDs.isEmpty {
            try db.run(PGSQL.insertMessages, [
                .text(PostgresArray.literal(roomIDs)), .text(PostgresArray.literal(seqs)), .text(PostgresArray.literal(ids)),
                .text(PostgresArray.literal(users)), .text(PostgresArray.literal(texts)),
                .text(PostgresArray.literal(createdAt)), .text(PostgresArray.literal(clientIDs)),
                .text(PostgresArray.literal(bots)),
            ])
            try insertFiles()
            for name in order {
                guard let room = rooms[name], !room.messages.isEmpty else { continue }
                try db.query(PGSQL.advanceRoom, [.int(room.lastSeq), .int(room.id), .text(name),
                                                 .int(room.lastCreatedAt)]) { _ in () }
            }
        }
        try appendEvents()
    }

    /// The batch's attachments: the links and each message's `files` JSON, in one statement.
    private func insertFiles() throws {
        var fileRooms: [Int64] = [], fileSeqs: [Int64] = [], positions: [Int64] = [], fileIDs: [String?] = []
        var jsonRooms: [Int64] = [], jsonSeqs: [Int64] = [], json: [String?] = []
        for name in order {
            guard let room = rooms[name] else { continue }
            for m in room.messages where !m.files.isEmpty {
                for (position, file) in m.files.enumerated() {
                    fileRooms.append(room.id); fileSeqs.append(m.seq); positions.append(Int64(position)); fileIDs.append(file.id)
                }
                jsonRooms.append(room.id); jsonSeqs.append(m.seq); json.append(PostgresStore.filesJSON(m.files))
            }
        }
        if fileIDs.isEmpty { return }
        try db.run(PGSQL.insertMessageFiles, [
            .text(PostgresArray.literal(fileRooms)), .text(PostgresArray.literal(fileSeqs)),
            .text(PostgresArray.literal(positions)), .text(PostgresArray.literal(fileIDs)),
            .text(PostgresArray.literal(jsonRooms)), .text(PostgresArray.literal(jsonSeqs)), .text(PostgresArray.literal(json)),
        ])
    }

    /// One statement for all of the batch's events: n positions from the counter, the rows, the NOTIFY.
    private func appendEvents() throws {
        if events.isEmpty { return }
        let n = Int64(events.count)
        guard let last = try db.query(PGSQL.appendEvents, [
            .int(n), .text(PostgresArray.literal(events.map { Optional($0.type) })),
            .text(PostgresArray.literal(events.map(\.roomID))),
            .text(PostgresArray.literal(events.map { $0.seq.map(String.init) })),
            .text(PostgresArray.literal(events.map { $0.userID.map(String.init) })),
        ], row: { $0.int(0) }).first else { throw PostgresError(sqlState: "", message: "feed_position has no row") }
        feed = events.enumerated().map { i, pending in
            var event = pending.event
            event.pos = last - n + 1 + Int64(i)
            return event
        }
    }

    var advanced: [RoomAdvance] {
        order.compactMap { name in
            guard let room = rooms[name], !room.messages.isEmpty else { return nil }
            return RoomAdvance(room: name, lastSeq: room.lastSeq, messages: room.messages)
        }
    }

    private func room(_ name: String) throws -> RoomState? {
        if let known = rooms[name] { return known }
        guard let state = try db.query(PGSQL.lockRoom, [.text(name)], row: { row in
            RoomState(id: row.int(0), lastSeq: row.int(2), lastCreatedAt: row.isNull(3) ? .min : row.int(3))
        }).first else { return nil }
        rooms[name] = state
        order.append(name)
        return state
    }
}

/// Message ids as SQLiteBatch makes them: 12 hex digits of milliseconds, then 16 of (batch random + counter).
final class MessageIDs {
    private let random = UInt64.random(in: .min ... .max)
    private var counter: UInt64 = 0

    func next(_ at: Timestamp) -> String {
        counter += 1
        let time = UInt64(max(0, at.milliseconds)), unique = random &+ counter
        return String(unsafeUninitializedCapacity: 28) { out in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { digit in
                for i in 0..<12 { out[i] = digit[Int(time >> UInt64(4 * (11 - i)) & 0xF)] }
                for i in 0..<16 { out[12 + i] = digit[Int(unique >> UInt64(4 * (15 - i)) & 0xF)] }
            }
            return 28
        }
    }
}
