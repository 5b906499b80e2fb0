// End-to-end: ../shared/API.md "Service" — /health (200 and 503), /openapi.yaml, /metrics, and the web client files.
import XCTest
import Synchronization
@testable import API
import Chat
import HTTP

final class ServiceRoutesTests: XCTestCase {
    /// A running stack whose store can be told to stop answering.
    private func flakyStack() throws -> (TestStack, FlakyStore) {
        let flaky = Mutex<FlakyStore?>(nil)
        let stack = try TestStack(storeWrapper: { inner in
            let store = FlakyStore(inner)
            flaky.withLock { $0 = store }
            return store
        })
        return (stack, try XCTUnwrap(flaky.withLock { $0 }))
    }

    func testHealthIs200AndThen503WhenTheStoreStopsAnswering() throws {
        let (stack, flaky) = try flakyStack()
        defer { stack.stop() }
        let c = stack.client()
        let ok = try c.get("/health")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.json["status"] as? String, "ok")
        XCTAssertEqual(ok.headers["Content-Type"], "application/json; charset=utf-8")
        flaky.down.store(true, ordering: .relaxed)
        XCTAssertProblem(try c.get("/health"), 503, "unavailable")
    }

    /// Issue 13 #9: a store failure is 503 `unavailable` with a detail that says only that (the cause is logged).
    func testStoreFailuresDoNotShowInternalText() throws {
        let (stack, flaky) = try flakyStack()
        defer { stack.stop() }
        let alice = try stack.user("alice")
        flaky.down.store(true, ordering: .relaxed)
        let r = try alice.post("/messages", json: ["text": "hello"])
        XCTAssertProblem(r, 503, "unavailable")
        XCTAssertEqual(r.json["detail"] as? String, "the store is unavailable, try again")
        XCTAssertFalse(r.text.contains("sqlite"), r.text)
        XCTAssertEqual(r.headers["Retry-After"], "1")
    }

    func testOpenAPIDocumentIsServedAsYAML() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let r = try stack.client().get("/openapi.yaml")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["Content-Type"], "application/yaml")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: APIOptions.repositoryRoot + "/openapi.yaml"))
        XCTAssertEqual(Data(r.body), onDisk)
    }

    func testMetricsCountRequestsByRouteAndStatus() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try stack.user("alice")
        try c.say("counted")
        _ = try c.get("/nope")
        _ = try c.get("/health")
        let r = try c.get("/metrics")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4"), true)
        let text = r.text
        for line in [
            #"konnect_http_requests_total{route="/messages",method="POST",status="201"} 1"#,
            #"konnect_http_requests_total{route="/register",method="POST",status="201"} 1"#,
            #"konnect_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
            #"konnect_http_request_duration_seconds_count{route="/health",method="GET"} 1"#,
            #"konnect_http_request_duration_seconds_bucket{route="/health",method="GET",le="+Inf"} 1"#,
            "konnect_messages_stored_total 1", "konnect_parked_polls 0",
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
        }
    }

    func testWebFilesAreServedWithCachingAndSecurityHeaders() throws {
        let web = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: web, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: web) }
        let files = ["index.html": "<!doctype html><title>t</title>", "app.js": "console.log(1)", "style.css": "body{}",
                     "icon.svg": "<svg/>", "site.webmanifest": "{}", "notes.bak": "secret"]
        for (name, text) in files { try Data(text.utf8).write(to: web.appendingPathComponent(name)) }
        let stack = try TestStack(webRoot: web.path)
        defer { stack.stop() }
        let c = stack.client()

        let index = try c.get("/")
        XCTAssertEqual(index.status, 200)
        XCTAssertEqual(index.text, files["index.html"])
        XCTAssertEqual(index.headers["Content-Type"], "text/html; charset=utf-8")
        XCTAssertEqual(index.headers["Content-Security-Policy"], StaticFiles.contentSecurityPolicy)
        XCTAssertTrue(StaticFiles.contentSecurityPolicy.contains("frame-ancestors 'none'"))
        // Inline images are shown from blob: URLs of files fetched with the token; no inline script or style.
        XCTAssertTrue(StaticFiles.contentSecurityPolicy.contains("img-src 'self' data: blob:;"))
        XCTAssertFalse(StaticFiles.contentSecurityPolicy.contains("unsafe-inline"))
        XCTAssertEqual(index.headers["X-Content-Type-Options"], "nosniff")
        XCTAssertEqual(index.headers["Referrer-Policy"], "no-referrer")
        XCTAssertEqual(index.headers["Cache-Control"], "no-cache")
        let etag = try XCTUnwrap(index.headers["ETag"])
        XCTAssertTrue(etag.hasPrefix("\"") && !etag.hasPrefix("W/"), "strong ETag: \(etag)")
        let again = try c.get("/", headers: [("If-None-Match", etag)])
        XCTAssertEqual(again.status, 304)
        XCTAssertEqual(again.body, [])
        XCTAssertEqual(try c.get("/", headers: [("If-None-Match", "\"other\"")]).status, 200)

        let types = ["/app.js": "text/javascript; charset=utf-8", "/style.css": "text/css; charset=utf-8",
                     "/icon.svg": "image/svg+xml", "/site.webmanifest": "application/manifest+json"]
        for (path, type) in types {
            let r = try c.get(path)
            XCTAssertEqual(r.status, 200, path)
            XCTAssertEqual(r.headers["Content-Type"], type, path)
            XCTAssertEqual(r.headers["X-Content-Type-Options"], "nosniff", path)
            XCTAssertNil(r.headers["Content-Security-Policy"], path)
            XCTAssertNotEqual(r.headers["ETag"], etag, path)
        }
        XCTAssertProblem(try c.get("/notes.bak"), 404, "not_found")     // unknown types are not served
        XCTAssertProblem(try c.get("/../Package.swift"), 404, "not_found")
        XCTAssertProblem(try c.get("/missing.js"), 404, "not_found")
        XCTAssertProblem(try c.send("POST", "/app.js"), 405, "method_not_allowed")
        let head = try c.send("HEAD", "/app.js")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
    }
}

