// POST /files, GET /files/{id} and files on POST /messages over real sockets (../shared/API.md "Files and images").
@testable import Chat
import Foundation
import Glibc
import HTTP
@testable import Store
import Synchronization
import XCTest

final class FileRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws {
        stack = try TestStack(maxFileBytes: 1 << 20)
    }
    override func tearDown() { stack?.stop() }   // nil when setUp skipped

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        + [0, 0, 0, 64, 0, 0, 0, 48, 8, 6, 0, 0, 0, 1, 2, 3, 4] + Array(repeating: 0, count: 64)

    /// Random bytes holding every byte value, NULs and CRLF--boundary look-alikes.
    static func randomBinary(_ count: Int) -> [UInt8] {
        var bytes = (0..<count).map { _ in UInt8.random(in: 0...255) }
        bytes[0..<256] = ArraySlice((0...255).map(UInt8.init))
        bytes[300..<310] = ArraySlice(Array("\r\n--BOUND\r".utf8))
        return bytes
    }

    static func multipart(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])], boundary: String = "BOUNDARYxyz") -> [UInt8] {
        var out: [UInt8] = []
        for p in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
            if let f = p.filename { head += "; filename=\"\(f)\"" }
            if let t = p.type { head += "\r\nContent-Type: \(t)" }
            out += Array((head + "\r\n\r\n").utf8) + p.body + Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }
    static let multipartType = "multipart/form-data; boundary=BOUNDARYxyz"

    func upload(_ c: APIClient, _ bytes: [UInt8], name: String = "data.bin", type: String = "application/octet-stream") throws -> [String: Any] {
        let r = try c.post("/files?name=\(formEncode(name))", type: type, body: bytes)
        XCTAssertEqual(r.status, 201, r.text)
        return r.json["file"] as? [String: Any] ?? [:]
    }

    func testRawAndMultipartRoundTripsWithRanges() throws {
        let alice = try stack.user("alice")
        let bytes = Self.randomBinary(300_000)
        let raw = try upload(alice, bytes, name: "rand om.bin", type: "image/png")    // a lying Content-Type
        XCTAssertEqual(raw["type"] as? String, "application/octet-stream")
        XCTAssertEqual(raw["size"] as? Int, bytes.count)
        XCTAssertEqual(raw["name"] as? String, "rand om.bin")
        XCTAssertTrue(raw["width"] is NSNull)
        XCTAssertEqual((raw["sha256"] as? String)?.count, 64)
        let form = try alice.post("/files", type: Self.multipartType,
                                  body: Self.multipart([("note", nil, nil, Array("ignored".utf8)), ("file", "b.bin", "text/plain", bytes)]))
        XCTAssertEqual(form.status, 201, form.text)
        let viaForm = form.json["file"] as? [String: Any] ?? [:]
        XCTAssertEqual(viaForm["sha256"] as? String, raw["sha256"] as? String)
        XCTAssertEqual(viaForm["name"] as? String, "b.bin")
        for file in [raw, viaForm] {
            let id = file["id"] as! String
            let whole = try alice.get("/files/\(id)")
            XCTAssertEqual(whole.status, 200)
            XCTAssertEqual(whole.body, bytes)
            XCTAssertEqual(whole.headers["Content-Type"], "application/octet-stream")
            XCTAssertEqual(whole.headers["ETag"], "\"\(file["sha256"] as! String)\"")
            XCTAssertEqual(whole.headers["X-Content-Type-Options"], "nosniff")
            XCTAssertEqual(whole.headers["Content-Security-Policy"], "sandbox")
            XCTAssertTrue(whole.headers["Content-Disposition"]?.hasPrefix("attachment; filename=") ?? false)
            let n = bytes.count
            let cases: [(String, Int, Int)] = [("bytes=0-0", 0, 0), ("bytes=0-", 0, n - 1), ("bytes=-1", n - 1, n - 1),
                                               ("bytes=262143-262144", 262_143, 262_144), ("bytes=\(n - 1)-\(n + 50)", n - 1, n - 1),
                                               ("bytes=-\(n + 5)", 0, n - 1), ("bytes=5-9", 5, 9)]
            for (range, lo, hi) in cases {
                let r = try alice.get("/files/\(id)", headers: [("Range", range)])
                XCTAssertEqual(r.status, 206, range)
                XCTAssertEqual(r.body, Array(bytes[lo...hi]), range)
                XCTAssertEqual(r.headers["Content-Range"], "bytes \(lo)-\(hi)/\(n)", range)
            }
            for range in ["bytes=\(n)-", "bytes=-0", "bytes=\(n + 10)-\(n + 20)"] {
                let r = try alice.get("/files/\(id)", headers: [("Range", range)])
                XCTAssertProblem(r, 416, "range_not_satisfiable")
                XCTAssertEqual(r.headers["Content-Range"], "bytes */\(n)", range)
            }
            for ignored in ["bytes=0-1,5-6", "items=0-1", "bytes=9-3", "bytes=x-"] {
                let r = try alice.get("/files/\(id)", headers: [("Range", ignored)])
                XCTAssertEqual(r.status, 200, ignored)
                XCTAssertEqual(r.body.count, n, ignored)
            }
            let head = try alice.send("HEAD", "/files/\(id)", headers: [("Range", "bytes=10-19")])
            XCTAssertEqual(head.status, 206)
            XCTAssertEqual(head.headers["Content-Length"], "10")
            let stale = try alice.get("/files/\(id)", headers: [("Range", "bytes=0-0"), ("If-Range", "\"other\"")])
            XCTAssertEqual(stale.status, 200)
            XCTAssertEqual(try alice.get("/files/\(id)", headers: [("If-None-Match", whole.headers["ETag"]!)]).status, 304)
        }
    }

    /// A download of several chunks streams with one chunk read ahead: every byte in order, whole and from a
    /// range that starts and ends inside chunks, with several downloads at once (the read-ahead finishing before
    /// and after the connection asks for it).
    func testStreamedDownloadsReadAheadInOrder() throws {
        let alice = try stack.user("alice")
        let bytes = Self.randomBinary(1_000_000)                     // 4 chunks of 256 KiB, the last one short
        let id = try upload(alice, bytes, name: "four.bin")["id"] as! String
        let failures = Mutex<[String]>([])
        let (stack, token) = (self.stack!, alice.token)
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            do {
                let client = stack.client()
                client.token = token
                let (lo, hi) = i % 2 == 0 ? (0, bytes.count - 1) : (100_000 + i, 900_000 - i)
                let r = try client.get("/files/\(id)", headers: i % 2 == 0 ? [] : [("Range", "bytes=\(lo)-\(hi)")])
                if r.body != Array(bytes[lo...hi]) { failures.withLock { $0.append("download \(i): \(r.status), \(r.body.count) bytes") } }
            } catch {
                failures.withLock { $0.append("download \(i): \(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
    }

    func testImagesTruncatedPNGAndNames() throws {
        let alice = try stack.user("alice")
        let image = try upload(alice, Self.png, name: "cät \"1\".png", type: "text/plain")
        XCTAssertEqual(image["type"] as? String, "image/png")
        XCTAssertEqual(image["width"] as? Int, 64)
        XCTAssertEqual(image["height"] as? Int, 48)
        let r = try alice.get("/files/\(image["id"] as! String)")
        XCTAssertEqual(r.headers["Content-Type"], "image/png")
        XCTAssertEqual(r.headers["Content-Disposition"], "inline; filename=\"c_t _1_.png\"; filename*=UTF-8''c%C3%A4t%20%221%22.png")
        let truncated = try upload(alice, Array(Self.png.prefix(22)), name: "cut.png", type: "image/png")
        XCTAssertEqual(truncated["type"] as? String, "application/octet-stream")
        XCTAssertTrue(truncated["height"] is NSNull)
        // RFC 5987 filename* in a multipart upload.
        let body = Array("--B\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E7%8C%AB.png\r\n\r\n".utf8) + Self.png
            + Array("\r\n--B--\r\n".utf8)
        let f = try alice.post("/files", type: "multipart/form-data; boundary=B", body: body)
        XCTAssertEqual(f.status, 201, f.text)
        XCTAssertEqual((f.json["file"] as? [String: Any])?["name"] as? String, "猫.png")
    }

    func testBadUploads() throws {
        let alice = try stack.user("alice")
        XCTAssertProblem(try stack.client().post("/files", type: "application/octet-stream", body: [1, 2]), 401, "unauthorized")
        XCTAssertProblem(try alice.post("/files", type: Self.multipartType, body: Array("--BOUNDARYxyz\r\nno".utf8)), 400, "invalid_multipart")
        XCTAssertProblem(try alice.post("/files", type: Self.multipartType, body: Self.multipart([("text", nil, nil, [1])])), 400, "invalid_file")
        XCTAssertProblem(try alice.get("/files/0123456789abcdef0123456789abcdef"), 404, "file_not_found")
        XCTAssertProblem(try alice.get("/files/x"), 404, "file_not_found")
        // No body at all (no Content-Length, no chunking) is an empty file, answered at once (schemathesis: it hung).
        let empty = try alice.send("POST", "/files?name=empty.txt")
        XCTAssertEqual(empty.status, 201, empty.text)
        XCTAssertEqual((empty.json["file"] as? [String: Any])?["size"] as? Int, 0)
        // No name, or an empty one: named by its type.
        for path in ["/files", "/files?name="] {
            let unnamed = try alice.post(path, type: "application/octet-stream", body: Self.png)
            XCTAssertEqual((unnamed.json["file"] as? [String: Any])?["name"] as? String, "image.png", path)
        }
        // Over the limit inside a multipart body (the body itself within the route's limit).
        let over = Self.multipart([("file", "big", nil, [UInt8](repeating: 7, count: (1 << 20) + 1))])
        XCTAssertProblem(try alice.post("/files", type: Self.multipartType, body: over), 413, "payload_too_large")
    }

    /// 413 at the head for a Content-Length past the limit: answered before the body, then the connection closes.
    func testTooLargeIsRefusedBeforeTheBodyAndCloses() throws {
        let alice = try stack.user("alice")
        let declared = (1 << 20) + 64 * 1024 + 1
        let head = "POST /files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(alice.token!)\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(declared)\r\n\r\n"
        let answer = try RawConnection.exchange(port: stack.port, Array(head.utf8) + [UInt8](repeating: 1, count: 1000))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)
        XCTAssertTrue(answer.contains("payload_too_large"), answer)
        XCTAssertTrue(answer.contains("a file may have at most \(1 << 20) bytes"), answer)   // the file limit, not the route's
        XCTAssertTrue(answer.lowercased().contains("connection: close"), answer)   // and exchange returned: closed
        // Just past the file limit, declared: refused at the head too, with the same words.
        let justOver = head.replacingOccurrences(of: "\(declared)", with: "\((1 << 20) + 1)")
        let early = try RawConnection.exchange(port: stack.port, Array(justOver.utf8))
        XCTAssertTrue(early.hasPrefix("HTTP/1.1 413") && early.contains("a file may have at most"), early)
        // A raw body within the route's limit but past the file limit: 413 from the handler.
        XCTAssertProblem(try alice.post("/files", type: "application/octet-stream", body: [UInt8](repeating: 0, count: (1 << 20) + 1)),
                         413, "payload_too_large")
        // A non-multipart POST /messages keeps the 64 KiB limit.
        XCTAssertProblem(try alice.post("/messages", type: "text/plain", body: [UInt8](repeating: 0x61, count: 64 * 1024 + 1)),
                         413, "payload_too_large")
    }

    func testMessagesCarryFiles() throws {
        let alice = try stack.user("alice"), bob = try stack.user("bob")
        let a = try upload(alice, Array("one".utf8), name: "1.txt"), b = try upload(alice, Self.png, name: "2.png")
        let ida = a["id"] as! String, idb = b["id"] as! String
        // JSON list; text may be empty.
        let r = try alice.post("/messages", json: ["files": [ida, idb], "text": ""])
        XCTAssertEqual(r.status, 201, r.text)
        let files = (r.json["message"] as? [String: Any])?["files"] as? [[String: Any]] ?? []
        XCTAssertEqual(files.map { $0["id"] as? String }, [ida, idb])
        XCTAssertEqual(files.last?["width"] as? Int, 64)
        // Repeated form fields.
        let f = try alice.post("/messages", form: "text=two&file=\(idb)&file=\(ida)")
        XCTAssertEqual(f.status, 201, f.text)
        XCTAssertEqual(((f.json["message"] as? [String: Any])?["files"] as? [[String: Any]])?.map { $0["id"] as? String }, [idb, ida])
        // History carries them; a plain message has an empty list.
        _ = try bob.say("plain")
        let h = try bob.get("/messages").messages
        XCTAssertEqual(h.map { ($0["files"] as? [Any])?.count }, [2, 2, 0])
        // Bob may read them now (general is public); not his to post.
        XCTAssertEqual(try bob.get("/files/\(ida)").body, Array("one".utf8))
        XCTAssertProblem(try bob.post("/messages", json: ["files": [ida], "text": "mine?"]), 400, "invalid_file")
        XCTAssertProblem(try alice.post("/messages", json: ["files": Array(repeating: ida, count: 11), "text": "x"]), 400, "invalid_file")
        XCTAssertProblem(try alice.post("/messages", json: ["files": "notalist", "text": "x"]), 400, "invalid_file")
        XCTAssertProblem(try alice.post("/messages", json: ["files": [1], "text": "x"]), 400, "invalid_file")
        XCTAssertProblem(try alice.post("/messages", json: ["text": ""]), 400, "empty_text")
    }

    /// The one-step form: text and file parts upload and post at once; the bytes come back byte for byte.
    func testOneStepMultipartPost() throws {
        let alice = try stack.user("alice")
        _ = try alice.post("/rooms", json: ["name": "pics"])
        let bytes = Self.randomBinary(70_000)
        let body = Self.multipart([("file", "r.bin", "application/octet-stream", bytes), ("text", nil, nil, Array("look".utf8)),
                                   ("room", nil, nil, Array("pics".utf8)), ("file", "cat.png", "image/png", Self.png)])
        let r = try alice.post("/messages", type: Self.multipartType, body: body)
        XCTAssertEqual(r.status, 201, r.text)
        let message = r.json["message"] as? [String: Any] ?? [:]
        XCTAssertEqual(message["text"] as? String, "look")
        XCTAssertEqual(message["room"] as? String, "pics")
        let files = message["files"] as? [[String: Any]] ?? []
        XCTAssertEqual(files.map { $0["name"] as? String }, ["r.bin", "cat.png"])
        XCTAssertEqual(files.map { $0["type"] as? String }, ["application/octet-stream", "image/png"])
        XCTAssertEqual(try alice.get("/files/\(files[0]["id"] as! String)").body, bytes)
    }

    /// A non-member of the private room a file was posted in cannot fetch it, even knowing its id; a member
    /// can, until removed.
    func testPrivateRoomAuthorization() throws {
        let alice = try stack.user("alice"), bob = try stack.user("bob"), eve = try stack.user("eve")
        XCTAssertEqual(try alice.post("/rooms", json: ["name": "secret", "visibility": "private"]).status, 201)
        XCTAssertEqual(try alice.send("PUT", "/rooms/secret/members/bob").status / 100, 2)
        let f = try upload(alice, Array("classified".utf8), name: "plans.txt")
        let id = f["id"] as! String
        XCTAssertProblem(try bob.get("/files/\(id)"), 404, "file_not_found")      // not posted anywhere yet
        XCTAssertEqual(try alice.post("/messages", json: ["room": "secret", "text": "see", "files": [id]]).status, 201)
        XCTAssertEqual(try bob.get("/files/\(id)").body, Array("classified".utf8))
        XCTAssertProblem(try eve.get("/files/\(id)"), 404, "file_not_found")
        XCTAssertProblem(try eve.get("/files/\(id)", headers: [("Range", "bytes=0-1")]), 404, "file_not_found")
        XCTAssertProblem(try stack.client().get("/files/\(id)"), 401, "unauthorized")
        XCTAssertEqual(try alice.send("DELETE", "/rooms/secret/members/bob").status / 100, 2)
        XCTAssertProblem(try bob.get("/files/\(id)"), 404, "file_not_found")
        XCTAssertEqual(try alice.get("/files/\(id)").status, 200)
    }

    /// A chunked upload in slow pieces is stored as it arrives; a client that hangs up mid-upload leaves nothing
    /// staged behind.
    func testStreamedUploadsAndHangUps() throws {
        let alice = try stack.user("alice")
        let bytes = Self.randomBinary(600_000)
        let fd = try RawConnection.open(port: stack.port)
        defer { close(fd) }
        func send(_ b: [UInt8]) { _ = b.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        send(Array(("POST /files?name=slow.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(alice.token!)\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").utf8))
        for at in stride(from: 0, to: bytes.count, by: 100_000) {
            let piece = Array(bytes[at..<min(bytes.count, at + 100_000)])
            send(Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + Array("\r\n".utf8))
            usleep(5000)
        }
        send(Array("0\r\n\r\n".utf8))
        var answer: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while true { let n = read(fd, &buffer, buffer.count); if n <= 0 { break }; answer += buffer[0..<n] }
        let text = String(decoding: answer, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 201"), text)
        let id = try XCTUnwrap(text.split(separator: "\"").drop { $0 != "id" }.dropFirst(2).first).description
        XCTAssertEqual(try alice.get("/files/\(id)").body, bytes)

        // Hang up after 300 KB of a declared 900 KB: the staged chunk is dropped.
        let gone = try RawConnection.open(port: stack.port)
        let head = "POST /files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(alice.token!)\r\nContent-Length: 900000\r\n\r\n"
        _ = (Array(head.utf8) + bytes[0..<300_000]).withUnsafeBytes { write(gone, $0.baseAddress, $0.count) }
        usleep(200_000)
        close(gone)
        XCTAssertTrue(waitFor { (try? count("SELECT count(*) FROM file_contents WHERE sha256 IS NULL")) == 0 })
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents"), 1)
    }

    /// A count read straight from the stack's database: SQLite's file, or PostgreSQL's (KONNECT_API_STORE=postgres).
    func count(_ sql: String) throws -> Int {
        if let postgres = stack.chat.store as? PostgresStore {
            let db = try PostgresConnection(conninfo: postgres.conninfo)
            return Int(try db.query(sql, []) { $0.int(0) }.first ?? -1)
        }
        let db = try SQLiteConnection(path: stack.directory.appendingPathComponent("konnect.db").path)
        return Int(try db.query(sql, []) { $0.int(0) }.first ?? -1)
    }

    func waitFor(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if condition() { return true }; usleep(50_000) }
        return condition()
    }
}
