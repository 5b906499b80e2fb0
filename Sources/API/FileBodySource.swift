// A download's body (issue 15): read from the store chunk by chunk, one chunk ahead of the connection.
import Chat
import HTTP
import Synchronization

/// A download's body, read from the store one chunk at a time as the connection sends (a download never holds
/// the whole file). While the connection sends a chunk, the next one is already being read: the store's round
/// trip (a PostgreSQL reader, most of all) overlaps the socket instead of following it. A download holds at most
/// two chunks (512 KiB): the one being sent and the one read ahead. The engine calls `next` once at a time; the
/// read-ahead completes on a store thread, hence the lock.
final class FileBodySource: ResponseBodySource, Sendable {
    let chat: ChatService
    let file: FileInfo
    let range: Range<Int64>
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var offset: Int64                                   // the first byte not yet asked of the store
        var reading = false                                 // a read-ahead is in flight or its bytes wait in `ready`
        var ready: [UInt8]?? = nil                          // the read-ahead's bytes (.some(nil): it failed)
        var waiter: (@Sendable ([UInt8]?) -> Void)? = nil   // `next` asked before the read-ahead finished
    }

    init(chat: ChatService, file: FileInfo, range: Range<Int64>) {
        self.chat = chat
        self.file = file
        self.range = range
        self.state = Mutex(State(offset: range.lowerBound))
    }

    var length: Int { Int(range.count) }

    func next(_ completion: @escaping @Sendable ([UInt8]?) -> Void) {
        enum Step { case deliver([UInt8]?), wait, read(Range<Int64>) }
        let step = state.withLock { s -> Step in
            if s.reading {
                guard let ready = s.ready else { s.waiter = completion; return .wait }
                s.ready = nil
                s.reading = false
                return .deliver(ready)
            }
            return .read(Self.piece(&s, range))
        }
        switch step {
        case .wait: return
        case .deliver(let bytes):
            if bytes != nil { readAhead() }
            completion(bytes)
        case .read(let piece):
            read(piece, completion)
            readAhead()
        }
    }

    /// The next piece to read, up to the next chunk boundary; moves `offset` past it (empty at the end).
    private static func piece(_ s: inout State, _ range: Range<Int64>) -> Range<Int64> {
        let chunk = Int64(FileChunks.size)
        let end = min(range.upperBound, (s.offset / chunk + 1) * chunk)
        let piece = s.offset..<max(s.offset, end)
        s.offset = piece.upperBound
        return piece
    }

    private func readAhead() {
        let piece = state.withLock { s -> Range<Int64>? in
            guard !s.reading, s.offset < range.upperBound else { return nil }
            s.reading = true
            return Self.piece(&s, range)
        }
        guard let piece else { return }
        read(piece) { [self] bytes in
            let waiter = state.withLock { s -> (@Sendable ([UInt8]?) -> Void)? in
                guard let waiter = s.waiter else { s.ready = .some(bytes); return nil }
                s.waiter = nil
                s.reading = false
                return waiter
            }
            guard let waiter else { return }
            if bytes != nil { readAhead() }
            waiter(bytes)
        }
    }

    private func read(_ piece: Range<Int64>, _ completion: @escaping @Sendable ([UInt8]?) -> Void) {
        chat.readFile(file, range: piece) { [file] result in
            switch result {
            case .success(let bytes): completion(bytes)
            case .failure(let error):
                ErrorLog.write("\(error.code): \(error.cause ?? error.detail) (download of \(file.id) cut short)")
                completion(nil)
            }
        }
    }
}
