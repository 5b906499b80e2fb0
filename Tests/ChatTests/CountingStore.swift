// A Store that forwards to another and counts history reads (tests of what is decided without the store).
@testable import Chat

final class CountingStore: Store, @unchecked Sendable {
    let inner: Store
    let historyReads = Box<Int>()

    init(_ inner: Store) { self.inner = inner }

    func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler) { inner.onRoomAdvanced(handler) }
    func createUser(username: String, passwordHash: String, at: Timestamp, completion: @escaping StoreCompletion<User>) {
        inner.createUser(username: username, passwordHash: passwordHash, at: at, completion: completion)
    }
    func user(named username: String, completion: @escaping StoreCompletion<StoredUser?>) {
        inner.user(named: username, completion: completion)
    }
    func createToken(hash: [UInt8], username: String, expiresAt: Timestamp, now: Timestamp,
                     completion: @escaping StoreCompletion<Void>) {
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
    func post(_ request: PostRequest, completion: @escaping StoreCompletion<PostOutcome>) { inner.post(request, completion: completion) }
    func history(room: String, cursor: HistoryCursor, limit: Int, completion: @escaping StoreCompletion<HistoryPage>) {
        historyReads.mutate { $0 = ($0 ?? 0) + 1 }
        inner.history(room: room, cursor: cursor, limit: limit, completion: completion)
    }
    func ping(completion: @escaping @Sendable (Bool) -> Void) { inner.ping(completion: completion) }
}
