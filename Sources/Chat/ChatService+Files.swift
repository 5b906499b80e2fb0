// Files (issue 15): uploads, THE file access rule, reading content by range, and files on posts.

extension ChatService {
    /// At most this many files on one message (../shared/API.md "Files and images").
    public static let maxFilesPerMessage = 10

    /// Starts an upload by `user` of a file called `name`: path separators and control characters are replaced, at
    /// most 255 characters are kept, and an empty name becomes one from the type (`FileType.defaultFileName`).
    /// Feed it with `append`, end it with `finish` or `abort`.
    public func upload(user: User, name: String, maxBytes: Int) -> FileUpload {
        let now = clock()
        let file = NewFile(id: Self.newFileID(), name: Self.cleanFileName(name), type: .octetStream, size: 0,
                           sha256: "", uploader: user.username, createdAt: now)
        return FileUpload(store: store, file: file, maxBytes: maxBytes)
    }

    /// THE file access rule: the uploader, and everyone a room admits (`RoomAccess.admits`, as for reading it)
    /// where some message carries the file. Everyone else — and any id of no file — gets file_not_found, so a
    /// file's existence is not revealed.
    public func openFile(user: User, id: String, completion: @escaping Completion<FileInfo>) {
        guard !id.isEmpty, id.utf8.count <= 64 else { return completion(.failure(.fileNotFound(id))) }
        store.file(id: id) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(nil): completion(.failure(.fileNotFound(id)))
            case .success(let file?):
                if Validation.usernameKey(file.uploader) == Validation.usernameKey(user.username) {
                    return completion(.success(file))
                }
                store.fileRooms(id: id) { [self] rooms in
                    switch rooms {
                    case .failure(let error): completion(.failure(error))
                    case .success(let rooms): admitsAny(user, rooms[...], file, completion)
                    }
                }
            }
        }
    }

    private func admitsAny(_ user: User, _ rooms: ArraySlice<String>, _ file: FileInfo, _ completion: @escaping Completion<FileInfo>) {
        guard let room = rooms.first else { return completion(.failure(.fileNotFound(file.id))) }
        store.roomAccess(room: room, username: user.username) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let access?) where access.admits: completion(.success(file))
            case .success: admitsAny(user, rooms.dropFirst(), file, completion)
            }
        }
    }

    /// Bytes `range` of a file already opened by `openFile`, read chunk by chunk (only the chunks the range
    /// touches). Errors: unavailable (also when a chunk is missing: the store lost data).
    public func readFile(_ file: FileInfo, range: Range<Int64>, completion: @escaping Completion<[UInt8]>) {
        var out: [UInt8] = []
        out.reserveCapacity(Int(range.count))
        readChunks(file, range, Int(range.lowerBound / Int64(FileChunks.size)), out, completion)
    }

    private func readChunks(_ file: FileInfo, _ range: Range<Int64>, _ index: Int, _ out: [UInt8],
                            _ completion: @escaping Completion<[UInt8]>) {
        let start = Int64(index) * Int64(FileChunks.size)
        guard start < range.upperBound else { return completion(.success(out)) }
        store.fileChunk(id: file.id, index: index) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(nil): completion(.failure(.unavailable("file \(file.id) lacks chunk \(index)")))
            case .success(let chunk?):
                let from = Int(max(0, range.lowerBound - start)), to = Int(min(Int64(chunk.count), range.upperBound - start))
                guard from <= to else { return completion(.failure(.unavailable("file \(file.id) chunk \(index) is short"))) }
                var out = out
                out.append(contentsOf: chunk[from..<to])
                readChunks(file, range, index + 1, out, completion)
            }
        }
    }

    /// 24 random bytes as 32 lowercase hex digits: unguessable, so ids cannot be enumerated.
    static func newFileID() -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<32).map { _ in digits[Int(rng.next() & 15)] }, as: UTF8.self)
    }

    /// A name safe to show and to put in Content-Disposition: no path, no control characters, ≤ 255 characters.
    static func cleanFileName(_ name: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in name.unicodeScalars {
            if s == "/" || s == "\\" { scalars.removeAll(); continue }   // keep the last path component
            scalars.append(s.value < 0x20 || s.value == 0x7F ? "_" : s)
        }
        return String(String.UnicodeScalarView(scalars.prefix(255)))
    }
}
