// SQLiteStore: files (issue 15) — staged uploads in chunks through the writer, dedup by sha256, chunked reads.
import Chat

extension SQLiteStore {
    public func beginUpload(at: Timestamp, completion: @escaping StoreCompletion<UploadID>) {
        write(completion) { batch in
            try batch.db.run(SQL.insertStagedContent, [.int(at.milliseconds)])
            return .success(UploadID(batch.db.lastInsertRowID))
        }
    }

    public func appendUpload(_ upload: UploadID, index: Int, bytes: [UInt8], completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            guard try Self.isStaged(batch, upload) else { return .failure(.invalidFile("no upload \(upload.value) in progress")) }
            try batch.db.run(SQL.insertChunk, [.int(upload.value), .int(Int64(index)), .blob(bytes)])
            return .success(())
        }
    }

    public func finishUpload(_ upload: UploadID, file: NewFile, completion: @escaping StoreCompletion<FileInfo>) {
        write(completion) { batch in
            guard try Self.isStaged(batch, upload) else { return .failure(.invalidFile("no upload \(upload.value) in progress")) }
            let contentID: Int64
            if let existing = try batch.db.query(SQL.contentBySHA, [.text(file.sha256)], row: { $0.int(0) }).first {
                contentID = existing                         // dedup: the staged copy goes
                try batch.db.run(SQL.deleteChunks, [.int(upload.value)])
                try batch.db.run(SQL.deleteContent, [.int(upload.value)])
            } else {
                contentID = upload.value
                try batch.db.run(SQL.sealContent, [.text(file.sha256), .int(file.size), .int(upload.value)])
            }
            let changed = try batch.db.run(SQL.insertFile, [
                .text(file.id), .int(contentID), .text(file.name), .text(file.type.mediaType),
                file.type.width.map { .int(Int64($0)) } ?? .null, file.type.height.map { .int(Int64($0)) } ?? .null,
                .int(file.createdAt.milliseconds), .text(Validation.usernameKey(file.uploader))])
            guard changed == 1 else { return .failure(.userNotFound(file.uploader)) }
            return .success(FileInfo(id: file.id, name: file.name, type: file.type, size: file.size, sha256: file.sha256,
                                     uploader: file.uploader, createdAt: file.createdAt))
        }
    }

    public func abortUpload(_ upload: UploadID, completion: @escaping StoreCompletion<Void>) {
        write(completion) { batch in
            if try Self.isStaged(batch, upload) {
                try batch.db.run(SQL.deleteChunks, [.int(upload.value)])
                try batch.db.run(SQL.deleteContent, [.int(upload.value)])
            }
            return .success(())
        }
    }

    public func file(id: String, completion: @escaping StoreCompletion<FileInfo?>) {
        read(completion) { db in .success(try db.query(SQL.fileByID, [.text(id)]) { Self.fileInfo($0, from: 0) }.first) }
    }

    public func fileChunk(id: String, index: Int, completion: @escaping StoreCompletion<[UInt8]?>) {
        read(completion) { db in .success(try db.query(SQL.fileChunk, [.text(id), .int(Int64(index))]) { $0.blob(0) }.first) }
    }

    public func fileRooms(id: String, completion: @escaping StoreCompletion<[String]>) {
        read(completion) { db in .success(try db.query(SQL.fileRooms, [.text(id)]) { $0.text(0) }) }
    }

    /// Drops uploads staged before `before` (their uploader vanished mid-upload); inside a write job.
    static func dropStaleUploads(_ batch: SQLiteBatch, before: Timestamp) throws {
        for id in try batch.db.query(SQL.staleStaged, [.int(before.milliseconds)], row: { $0.int(0) }) {
            try batch.db.run(SQL.deleteChunks, [.int(id)])
            try batch.db.run(SQL.deleteContent, [.int(id)])
        }
    }

    static func isStaged(_ batch: SQLiteBatch, _ upload: UploadID) throws -> Bool {
        try batch.db.query(SQL.stagedContent, [.int(upload.value)]) { $0.int(0) }.first != nil
    }

    /// A file from columns id, name, type, width, height, size, sha256, uploader, created_at starting at `from`.
    static func fileInfo(_ row: SQLiteStatement, from c: Int32) -> FileInfo {
        let width = row.optionalInt(c + 3), height = row.optionalInt(c + 4)
        let type = FileType(mediaType: row.text(c + 2), width: width.map { Int($0) }, height: height.map { Int($0) })
        return FileInfo(id: row.text(c), name: row.text(c + 1), type: type, size: row.int(c + 5),
                        sha256: row.text(c + 6), uploader: row.text(c + 7), createdAt: Timestamp(milliseconds: row.int(c + 8)))
    }
}
