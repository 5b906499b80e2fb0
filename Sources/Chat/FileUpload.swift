// One upload on its way to the store (issue 15): bytes in, SHA-256 and type on the fly, chunks written one by one.
import CCrypto
import Synchronization

/// Feeds a file to the store in `FileChunks.size` chunks, one store write at a time, while hashing it and sniffing
/// its type from the first chunk. Holds at most the chunk being filled plus the chunks waiting for the store
/// (with a body delivered whole, that is the rest of the body; see README "Files"). Thread-safe; `append` and
/// `finish` must be called in order by one caller. Exactly one of `finish`'s completion or `abort` ends it.
public final class FileUpload: @unchecked Sendable {
    typealias Finish = @Sendable (Result<FileInfo, ChatError>) -> Void
    struct State {
        var upload: UploadID?              // the store's staging area, once begun
        var filling: [UInt8] = []          // the chunk being filled (< FileChunks.size bytes)
        var queued: [[UInt8]] = []         // full chunks not yet handed to the store
        var writing = false                // a store write (begin or append) is in flight
        var nextIndex = 0                  // index of the next chunk handed to the store
        var size: Int64 = 0                // bytes appended
        var type: FileType? = nil          // sniffed from the first chunk (or the whole file when shorter)
        var failure: ChatError? = nil      // the first store error: every later call answers it
        var finishing: (NewFile, Finish)? = nil   // set by `finish`: written once every chunk is in
        var done = false                   // finished or aborted: nothing more is taken
        var onRoom: (@Sendable () -> Void)? = nil   // `whenRoom`'s callback, run once the backlog is small again
    }

    let store: Store
    let file: NewFile                      // id, name, uploader, created_at; size, sha256, type filled at the end
    public let maxBytes: Int
    private let state = Mutex(State())
    private let digest: OpaquePointer      // EVP_MD_CTX, touched only by `append`/`finish` (one caller, in order)

    init(store: Store, file: NewFile, maxBytes: Int) {
        self.store = store
        self.file = file
        self.maxBytes = maxBytes
        digest = EVP_MD_CTX_new()
        EVP_DigestInit_ex(digest, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(digest) }

    public var size: Int64 { state.withLock { $0.size } }

    /// Back-pressure for a streamed body: chunks waiting for the store beyond the one in flight.
    public var backlog: Int { state.withLock { $0.queued.count } }

    /// Runs `callback` (on any thread) once at most one chunk waits for the store — at once when that is so now,
    /// or when the upload fails or is aborted. One callback at a time.
    public func whenRoom(_ callback: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.queued.count <= 1 || s.failure != nil || (s.done && s.finishing == nil) { return true }
            s.onRoom = callback
            return false
        }
        if now { callback() }
    }

    /// Takes the next bytes of the file. False (and nothing taken) when they would make it larger than `maxBytes`.
    @discardableResult
    public func append(_ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        let ok = state.withLock { s -> Bool in
            guard !s.done, s.size + Int64(bytes.count) <= Int64(maxBytes) else { return false }
            s.size += Int64(bytes.count)
            var offset = 0
            while offset < bytes.count {
                let n = Swift.min(FileChunks.size - s.filling.count, bytes.count - offset)
                s.filling.append(contentsOf: bytes[offset..<offset + n])
                offset += n
                if s.filling.count == FileChunks.size {
                    if s.type == nil { s.type = FileType.sniff(s.filling) }
                    s.queued.append(s.filling)
                    s.filling = []
                    s.filling.reserveCapacity(FileChunks.size)
                }
            }
            return true
        }
        guard ok else { return false }
        bytes.withUnsafeBytes { _ = EVP_DigestUpdate(digest, $0.baseAddress, $0.count) }
        pump()
        return true
    }

    /// All bytes are in: writes what remains, then makes it a file (deduplicated by sha256) and answers it.
    public func finish(completion: @escaping @Sendable (Result<FileInfo, ChatError>) -> Void) {
        var hash = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(digest, &hash, &length)
        let hexDigits = Array("0123456789abcdef".utf8)
        let hex = String(decoding: hash.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 15)]] }, as: UTF8.self)
        let failure = state.withLock { s -> ChatError? in
            if let failure = s.failure { return failure }
            guard !s.done else { return .invalidFile("the upload was aborted") }
            if s.type == nil { s.type = FileType.sniff(s.filling) }
            if !s.filling.isEmpty { s.queued.append(s.filling) }
            s.filling = []
            s.done = true
            let type = s.type ?? .octetStream
            s.finishing = (NewFile(id: file.id, name: file.name.isEmpty ? type.defaultFileName : file.name, type: type, size: s.size,
                                   sha256: hex, uploader: file.uploader, createdAt: file.createdAt), completion)
            return nil
        }
        if let failure { return completion(.failure(failure)) }
        pump()
    }

    /// Gives up: staged chunks are discarded (now, or once the write in flight is done).
    public func abort() {
        let upload = state.withLock { s -> UploadID? in
            guard !s.done else { return nil }
            s.done = true
            s.queued = []
            s.filling = []
            return s.writing ? nil : s.upload
        }
        if let upload { store.abortUpload(upload) { _ in } }
    }

    /// Starts the next store write when none is in flight: begin, then each queued chunk, then the finish.
    private func pump() {
        enum Step { case none, begin, append(UploadID, Int, [UInt8]), finish(UploadID, NewFile, Finish), abort(UploadID) }
        let step = state.withLock { s -> Step in
            guard !s.writing, s.failure == nil else { return .none }
            guard let upload = s.upload else {
                if s.done && s.finishing == nil { return .none }   // aborted before anything was staged
                s.writing = true
                return .begin
            }
            if !s.queued.isEmpty {
                s.writing = true
                let chunk = s.queued.removeFirst()
                s.nextIndex += 1
                return .append(upload, s.nextIndex - 1, chunk)
            }
            if let (file, completion) = s.finishing {
                s.finishing = nil
                return .finish(upload, file, completion)
            }
            return s.done ? .abort(upload) : .none
        }
        switch step {
        case .none: return
        case .begin:
            store.beginUpload(at: file.createdAt) { [self] result in
                written(result.map { upload in state.withLock { $0.upload = upload } })
            }
        case .append(let upload, let index, let chunk):
            store.appendUpload(upload, index: index, bytes: chunk) { [self] result in written(result) }
        case .finish(let upload, let file, let completion):
            store.finishUpload(upload, file: file, completion: completion)
        case .abort(let upload):
            store.abortUpload(upload) { _ in }
        }
    }

    /// A begin or append completed: on to the next step, or fail the finish waiting for it.
    private func written(_ result: Result<Void, ChatError>) {
        guard case .failure(let error) = result else {
            let room = state.withLock { s -> (@Sendable () -> Void)? in
                s.writing = false
                guard s.queued.count <= 1, let f = s.onRoom else { return nil }
                s.onRoom = nil
                return f
            }
            pump()
            room?()
            return
        }
        let (finishing, upload, room) = state.withLock { s -> (Finish?, UploadID?, (@Sendable () -> Void)?) in
            s.writing = false
            if s.failure == nil { s.failure = error }
            s.done = true
            s.queued = []
            let f = s.finishing?.1
            s.finishing = nil
            let room = s.onRoom
            s.onRoom = nil
            return (f, s.upload, room)
        }
        room?()
        if let upload { store.abortUpload(upload) { _ in } }
        finishing?(.failure(error))
    }
}
