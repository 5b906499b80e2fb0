// PostgresStore: files (issue 15) — staged uploads in bytea chunks on a writer of their own, dedup by sha256.
import Chat
import Foundation

/// Uploads are written by `fileWriter`, a second group-commit writer with its own connection: a batch of 20
/// uploads' chunks is 5 MiB of WAL, and posts (on `writer`) must not wait behind it. Chunks go over the wire as
/// binary bytea parameters and come back as binary results (`PostgresConnection.bytes`): no hex either way.
///
/// What an upload costs in memory here: `FileUpload` holds the chunk being filled and at most one more queued
/// (a streamed body is paused until the store has room, `whenRoom`), and the chunk being written is copied once
/// into libpq's parameter buffer and once into its output buffer on the file writer's thread while it is sent —
/// so about 3 × 256 KiB per upload in flight, plus up to 2 × 256 KiB for the one chunk on the wire; a slow or
/// stalled uploader holds its filling chunk only. Downloads read one chunk (256 KiB) per reader round trip.
/// An upload abandoned mid-way (the uploader vanished, the instance died) leaves a staged content row and its
/// chunks; `beginUpload` drops every upload staged more than an hour before, on any instance's behalf.
extension PostgresStore {
    static let staleUploadAge: Int64 = 3_600_000

    public func beginUpload(at: Timestamp, completion: @escaping StoreCompletion<UploadID>) {
        writeFile(completion) { db in
            try db.run(PGSQL.deleteStaleStaged, [.int(at.milliseconds - Self.staleUploadAge)])
            guard let id = try db.query(PGSQL.insertStagedContent, [.int(at.milliseconds)], row: { $0.int(0) }).first
            else { return .failure(.unavailable("no upload id")) }
            return .success(UploadID(id))
        }
    }

    public func appendUpload(_ upload: UploadID, index: Int, bytes: [UInt8], completion: @escaping StoreCompletion<Void>) {
        writeFile(completion) { db in
            let changed = try db.run(PGSQL.insertChunk, [.int(upload.value), .int(Int64(index)), .bytea(bytes)])
            return changed == 1 ? .success(()) : .failure(.invalidFile("no upload \(upload.value) in progress"))
        }
    }

    /// Two instances finishing the same bytes at once end with one content: the sha256's advisory lock makes the
    /// second wait for the first's COMMIT, and its lookup (a new snapshot) then finds the sealed content.
    public func finishUpload(_ upload: UploadID, file: NewFile, completion: @escaping StoreCompletion<FileInfo>) {
        writeFile(completion) { db in
            guard try !db.query(PGSQL.lockStaged, [.int(upload.value)], row: { $0.int(0) }).isEmpty else {
                return .failure(.invalidFile("no upload \(upload.value) in progress"))
            }
            try db.query(PGSQL.lockSHA, [.text(file.sha256)]) { _ in () }
            let contentID: Int64
            if let existing = try db.query(PGSQL.contentBySHA, [.text(file.sha256)], row: { $0.int(0) }).first {
                contentID = existing                         // dedup: the staged copy goes
                try db.run(PGSQL.deleteStaged, [.int(upload.value)])
            } else {
                contentID = upload.value
                try db.run(PGSQL.sealContent, [.text(file.sha256), .int(file.size), .int(upload.value)])
            }
            let changed = try db.run(PGSQL.insertFile, [
                .text(file.id), .int(contentID), .text(file.name), .text(file.type.mediaType),
                .optionalText(file.type.width.map { String($0) }), .optionalText(file.type.height.map { String($0) }),
                .int(file.createdAt.milliseconds), .text(Validation.usernameKey(file.uploader))])
            guard changed == 1 else { return .failure(.userNotFound(file.uploader)) }
            return .success(FileInfo(id: file.id, name: file.name, type: file.type, size: file.size, sha256: file.sha256,
                                     uploader: file.uploader, createdAt: file.createdAt))
        }
    }

