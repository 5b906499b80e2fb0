// Helpers for the chat tests: waiting for completions, an injectable clock, temporary database files.
@testable import Chat
import Dispatch
import Foundation
import Synchronization
import XCTest

/// Holds one value set from any thread.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    init(_ value: T? = nil) { stored = value }
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func mutate(_ body: (inout T?) -> Void) { lock.withLock { body(&stored) } }
}

/// Calls `body` with a completion and waits (10 s at most) for it.
func outcome<T>(file: StaticString = #filePath, line: UInt = #line,
             _ body: (@escaping @Sendable (Result<T, ChatError>) -> Void) -> Void) -> Result<T, ChatError> {
    let box = Box<Result<T, ChatError>>()
    let done = DispatchSemaphore(value: 0)
    body { result in
        box.value = result
        done.signal()
    }
    guard done.wait(timeout: .now() + 10) == .success, let result = box.value else {
        XCTFail("completion not called within 10 s", file: file, line: line)
        return .failure(ChatError(.unavailable, "timeout", "test timeout"))
    }
    return result
}

/// The value, or a test failure naming the error.
func value<T>(_ result: Result<T, ChatError>, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    switch result {
    case .success(let v): return v
    case .failure(let e):
        XCTFail("unexpected error \(e)", file: file, line: line)
        throw e
    }
}

/// The error's code, or nil (and a failure) on success.
func code<T>(_ result: Result<T, ChatError>, file: StaticString = #filePath, line: UInt = #line) -> String? {
    if case .failure(let e) = result { return e.code }
    XCTFail("expected an error, got \(result)", file: file, line: line)
    return nil
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let ms = Mutex<Int64>(1_795_000_000_000)
    func now() -> Timestamp { Timestamp(milliseconds: ms.withLock { $0 }) }
    func advance(seconds: Double) { ms.withLock { $0 += Int64(seconds * 1000) } }
}

/// A fresh directory for database files, removed by `cleanUp`.
struct TempDir {
    let path: String
    init(base: String? = nil) {
        path = (base ?? NSTemporaryDirectory()) + "/konnect-chat-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String = "chat.db") -> String { path + "/" + name }
    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

extension PostOutcome {
    var message: Message {
        switch self {
        case .created(let m), .replayed(let m): return m
        }
    }
    var isCreated: Bool { if case .created = self { return true } else { return false } }
}

extension ChatService {
    /// v1-style room creation for tests of other things: a public room owned by `roomowner` (made on first use).
    func createRoom(name: String?, completion: @escaping Completion<RoomView>) {
        store.createUser(username: "roomowner", passwordHash: "x", at: clock()) { [self] _ in
            createRoom(user: User(username: "roomowner", createdAt: clock()), name: name, visibility: nil,
                       completion: completion)
        }
    }

    /// Every public room, by name (what GET /rooms answered in v1).
    func rooms(completion: @escaping Completion<[Room]>) {
        store.rooms(username: "", after: nil, limit: 1000) { completion($0.map { $0.rooms.map(\.room) }) }
    }
}
