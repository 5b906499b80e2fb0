// What PostgresStore does not implement yet (issue 11): files are stored by SQLiteStore only.
// Each answers at once, honestly: 503 `unavailable` with a detail that says so and no Retry-After (retrying will
// not help), never a silent success. A post that names files is refused, so no attachment is ever dropped.
import Chat

extension ChatError {
    static func notOnPostgres(_ feature: String) -> ChatError {
        ChatError(.unavailable, "unavailable", "\(feature) are not available on this server's PostgreSQL store yet")
    }
}

extension PostgresStore {
    // MARK: files
    public func beginUpload(at: Timestamp, completion: @escaping StoreCompletion<UploadID>) {
        completion(.failure(.notOnPostgres("files")))
    }
    public func appendUpload(_ upload: UploadID, index: Int, bytes: [UInt8], completion: @escaping StoreCompletion<Void>) {
        completion(.failure(.notOnPostgres("files")))
    }
    public func finishUpload(_ upload: UploadID, file: NewFile, completion: @escaping StoreCompletion<FileInfo>) {
        completion(.failure(.notOnPostgres("files")))
    }
    public func abortUpload(_ upload: UploadID, completion: @escaping StoreCompletion<Void>) { completion(.success(())) }
    public func file(id: String, completion: @escaping StoreCompletion<FileInfo?>) { completion(.success(nil)) }
    public func fileChunk(id: String, index: Int, completion: @escaping StoreCompletion<[UInt8]?>) { completion(.success(nil)) }
    public func fileRooms(id: String, completion: @escaping StoreCompletion<[String]>) { completion(.success([])) }
}