extension ServiceRoutesTests {
    /// Issue 13 #11: a link under the web root that leads outside it is not served; a plain file beside it is.
    func testSymlinksLeadingOutsideTheWebRootAreNotServed() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("konnect-links-\(UUID().uuidString)")
        let web = base.appendingPathComponent("web")
        try fm.createDirectory(at: web, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: base) }
        try Data("secret".utf8).write(to: base.appendingPathComponent("outside.txt"))
        try Data("inside".utf8).write(to: web.appendingPathComponent("inside.txt"))
        try fm.createDirectory(at: base.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("nested secret".utf8).write(to: base.appendingPathComponent("sub/app.js"))
        try fm.createSymbolicLink(atPath: web.path + "/leak.txt", withDestinationPath: base.path + "/outside.txt")
        try fm.createSymbolicLink(atPath: web.path + "/relative.txt", withDestinationPath: "../outside.txt")
        try fm.createSymbolicLink(atPath: web.path + "/app.js", withDestinationPath: base.path + "/sub/app.js")
        try fm.createSymbolicLink(atPath: web.path + "/alias.txt", withDestinationPath: "inside.txt")
        let stack = try TestStack(webRoot: web.path)
        defer { stack.stop() }
        let c = stack.client()
        for path in ["/leak.txt", "/relative.txt", "/app.js"] {
            let r = try c.get(path)
            XCTAssertProblem(r, 404, "not_found")
            XCTAssertFalse(r.text.contains("secret"), path)
        }
        XCTAssertEqual(try c.get("/inside.txt").text, "inside")
        XCTAssertEqual(try c.get("/alias.txt").text, "inside", "a link that stays inside the root is fine")
    }
}

/// A store that forwards to SQLite but can be told to stop answering pings (to see /health's 503). It mirrors
/// Chat's `Store` protocol: when that protocol changes, this forwarding changes with it.
final class FlakyStore: Store, @unchecked Sendable {
    let inner: Store
    let down = Atomic<Bool>(false)
    init(_ inner: Store) { self.inner = inner }

