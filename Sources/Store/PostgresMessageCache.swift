// Messages already read, by room and seq: a history page asks PostgreSQL only for access, last_seq and the rest.
import Chat
import Synchronization

/// Why a cache of messages cannot make a page stale (issue 11): a stored message never changes — no route edits or
/// deletes one, a deleted bot's messages stay as written, and a message's files are fixed when it is posted — and
/// only committed messages are ever read, so a (room id, seq) names the same message forever. What does change —
/// whether the caller may read the room, its `last_seq`, whether there are newer messages — is still read from the
/// database by every page, in the same statement that reads the messages not held here (`PGSQL.windowNewest` …).
/// Nothing here decides access: a page is built only after that statement admitted the caller, so a user who lost
/// access gets 404 however much of the room is held. Rooms are keyed by name and checked by id, so a room dropped
/// and made again under the same name (not possible through the API) never mixes in the old room's messages.
///
/// Bounded by the bytes of the messages held (`maxBytes`); past it everything is dropped (cheap, rare).
final class PostgresMessageCache: Sendable {
    static let maxBytes = 32 << 20

    /// What a page may skip: the held messages of seqs `lo...hi` (ascending, contiguous) of room `roomID`.
    struct Held: Sendable {
        let roomID: Int64
        let lo: Int64
        let hi: Int64
        let messages: [Message]
        static let none = Held(roomID: 0, lo: 1, hi: 0, messages: [])
    }

    private struct Room {
        var id: Int64
        var messages: [Int64: Message] = [:]
        var top: Int64 = 0                          // the highest seq held
    }

    private struct State: ~Copyable {
        var rooms: [String: Room] = [:]
        var bytes = 0                               // estimated bytes of every message held
    }

    private let state = Mutex(State())

    /// The seqs a page of `cursor` and `limit` reads, when the room has at least that many: for `.newest` the
    /// newest `limit + 1` the cache knows of (a newer message is read anyway: it is above what is skipped).
    func expectedWindow(room: String, cursor: HistoryCursor, limit: Int) -> ClosedRange<Int64>? {
        let span = Int64(limit)
        switch cursor {
        case .after(let a): return (a + 1)...(a + span + 1)
        case .before(let b):
            guard b > 1 else { return nil }
            return max(1, b - span - 1)...(b - 1)
        case .newest:
            guard let top = state.withLock({ $0.rooms[room]?.top }), top >= 1 else { return nil }
            return max(1, top - span)...top
        }
    }

    /// The longest run of held seqs inside `window`, with its messages; `.none` when nothing is held there.
    func held(room: String, window: ClosedRange<Int64>?) -> Held {
        guard let window else { return .none }
        return state.withLock { s -> Held in
            guard let r = s.rooms[room] else { return .none }
            var best: (lo: Int64, hi: Int64)?
            var runStart: Int64?
            for seq in window {
                if r.messages[seq] != nil {
                    if runStart == nil { runStart = seq }
                    if let start = runStart, best == nil || seq - start > best!.hi - best!.lo { best = (start, seq) }
                } else {
                    runStart = nil
                }
            }
            guard let best else { return .none }
            return Held(roomID: r.id, lo: best.lo, hi: best.hi, messages: (best.lo...best.hi).map { r.messages[$0]! })
        }
    }

    /// Keeps `messages` (read from committed rows of room `roomID`).
    func remember(room: String, roomID: Int64, _ messages: [Message]) {
        guard !messages.isEmpty else { return }
        state.withLock { s in
            if s.rooms[room]?.id != roomID {
                if let old = s.rooms[room] { s.bytes -= old.messages.values.reduce(0) { $0 + Self.size($1) } }
                s.rooms[room] = Room(id: roomID)
            }
            for m in messages {
                if s.rooms[room]!.messages.updateValue(m, forKey: m.seq) == nil { s.bytes += Self.size(m) }
                if m.seq > s.rooms[room]!.top { s.rooms[room]!.top = m.seq }
            }
            if s.bytes > Self.maxBytes {
                s.rooms.removeAll()
                s.bytes = 0
            }
        }
    }

    /// Forgets one room (a page that did not add up: never expected, see `PostgresStore.windowPage`).
    func forget(room: String) {
        state.withLock { s in
            if let old = s.rooms.removeValue(forKey: room) { s.bytes -= old.messages.values.reduce(0) { $0 + Self.size($1) } }
        }
    }

    var heldCount: Int { state.withLock { s in s.rooms.values.reduce(0) { $0 + $1.messages.count } } }

    private static func size(_ m: Message) -> Int {
        96 + m.id.utf8.count + m.user.utf8.count + m.text.utf8.count + (m.clientID?.utf8.count ?? 0) + m.files.count * 160
    }
}
