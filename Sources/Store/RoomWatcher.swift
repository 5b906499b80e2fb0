// Tells ChatService when a room's newest seq moved: at once for this process's commits, by polling for others'.
import Chat
import Dispatch
import Synchronization

/// Relays room advances to the store's handler. Local commits arrive from the writer with their messages;
/// commits by other processes sharing the file are noticed by polling `PRAGMA data_version` (cheap: no I/O
/// unless something changed) and reported without messages.
final class RoomWatcher: @unchecked Sendable {
    static let pollInterval: DispatchTimeInterval = .milliseconds(200)

    private struct State: ~Copyable {
        var handler: RoomAdvancedHandler?
        var known: [String: Int64] = [:]      // newest seq reported per room
    }

    private let state = Mutex(State())
    let feed = FeedReporter()
    private let reader: SQLiteConnection      // used only on `queue`
    private let queue = DispatchQueue(label: "konnect.sqlite-watcher")
    private var timer: DispatchSourceTimer?
    private var dataVersion: Int64 = -1       // only on `queue`

    init(reader: SQLiteConnection) {
        self.reader = reader
    }

    func setHandler(_ handler: @escaping RoomAdvancedHandler) {
        state.withLock { $0.handler = handler }
    }

    func start() {
        queue.sync { poll() }                 // learn the current seqs before anyone waits
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + Self.pollInterval, repeating: Self.pollInterval, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.poll() }
        timer.resume()
        self.timer = timer
    }

    func stop() {
        timer?.cancel()                       // a poll in flight holds the watcher (and its connection) alive
    }

    /// From the writer, after COMMIT.
    func committed(_ advance: RoomAdvance) {
        let handler = state.withLock { s -> RoomAdvancedHandler? in
            s.known[advance.room] = max(s.known[advance.room] ?? 0, advance.lastSeq)
            return s.handler
        }
        handler?(advance.room, advance.lastSeq, advance.messages)
    }

    private func poll() {
        guard let version = try? reader.query(SQL.dataVersion, [], row: { $0.int(0) }).first,
              version != dataVersion else { return }
        dataVersion = version
        guard let rows = try? reader.query(SQL.roomLastSeqs, [], row: { ($0.text(0), $0.int(1)) }) else { return }
        let (handler, moved) = state.withLock { s -> (RoomAdvancedHandler?, [(String, Int64)]) in
            var moved: [(String, Int64)] = []
            for (room, lastSeq) in rows where lastSeq > (s.known[room] ?? 0) {
                s.known[room] = lastSeq
                moved.append((room, lastSeq))
            }
            return (s.handler, moved)
        }
        if let handler { for (room, lastSeq) in moved { handler(room, lastSeq, nil) } }
        // The feed: another process's commit moved the newest position (this process's own were told at once).
        if let newest = try? reader.query(SQL.newestPos, [], row: { $0.int(0) }).first { feed.observed(newest) }
    }
}