    func ping(completion: @escaping @Sendable (Bool) -> Void) {
        if down.load(ordering: .relaxed) { return completion(false) }
        inner.ping(completion: completion)
    }
    func beginUpload(at: Timestamp, completion: @escaping StoreCompletion<UploadID>) { inner.beginUpload(at: at, completion: completion) }
    func appendUpload(_ upload: UploadID, index: Int, bytes: [UInt8], completion: @escaping StoreCompletion<Void>) {
        inner.appendUpload(upload, index: index, bytes: bytes, completion: completion)
    }
    func finishUpload(_ upload: UploadID, file: NewFile, completion: @escaping StoreCompletion<FileInfo>) {
        inner.finishUpload(upload, file: file, completion: completion)
    }
    func abortUpload(_ upload: UploadID, completion: @escaping StoreCompletion<Void>) { inner.abortUpload(upload, completion: completion) }
    func file(id: String, completion: @escaping StoreCompletion<FileInfo?>) { inner.file(id: id, completion: completion) }
    func fileChunk(id: String, index: Int, completion: @escaping StoreCompletion<[UInt8]?>) {
        inner.fileChunk(id: id, index: index, completion: completion)
    }
    func fileRooms(id: String, completion: @escaping StoreCompletion<[String]>) { inner.fileRooms(id: id, completion: completion) }
    func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler) { inner.onRoomAdvanced(handler) }
    func onFeedAdvanced(_ handler: @escaping FeedAdvancedHandler) { inner.onFeedAdvanced(handler) }
    func createBot(username: String, owner: String, tokenHash: [UInt8], at: Timestamp, completion: @escaping StoreCompletion<Bot>) {
        inner.createBot(username: username, owner: owner, tokenHash: tokenHash, at: at, completion: completion)
    }
    func bots(owner: String, completion: @escaping StoreCompletion<[Bot]>) { inner.bots(owner: owner, completion: completion) }
    func replaceBotToken(username: String, owner: String, tokenHash: [UInt8], completion: @escaping StoreCompletion<Bot>) {
        inner.replaceBotToken(username: username, owner: owner, tokenHash: tokenHash, completion: completion)
    }
    func deleteBot(username: String, owner: String, at: Timestamp, completion: @escaping StoreCompletion<Void>) {
        inner.deleteBot(username: username, owner: owner, at: at, completion: completion)
    }
    func feed(username: String, after: Int64?, limit: Int, completion: @escaping StoreCompletion<FeedPage>) {
        inner.feed(username: username, after: after, limit: limit, completion: completion)
    }
    func createUser(username: String, passwordHash: String, at: Timestamp, completion: @escaping StoreCompletion<User>) {
        inner.createUser(username: username, passwordHash: passwordHash, at: at, completion: completion)
    }
    func user(named username: String, completion: @escaping StoreCompletion<StoredUser?>) {
        inner.user(named: username, completion: completion)
    }
    func createToken(hash: [UInt8], username: String, expiresAt: Timestamp, now: Timestamp, completion: @escaping StoreCompletion<Void>) {
        inner.createToken(hash: hash, username: username, expiresAt: expiresAt, now: now, completion: completion)
    }
    func user(tokenHash: [UInt8], now: Timestamp, completion: @escaping StoreCompletion<User?>) {
        inner.user(tokenHash: tokenHash, now: now, completion: completion)
    }
    func deleteToken(hash: [UInt8], completion: @escaping StoreCompletion<Void>) { inner.deleteToken(hash: hash, completion: completion) }
    func claimLoginAttempt(username: String, address: String, at: Timestamp, since: Timestamp, limit: Int,
                           completion: @escaping StoreCompletion<[Timestamp]?>) {
        inner.claimLoginAttempt(username: username, address: address, at: at, since: since, limit: limit, completion: completion)
    }
    func clearLoginFailures(username: String, address: String, completion: @escaping StoreCompletion<Void>) {
        inner.clearLoginFailures(username: username, address: address, completion: completion)
    }
    func rooms(username: String, after: String?, limit: Int, completion: @escaping StoreCompletion<RoomList>) {
        inner.rooms(username: username, after: after, limit: limit, completion: completion)
    }
    func createRoom(name: String, visibility: RoomVisibility, owner: String, at: Timestamp,
                    completion: @escaping StoreCompletion<Room>) {
        inner.createRoom(name: name, visibility: visibility, owner: owner, at: at, completion: completion)
    }
    func openDirectRoom(name: String, usernames: [String], requester: String, at: Timestamp,
                        completion: @escaping StoreCompletion<RoomAccess>) {
        inner.openDirectRoom(name: name, usernames: usernames, requester: requester, at: at, completion: completion)
    }
    func roomAccess(room: String, username: String, completion: @escaping StoreCompletion<RoomAccess?>) {
        inner.roomAccess(room: room, username: username, completion: completion)
    }
    func roomDetail(room: String, username: String, completion: @escaping StoreCompletion<RoomDetail?>) {
        inner.roomDetail(room: room, username: username, completion: completion)
    }
    func addMember(room: String, username: String, completion: @escaping StoreCompletion<MembershipChange>) {
        inner.addMember(room: room, username: username, completion: completion)
    }
    func removeMember(room: String, username: String, completion: @escaping StoreCompletion<Bool>) {
        inner.removeMember(room: room, username: username, completion: completion)
    }
    func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>) {
        if down.load(ordering: .relaxed) { return completion(.failure(.unavailable("sqlite error 13: database or disk is full"))) }
        inner.post(request, completion: completion)
    }
    func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>) {
        inner.history(room: room, cursor: cursor, limit: limit, completion: completion)
    }
    func history(tokenHash: [UInt8], now: Timestamp, room: String, cursor: HistoryCursor, limit: Int,
                 completion: @escaping StoreCompletion<TokenHistory?>) {
        inner.history(tokenHash: tokenHash, now: now, room: room, cursor: cursor, limit: limit, completion: completion)
    }
}
