// Store-independent test bodies for files (issue 15): chunked round trips, ranges, dedup, types, access, posts.
@testable import Chat
import CCrypto
import XCTest

extension StoreContract {
    func storeFile(_ chat: ChatService, _ user: User, _ bytes: [UInt8], name: String = "f.bin", pieces: Int = 3,
                   maxBytes: Int = 1 << 24) -> Result<FileInfo, ChatError> {
        let upload = chat.upload(user: user, name: name, maxBytes: maxBytes)
        let step = max(1, bytes.count / pieces + 1)
        var at = 0
        while at < bytes.count {
            XCTAssertTrue(upload.append(bytes[at..<min(bytes.count, at + step)]))
            at += step
        }
        return outcome { upload.finish(completion: $0) }
    }

    func readFile(_ chat: ChatService, _ file: FileInfo, _ range: Range<Int64>) -> Result<[UInt8], ChatError> {
        outcome { chat.readFile(file, range: range, completion: $0) }
    }

    func openFile(_ chat: ChatService, _ user: User, _ id: String) -> Result<FileInfo, ChatError> {
        outcome { chat.openFile(user: user, id: id, completion: $0) }
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Random binary over several chunks: stored, described and read back byte for byte, whole and by ranges at
    /// chunk edges; the same bytes again share the content; an empty file; the store's chunk reads directly.
    func filesRoundTrip() throws {
        let chat = try service()
        let alice = try register(chat, "alice")
        var bytes = (0..<(FileChunks.size * 2 + 1234)).map { _ in UInt8.random(in: 0...255) }
        bytes[0..<256] = ArraySlice((0...255).map(UInt8.init))           // every byte value, NULs first
        let file = try value(storeFile(chat, alice, bytes, name: "dir/../rand.bin", pieces: 7))
        XCTAssertEqual(file.size, Int64(bytes.count))
        XCTAssertEqual(file.sha256, Self.sha256Hex(bytes))
        XCTAssertEqual(file.name, "rand.bin")
        XCTAssertEqual(file.type, .octetStream)
        XCTAssertEqual(file.uploader, "alice")
        XCTAssertEqual(file.id.utf8.count, 32)
        XCTAssertEqual(try value(outcome { chat.store.file(id: file.id, completion: $0) }), file)
        XCTAssertEqual(try value(readFile(chat, file, 0..<file.size)), bytes)
        let n = Int64(bytes.count), c = Int64(FileChunks.size)
        for (lo, hi) in [(0, 1), (c - 1, c + 1), (c, c), (c, 2 * c), (2 * c - 1, n), (n - 1, n), (5, 2 * c + 7)] {
            XCTAssertEqual(try value(readFile(chat, file, lo..<hi)), Array(bytes[Int(lo)..<Int(hi)]), "\(lo)..<\(hi)")
        }
        XCTAssertEqual(try value(outcome { chat.store.fileChunk(id: file.id, index: 2, completion: $0) }),
                       Array(bytes[Int(2 * c)...]))
        XCTAssertNil(try value(outcome { chat.store.fileChunk(id: file.id, index: 3, completion: $0) }))
        XCTAssertNil(try value(outcome { chat.store.file(id: "nope", completion: $0) }))
        // The same content again: a second file (own id and name), the same sha256 and bytes.
        let again = try value(storeFile(chat, alice, bytes, name: "copy.bin", pieces: 1))
        XCTAssertNotEqual(again.id, file.id)
        XCTAssertEqual(again.sha256, file.sha256)
        XCTAssertEqual(try value(readFile(chat, again, 0..<again.size)), bytes)
        // Empty.
        let empty = try value(storeFile(chat, alice, [], name: ""))
        XCTAssertEqual(empty.size, 0)
        XCTAssertEqual(empty.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(try value(readFile(chat, empty, 0..<0)), [])
    }

    /// Types come from the bytes; an upload past its limit refuses the bytes; an aborted upload leaves no file.
    func fileTypesAndLimits() throws {
        let chat = try service()
        let alice = try register(chat, "alice")
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
            + [0, 0, 2, 0, 0, 0, 1, 0x80, 8, 6, 0, 0, 0] + Array(repeating: 0, count: 100)
        let image = try value(storeFile(chat, alice, png, name: "cat.png"))
        XCTAssertEqual(image.type, FileType(mediaType: "image/png", width: 512, height: 384))
        let truncated = try value(storeFile(chat, alice, Array(png.prefix(20)), name: "cut.png"))
        XCTAssertEqual(truncated.type, .octetStream)
        // No name (or only a path): named by the type, so a download still has a filename.
        XCTAssertEqual(try value(storeFile(chat, alice, png, name: "")).name, "image.png")
        XCTAssertEqual(try value(storeFile(chat, alice, Array("x".utf8), name: "some/dir/")).name, "file")
        XCTAssertEqual(try value(storeFile(chat, alice, Array("x".utf8), name: "some/dir/notes.txt")).name, "notes.txt")
        let upload = chat.upload(user: alice, name: "big", maxBytes: 10)
        XCTAssertTrue(upload.append([UInt8](repeating: 1, count: 10)))
        XCTAssertFalse(upload.append([2]))
        upload.abort()
        XCTAssertEqual(code(outcome { upload.finish(completion: $0) }), "invalid_file")
        XCTAssertEqual(upload.size, 10)
    }

    /// Access: the uploader; whoever a room admits where a message carries the file; nobody else (404 alike
    /// for unknown ids), and a removed member no longer. Posting: only one's own files, at most 10, text may be
    /// empty then; histories carry the files in order.
    func fileAccessAndPosts() throws {
        let chat = try service()
        let alice = try register(chat, "alice"), bob = try register(chat, "bob"), carol = try register(chat, "carol")
        let a = try value(storeFile(chat, alice, Array("secret".utf8), name: "a.txt"))
        let b = try value(storeFile(chat, alice, Array("public".utf8), name: "b.txt"))
        XCTAssertEqual(try value(openFile(chat, alice, a.id)), a)
        XCTAssertEqual(code(openFile(chat, bob, a.id)), "file_not_found")
        XCTAssertEqual(code(openFile(chat, bob, "0123456789abcdef0123456789abcdef")), "file_not_found")
        _ = try value(create(chat, alice, "secret-room", "private"))
        _ = try value(add(chat, alice, "secret-room", "bob"))
        // Someone else's file, too many files, an unknown id: invalid_file, nothing posted.
        XCTAssertEqual(code(outcome { chat.post(user: bob, room: "secret-room", text: "x", clientID: nil, files: [a.id], completion: $0) }), "invalid_file")
        XCTAssertEqual(code(outcome { chat.post(user: alice, room: "secret-room", text: "x", clientID: nil,
                                                files: Array(repeating: a.id, count: 11), completion: $0) }), "invalid_file")
        XCTAssertEqual(code(outcome { chat.post(user: alice, room: "secret-room", text: nil, clientID: nil, files: ["zz"], completion: $0) }), "invalid_file")
        XCTAssertEqual(code(outcome { chat.post(user: alice, room: "secret-room", text: "", clientID: nil, completion: $0) }), "empty_text")
        let posted = try value(outcome { chat.post(user: alice, room: "secret-room", text: nil, clientID: nil, files: [a.id, b.id], completion: $0) })
        guard case .created(let message) = posted else { return XCTFail("\(posted)") }
        XCTAssertEqual(message.text, "")
        XCTAssertEqual(message.files.map(\.id), [a.id, b.id])
        XCTAssertEqual(try value(read(chat, bob, "secret-room")).messages.last?.files, [a, b])
        XCTAssertEqual(try value(openFile(chat, bob, a.id)), a)           // a member
        XCTAssertEqual(code(openFile(chat, carol, a.id)), "file_not_found")  // not a member
        _ = try value(remove(chat, alice, "secret-room", "bob"))
        XCTAssertEqual(code(openFile(chat, bob, a.id)), "file_not_found")  // removed: no longer
        _ = try value(outcome { chat.post(user: alice, room: "general", text: "look", clientID: nil, files: [b.id], completion: $0) })
        XCTAssertEqual(try value(openFile(chat, carol, b.id)), b)          // public room: every signed-in user
        XCTAssertEqual(code(openFile(chat, carol, a.id)), "file_not_found")
        // An idempotent retry answers the original with its files.
        let first = try value(outcome { chat.post(user: alice, room: "general", text: "again", clientID: "k-files", files: [b.id], completion: $0) })
        let retry = try value(outcome { chat.post(user: alice, room: "general", text: "again", clientID: "k-files", files: [b.id], completion: $0) })
        guard case .created(let m1) = first, case .replayed(let m2) = retry else { return XCTFail("\(first) \(retry)") }
        XCTAssertEqual(m2, m1)
        XCTAssertEqual(m2.files, [b])
        let plain = try value(post(chat, carol, "no files"))
        if case .created(let m) = plain { XCTAssertEqual(m.files, []) }
    }

    /// The feed's message events carry their files as history does (a bot following `/events` sees attachments),
    /// in order, for several rooms in one page.
    func feedCarriesFiles() throws {
        let chat = try service()
        let alice = try register(chat, "alice"), bob = try register(chat, "bob")
        let a = try value(storeFile(chat, alice, Array("one".utf8), name: "a.txt"))
        let b = try value(storeFile(chat, alice, Array("two".utf8), name: "b.txt"))
        _ = try value(create(chat, alice, "side"))
        _ = try value(add(chat, bob, "side", "bob"))                          // joins the public room
        _ = try value(outcome { chat.post(user: alice, room: "general", text: "both", clientID: nil, files: [a.id, b.id], completion: $0) })
        _ = try value(post(chat, alice, "plain", room: "side"))
        _ = try value(outcome { chat.post(user: alice, room: "side", text: nil, clientID: nil, files: [b.id], completion: $0) })
        let messages = try value(outcome { chat.feed(user: bob, after: 0, limit: 100, completion: $0) }).events.compactMap { event -> Message? in
            if case .message(let m) = event.kind { return m }
            return nil
        }
        XCTAssertEqual(messages.map(\.text), ["both", "plain", ""])
        XCTAssertEqual(messages.map { $0.files.map(\.id) }, [[a.id, b.id], [], [b.id]])
        XCTAssertEqual(messages.first?.files, [a, b])
    }
}