    public func abortUpload(_ upload: UploadID, completion: @escaping StoreCompletion<Void>) {
        writeFile(completion) { db in
            try db.run(PGSQL.deleteStaged, [.int(upload.value)])
            return .success(())
        }
    }

    public func file(id: String, completion: @escaping StoreCompletion<FileInfo?>) {
        read(completion) { db in .success(try db.query(PGSQL.fileByID, [.text(id)]) { Self.fileInfo($0) }.first) }
    }

    public func fileChunk(id: String, index: Int, completion: @escaping StoreCompletion<[UInt8]?>) {
        let key = PostgresChunkCache.Key(file: id, index: index)
        if let held = chunkCache.chunk(key) { return completion(.success(held)) }
        read(completion) { [chunkCache] db in
            let chunk = try db.bytes(PGSQL.fileChunk, [.text(id), .int(Int64(index))])
            if let chunk { chunkCache.remember(chunk, for: key) }
            return .success(chunk)
        }
    }

    public func fileRooms(id: String, completion: @escaping StoreCompletion<[String]>) {
        read(completion) { db in .success(try db.query(PGSQL.fileRooms, [.text(id)]) { $0.text(0) }) }
    }

    /// Queues a file write for the file writer's next group commit; `completion` runs after COMMIT.
    func writeFile<T: Sendable>(_ completion: @escaping StoreCompletion<T>,
                                _ body: @escaping @Sendable (PostgresConnection) throws -> Result<T, ChatError>) {
        fileWriter.submit(PostgresWriteJob(post: nil, apply: { batch in
            let result = try body(batch.db)
            return { completion(result) }
        }, fail: { error in
            completion(.failure(.unavailable("\(error)")))
        }))
    }

    /// A file from columns id, name, type, width, height, size, sha256, uploader, created_at (`PGSQL.fileByID`).
    static func fileInfo(_ row: PostgresRow) -> FileInfo {
        let width = row.isNull(3) ? nil : Int(row.int(3)), height = row.isNull(4) ? nil : Int(row.int(4))
        return FileInfo(id: row.text(0), name: row.text(1), type: FileType(mediaType: row.text(2), width: width, height: height),
                        size: row.int(5), sha256: row.text(6), uploader: row.text(7),
                        createdAt: Timestamp(milliseconds: row.int(8)))
    }

    /// `messages.files` for a message's files: a JSON array of [id, name, type, width, height, size, sha256,
    /// uploader, created_at] arrays in position order (`files(_:_:)` reads it back).
    static func filesJSON(_ files: [FileInfo]) -> String {
        // Foundation's writer, as `files(_:_:)` reads with Foundation's reader: no escaping of our own here.
        let rows: [[Any]] = files.map { f in
            [f.id, f.name, f.type.mediaType, f.type.width.map { $0 as Any } ?? NSNull(), f.type.height.map { $0 as Any } ?? NSNull(),
             f.size, f.sha256, f.uploader, f.createdAt.milliseconds]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: rows) else { return "[]" }   // strings and numbers only
        return String(decoding: data, as: UTF8.self)
    }

    /// A message's files from `messages.files` (NULL: none), as `filesJSON` wrote them.
    static func files(_ row: PostgresRow, _ column: Int32) -> [FileInfo] {
        guard !row.isNull(column), let json = try? JSONSerialization.jsonObject(with: Data(row.text(column).utf8)),
              let list = json as? [[Any]] else { return [] }
        func int(_ value: Any) -> Int64? { (value as? NSNumber)?.int64Value }
        return list.compactMap { f -> FileInfo? in
            guard f.count == 9, let id = f[0] as? String, let name = f[1] as? String, let type = f[2] as? String,
                  let size = int(f[5]), let sha256 = f[6] as? String, let uploader = f[7] as? String,
                  let createdAt = int(f[8]) else { return nil }
            return FileInfo(id: id, name: name,
                            type: FileType(mediaType: type, width: int(f[3]).map { Int($0) }, height: int(f[4]).map { Int($0) }),
                            size: size, sha256: sha256, uploader: uploader, createdAt: Timestamp(milliseconds: createdAt))
        }
    }
}
