// Files (issue 15): what the store keeps about one, uploads in progress, and the errors files answer with.

/// A stored file as the API shows it, plus its uploader (for access checks; never shown).
public struct FileInfo: Sendable, Hashable {
    public var id: String                // opaque, unique on the server
    public var name: String              // as uploaded (may be empty)
    public var type: FileType            // from the bytes
    public var size: Int64               // bytes
    public var sha256: String            // lowercase hex of the content
    public var uploader: String          // username as registered
    public var createdAt: Timestamp
    public init(id: String, name: String, type: FileType, size: Int64, sha256: String, uploader: String,
                createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.type = type
        self.size = size
        self.sha256 = sha256
        self.uploader = uploader
        self.createdAt = createdAt
    }
}

/// Files are stored and read in chunks of this many bytes: chunk `i` holds bytes `i * chunkSize ..<` `(i + 1) *
/// chunkSize` (the last may be shorter). The same for every store, so a range maps to chunk indexes everywhere.
public enum FileChunks {
    public static let size = 256 * 1024
}

/// An upload in progress, as a store names it (opaque to everyone else).
public struct UploadID: Sendable, Hashable {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
}

/// What the uploader knows once every chunk is in: the store adds nothing but deduplication.
public struct NewFile: Sendable, Hashable {
    public var id: String
    public var name: String
    public var type: FileType
    public var size: Int64
    public var sha256: String
    public var uploader: String
    public var createdAt: Timestamp
    public init(id: String, name: String, type: FileType, size: Int64, sha256: String, uploader: String, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.type = type
        self.size = size
        self.sha256 = sha256
        self.uploader = uploader
        self.createdAt = createdAt
    }
}

extension ChatError {
    public static func fileNotFound(_ id: String) -> ChatError {
        ChatError(.notFound, "file_not_found", "no file '\(id)' that you can read")
    }
    public static func invalidFile(_ detail: String) -> ChatError {
        ChatError(.invalid, "invalid_file", detail)
    }
    public static func payloadTooLarge(_ limit: Int) -> ChatError {
        ChatError(.tooLarge, "payload_too_large", "a file may have at most \(limit) bytes")
    }
}
