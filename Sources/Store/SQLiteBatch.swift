// One group-commit transaction's state: rooms touched (read once, updated once) and the messages it inserts.
import Chat

/// What a committed batch did to one room.
struct RoomAdvance: Sendable {
    let room: String
    let lastSeq: Int64
    let messages: [Message]            // ascending seq, ending at lastSeq
}

/// The writer's view of one open transaction. Per-batch work (room lookup, the rooms.last_seq update, the random
/// part of message ids) is done once per batch, not per post.
final class SQLiteBatch {
    private final class RoomState {
        let id: Int64
        let createdAt: Int64
        var lastSeq: Int64
        var lastCreatedAt: Int64 = .min       // the newest message's created_at (ms): a later post is never earlier
        var messages: [Message] = []
        init(id: Int64, createdAt: Int64, lastSeq: Int64) {
            self.id = id
            self.createdAt = createdAt
            self.lastSeq = lastSeq
        }
    }

    let db: SQLiteConnection
    private var rooms: [String: RoomState] = [:]
    private var order: [String] = []           // rooms in first-touched order, for stable notifications
    private let idRandom = UInt64.random(in: .min ... .max)
    private var idCounter: UInt64 = 0

    init(db: SQLiteConnection) { self.db = db }

    /// Commits a post: idempotency check, then seq = room's last seq + 1, all inside this transaction, so seq
    /// order is commit order and gap-free (../shared/API.md Messages).
    func post(_ request: PostRequest) throws -> Result<PostOutcome, ChatError> {
        guard let room = try room(request.room) else { return .failure(.roomNotFound(request.room)) }
        if let key = request.clientID {
            let found = try db.query(SQL.messageByClientID, [.int(room.id), .text(request.user), .text(key),
                                                              .int(request.replaySince.milliseconds)]) { row in
                Message(id: row.text(0), room: request.room, seq: row.int(1), user: request.user, text: row.text(2),
                        createdAt: Timestamp(milliseconds: row.int(3)), clientID: key)
            }
            if let original = found.first {
                return original.text.utf8.elementsEqual(request.text.utf8) ? .success(.replayed(original)) : .failure(.idempotencyKeyReused(key))
            }
        }
        // created_at never goes backwards within a room (issue 12): posts taken at once on several threads or
        // instances commit in seq order, not in the order their clocks were read.
        let createdAt = Timestamp(milliseconds: max(request.at.milliseconds, room.lastCreatedAt))
        room.lastCreatedAt = createdAt.milliseconds
        let message = Message(id: nextMessageID(request.at), room: request.room, seq: room.lastSeq + 1,
                              user: request.user, text: request.text, createdAt: createdAt, clientID: request.clientID)
        try db.run(SQL.insertMessage, [.int(room.id), .int(message.seq), .text(message.id), .text(message.user),
                                       .text(message.text), .int(message.createdAt.milliseconds),
                                       .optionalText(message.clientID)])
        room.lastSeq = message.seq
        room.messages.append(message)
        return .success(.created(message))
    }

    /// Writes each touched room's new last_seq (once per room per batch).
    func finish() throws {
        for name in order {
            guard let room = rooms[name], !room.messages.isEmpty else { continue }
            try db.run(SQL.setRoomLastSeq, [.int(room.lastSeq), .int(room.id)])
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
        guard let state = try db.query(SQL.roomByName, [.text(name)], row: { row in
            RoomState(id: row.int(0), createdAt: row.int(1), lastSeq: row.int(2))
        }).first else { return nil }
        if state.lastSeq > 0 {
            state.lastCreatedAt = try db.query(SQL.messageCreatedAt, [.int(state.id), .int(state.lastSeq)]) { $0.int(0) }.first ?? .min
        }
        rooms[name] = state
        order.append(name)
        return state
    }

    /// Time-ordered and unique: 12 hex digits of milliseconds, then 16 of (batch random + counter), written
    /// straight into the string's storage (this runs once per post on the writer thread).
    func nextMessageID(_ at: Timestamp) -> String {
        idCounter += 1
        let time = UInt64(max(0, at.milliseconds)), unique = idRandom &+ idCounter
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
