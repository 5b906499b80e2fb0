// Wake-ups across instances: LISTEN on a connection of its own; after a lost connection, re-check every room.
import Chat
import CPostgres
import Foundation
import Glibc
import Synchronization

/// Relays room advances to the store's handler: this process's commits at once from the writer (with their
/// messages), other instances' commits as NOTIFYs (PostgreSQL delivers them at COMMIT, in commit order, to every
/// connected listener) without messages.
///
/// A NOTIFY sent while the listener is disconnected is lost for good (PostgreSQL docs, NOTIFY), so after every
/// (re)connect — LISTEN first, then read — the listener reads every room's last_seq and reports each one that
/// moved past what it knew: a waiter parked before the outage is answered, nothing stays asleep.
///
/// The feed the same way: this process's commits from the writer with their events, other instances' as NOTIFY
/// `konnect_feed` (the newest position) without them, and after every REconnect the newest position is read and
/// reported once whatever it is, so every held feed re-reads: none sleeps past a notification lost meanwhile.
final class PostgresListener: @unchecked Sendable {
    private struct State: ~Copyable {
        var handler: RoomAdvancedHandler?
        var known: [String: Int64] = [:]      // newest seq reported per room
        var stopped = false
        var connected = false
    }

    private let state = Mutex(State())
    let feed = FeedReporter()
    private let conninfo: String
    private let ownPID: @Sendable () -> Int32
    private let tokenRevoked: @Sendable ([UInt8]) -> Void
    private let membersChanged: @Sendable () -> Void
    private let reconnected: @Sendable () -> Void
    static let retryDelays: [Double] = [0.05, 0.1, 0.2, 0.5, 1]

    /// - Parameters:
    ///   - ownPID: the writer connection's backend PID; its room NOTIFYs were already reported by `committed`.
    ///   - tokenRevoked: a logout anywhere (the token's hash).
    ///   - membersChanged: a membership or room change anywhere (this instance's too).
    ///   - reconnected: after each (re)connect, before rooms are re-read: logouts meanwhile were not heard.
    init(conninfo: String, ownPID: @escaping @Sendable () -> Int32, tokenRevoked: @escaping @Sendable ([UInt8]) -> Void,
         membersChanged: @escaping @Sendable () -> Void = {}, reconnected: @escaping @Sendable () -> Void) {
        self.conninfo = conninfo
        self.ownPID = ownPID
        self.tokenRevoked = tokenRevoked
        self.membersChanged = membersChanged
        self.reconnected = reconnected
    }

    func setHandler(_ handler: @escaping RoomAdvancedHandler) {
        state.withLock { $0.handler = handler }
    }

    var isConnected: Bool { state.withLock { $0.connected } }

    /// Connects and reads the current seqs (so the first wait needs no catching up), then listens on a thread.
    /// A first connection that fails is retried on the thread.
    func start() {
        let first = try? listen()
        let thread = Thread { [self] in run(first) }
        thread.name = "konnect.pg-listener"
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// From the writer, after COMMIT.
    func committed(_ advance: RoomAdvance) {
        let handler = state.withLock { s -> RoomAdvancedHandler? in
            s.known[advance.room] = max(s.known[advance.room] ?? 0, advance.lastSeq)
            return s.handler
        }
        handler?(advance.room, advance.lastSeq, advance.messages)
    }

    /// A connection that LISTENs, after which every room is re-read.
    private func listen() throws -> PostgresConnection {
        let db = try PostgresConnection(conninfo: conninfo, applicationName: "konnect-listener")
        try db.execute("""
            LISTEN \(PGSQL.channel); LISTEN \(PGSQL.tokenChannel); LISTEN \(PGSQL.membersChannel); \
            LISTEN \(PGSQL.feedChannel)
            """)
        reconnected()
        let rows = try db.query(PGSQL.roomLastSeqs, []) { ($0.text(0), $0.int(1)) }
        let newest = try db.query(PGSQL.newestPos, []) { $0.int(0) }.first ?? 0
        state.withLock { $0.connected = true }
        report(rows)
        feed.observed(newest, always: true)
        return db
    }

    private func run(_ first: PostgresConnection?) {
        var db = first
        var failures = 0
        while !state.withLock({ $0.stopped }) {
            guard let conn = db else {
                Thread.sleep(forTimeInterval: Self.retryDelays[min(failures, Self.retryDelays.count - 1)])
                failures += 1
                db = try? listen()
                continue
            }
            failures = 0
            if !waitForNotifications(conn) {
                state.withLock { $0.connected = false }
                db = nil
            }
        }
    }

    /// Waits up to 0.5 s for the socket, then reports what arrived. False when the connection broke.
    private func waitForNotifications(_ db: PostgresConnection) -> Bool {
        var fds = pollfd(fd: PQsocket(db.handle), events: Int16(POLLIN), revents: 0)
        guard fds.fd >= 0 else { return false }
        let ready = poll(&fds, 1, 500)
        if ready < 0 { return errno == EINTR }
        if ready == 0 { return true }
        guard PQconsumeInput(db.handle) == 1 else { return false }
        var rows: [(String, Int64)] = []
        var newest: Int64?
        let own = ownPID()
        while let notify = PQnotifies(db.handle) {
            defer { PQfreemem(notify) }
            guard let extra = notify.pointee.extra, let channel = notify.pointee.relname else { continue }
            let payload = String(cString: extra)
            let name = String(cString: channel)
            if name == PGSQL.membersChannel {
                membersChanged()
                continue
            }
            if name == PGSQL.tokenChannel {
                if let hash = Self.bytes(hex: payload) { tokenRevoked(hash) }
                continue
            }
            guard notify.pointee.be_pid != own else { continue }
            if name == PGSQL.feedChannel {
                if let pos = Int64(payload) { newest = max(newest ?? pos, pos) }
                continue
            }
            guard let space = payload.firstIndex(of: " "), let seq = Int64(payload[..<space]) else { continue }
            rows.append((String(payload[payload.index(after: space)...]), seq))
        }
        report(rows)
        if let newest { feed.observed(newest) }
        return !db.isBroken
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Reports each room whose seq moved past what was known.
    private func report(_ rows: [(String, Int64)]) {
        let (handler, moved) = state.withLock { s -> (RoomAdvancedHandler?, [(String, Int64)]) in
            var moved: [(String, Int64)] = []
            for (room, lastSeq) in rows where lastSeq > (s.known[room] ?? 0) {
                s.known[room] = lastSeq
                moved.append((room, lastSeq))
            }
            return (s.handler, moved)
        }
        guard let handler else { return }
        for (room, lastSeq) in moved { handler(room, lastSeq, nil) }
    }
}
