// Store-independent test bodies for rooms v2: visibility, owners, membership, direct rooms, removal and waiting
// (../shared/API.md "Rooms v2").
@testable import Chat
import Dispatch
import XCTest

extension StoreContract {
    func open(_ chat: ChatService, _ user: User, _ room: String) -> Result<AuthorizedRoom, ChatError> {
        outcome { chat.openRoom(user: user, room: room, completion: $0) }
    }

    func list(_ chat: ChatService, _ user: User, after: String? = nil, limit: Int = 1000) throws -> RoomList {
        try value(outcome { chat.rooms(user: user, after: after, limit: limit, completion: $0) })
    }

    func create(_ chat: ChatService, _ user: User, _ name: String, _ visibility: String? = nil) -> Result<RoomView, ChatError> {
        outcome { chat.createRoom(user: user, name: name, visibility: visibility, completion: $0) }
    }

    func add(_ chat: ChatService, _ user: User, _ room: String, _ who: String) -> Result<MembershipChange, ChatError> {
        outcome { chat.addMember(user: user, room: room, username: who, completion: $0) }
    }

    func remove(_ chat: ChatService, _ user: User, _ room: String, _ who: String) -> Result<Void, ChatError> {
        outcome { chat.removeMember(user: user, room: room, username: who, completion: $0) }
    }

    func read(_ chat: ChatService, _ user: User, _ room: String) -> Result<HistoryPage, ChatError> {
        outcome { chat.openRoom(user: user, room: room, completion: $0) }.flatMap { opened in
            outcome { chat.history(room: opened, cursor: .newest, limit: 50, completion: $0) }
        }
    }

    /// New users are members of general; a private room exists only for its members, exactly like a name never
    /// created; the creator owns it; listing shows public rooms and the caller's own, with `joined`.
    func privateRoomsAreInvisibleToOthers() throws {
        let chat = try service()
        let alice = try register(chat, "Alice"), bob = try register(chat, "bob")
        let general = try value(outcome { chat.room(user: bob, name: "general", completion: $0) })
        XCTAssertEqual(general.members, ["Alice", "bob"])
        XCTAssertTrue(general.view.joined)
        let secret = try value(create(chat, alice, "secret", "private"))
        XCTAssertEqual(secret.room.visibility, .private)
        XCTAssertEqual(secret.room.owner, "Alice")
        XCTAssertTrue(secret.joined)
        XCTAssertEqual(try value(create(chat, bob, "open")).room.visibility, .public)
        XCTAssertEqual(code(create(chat, bob, "secret")), "room_exists", "the one answer that tells a name is taken")
        XCTAssertEqual(code(create(chat, bob, "x", "direct")), "invalid_parameter")
        XCTAssertEqual(code(create(chat, bob, "x", "Private")), "invalid_parameter")

        // To bob, "secret" is exactly "never-made": same error kind and code, same detail apart from the name.
        let hidden = open(chat, bob, "secret"), never = open(chat, bob, "never-made")
        guard case .failure(let h) = hidden, case .failure(let n) = never else { return XCTFail("bob got in") }
        XCTAssertEqual(h.kind, n.kind)
        XCTAssertEqual(h.code, "room_not_found")
        XCTAssertEqual(n.code, "room_not_found")
        XCTAssertEqual(h.detail.replacingOccurrences(of: "secret", with: "never-made"), n.detail)
        XCTAssertEqual(code(post(chat, bob, "hi", room: "secret")), "room_not_found")
        XCTAssertEqual(code(read(chat, bob, "secret")), "room_not_found")
        XCTAssertEqual(code(outcome { chat.room(user: bob, name: "secret", completion: $0) }), "room_not_found")
        XCTAssertEqual(code(add(chat, bob, "secret", "bob")), "room_not_found")
        XCTAssertEqual(code(remove(chat, bob, "secret", "Alice")), "room_not_found")

        XCTAssertEqual(try list(chat, bob).rooms.map(\.name), ["general", "open"])
        XCTAssertEqual(try list(chat, alice).rooms.map(\.name), ["general", "open", "secret"])
        XCTAssertEqual(try list(chat, alice).rooms.map(\.joined), [true, false, true])
        XCTAssertEqual(try list(chat, bob).rooms.map(\.joined), [true, true])

        XCTAssertEqual(try value(add(chat, alice, "secret", "BOB")), .added)
        XCTAssertEqual(try value(add(chat, alice, "secret", "bob")), .alreadyMember)
        XCTAssertTrue(try value(post(chat, bob, "now I am in", room: "secret")).isCreated)
        XCTAssertEqual(try value(outcome { chat.room(user: bob, name: "secret", completion: $0) }).members, ["Alice", "bob"])
        XCTAssertEqual(try list(chat, bob).rooms.map(\.name), ["general", "open", "secret"])
    }

    /// PUT and DELETE of members: who may do what, and the codes of everything else.
    func membershipRules() throws {
        let chat = try service()
        let owner = try register(chat, "owner"), member = try register(chat, "member"), other = try register(chat, "other")
        _ = try register(chat, "third")
        _ = try value(create(chat, owner, "club"))
        XCTAssertEqual(code(add(chat, other, "club", "third")), "not_member", "a non-member adds only themselves")
        XCTAssertEqual(try value(add(chat, other, "club", "OTHER")), .added, "anyone joins a public room")
        XCTAssertEqual(try value(add(chat, other, "club", "third")), .added, "members add anyone")
        XCTAssertEqual(code(add(chat, owner, "club", "nobody")), "user_not_found")
        XCTAssertEqual(code(add(chat, owner, "club", "bad name!")), "user_not_found")
        XCTAssertEqual(code(remove(chat, other, "club", "third")), "not_owner")
        XCTAssertNoThrow(try value(remove(chat, owner, "club", "third")))
        XCTAssertNoThrow(try value(remove(chat, other, "club", "other")), "anyone leaves")
        XCTAssertNoThrow(try value(remove(chat, other, "club", "other")), "leaving twice is fine")
        XCTAssertEqual(code(remove(chat, owner, "club", "nobody")), "user_not_found")
        XCTAssertEqual(code(remove(chat, member, "general", "member")), "cannot_leave")
        XCTAssertEqual(code(remove(chat, member, "general", "other")), "not_owner")
        XCTAssertEqual(code(remove(chat, owner, "nowhere", "owner")), "room_not_found")

        _ = try value(create(chat, owner, "inner", "private"))
        XCTAssertEqual(try value(add(chat, owner, "inner", "member")), .added)
        XCTAssertEqual(try value(add(chat, member, "inner", "other")), .added, "members of a private room add anyone")
        XCTAssertEqual(code(remove(chat, member, "inner", "other")), "not_owner")
        XCTAssertNoThrow(try value(remove(chat, owner, "inner", "other")))
        XCTAssertEqual(code(read(chat, other, "inner")), "room_not_found", "removed: the room is gone for them")
        XCTAssertNoThrow(try value(remove(chat, member, "inner", "member")))
        XCTAssertEqual(code(read(chat, member, "inner")), "room_not_found")
        XCTAssertEqual(try list(chat, member).rooms.map(\.name), ["club", "general"])
    }

    /// `@a,b` and `@b`: both directions, any case, self-chat, unknown users, fixed members, others kept out.
    func directRooms() throws {
        let chat = try service()
        let alice = try register(chat, "Alice"), bob = try register(chat, "Bob"), carol = try register(chat, "carol")
        let first = try value(post(chat, alice, "hi bob", room: "@BOB")).message
        XCTAssertEqual(first.room, "@alice,bob")
        XCTAssertEqual(try value(open(chat, bob, "@alice")).name, "@alice,bob")
        XCTAssertEqual(try value(open(chat, bob, "@Bob,ALICE")).name, "@alice,bob")
        XCTAssertEqual(try value(read(chat, bob, "@aLiCe")).messages, [first])
        XCTAssertEqual(try value(post(chat, bob, "hi alice", room: "@alice,bob")).message.seq, 2)
        XCTAssertEqual(try value(read(chat, alice, "@alice,bob")).messages.map(\.seq), [1, 2])
        // carol: the room does not exist for her, by any spelling; her own alias is another room.
        XCTAssertEqual(code(read(chat, carol, "@alice,bob")), "room_not_found")
        XCTAssertEqual(code(post(chat, carol, "let me in", room: "@bob,alice")), "room_not_found")
        XCTAssertEqual(try value(open(chat, carol, "@alice")).name, "@alice,carol")
        XCTAssertEqual(code(open(chat, alice, "@nobody")), "user_not_found")
        XCTAssertEqual(code(open(chat, alice, "@alice,nobody")), "user_not_found")
        XCTAssertEqual(code(open(chat, alice, "@a,b,c")), "room_not_found")
        XCTAssertEqual(code(open(chat, alice, "@")), "room_not_found")
        XCTAssertEqual(code(open(chat, alice, "@bad name")), "room_not_found")
        // Self-chat.
        XCTAssertEqual(try value(post(chat, alice, "note to self", room: "@alice")).message.room, "@alice,alice")
        XCTAssertEqual(try value(outcome { chat.room(user: alice, name: "@Alice,alice", completion: $0) }).members, ["Alice"])
        // Fixed members.
        XCTAssertEqual(code(add(chat, alice, "@bob", "carol")), "direct_room")
        XCTAssertEqual(code(remove(chat, alice, "@bob", "alice")), "direct_room")
        XCTAssertEqual(code(add(chat, carol, "@alice,bob", "carol")), "room_not_found")
        let room = try value(outcome { chat.room(user: bob, name: "@alice", completion: $0) })
        XCTAssertEqual(room.members, ["Alice", "Bob"])
        XCTAssertEqual(room.view.room.visibility, .direct)
        XCTAssertNil(room.view.room.owner)
        XCTAssertEqual(try list(chat, bob).rooms.map(\.name), ["@alice,bob", "general"])
        XCTAssertEqual(try list(chat, alice).rooms.map(\.name), ["@alice,alice", "@alice,bob", "@alice,carol", "general"],
                       "carol's first use of @alice made their room, for both")
        XCTAssertEqual(try list(chat, carol).rooms.map(\.name), ["@alice,carol", "general"])
    }

    /// GET /rooms pages by name with `after` and `limit`.
    func roomPaging() throws {
        let chat = try service()
        let user = try register(chat, "pager")
        let other = try register(chat, "other")
        for name in ["b", "d", "a", "c"] { _ = try value(create(chat, user, name)) }
        _ = try value(create(chat, other, "bb", "private"))
        var names: [String] = [], after: String? = nil, pages = 0
        repeat {
            let page = try list(chat, user, after: after, limit: 2)
            names += page.rooms.map(\.name)
            after = page.rooms.last?.name
            pages += 1
            if !page.hasMore { break }
        } while pages < 10
        XCTAssertEqual(names, ["a", "b", "c", "d", "general"])
        XCTAssertEqual(pages, 3)
        XCTAssertFalse(try list(chat, user, after: "d", limit: 1).hasMore)
        XCTAssertEqual(try list(chat, user, after: "b", limit: 1).rooms.map(\.name), ["c"], "bb is not pager's")
    }

    /// A held request of a member removed from a private room answers 404 at once (on this instance), never
    /// with what is posted after; the other members' waiters get that.
    func removedMemberWaiterGets404() throws {
        let chat = try service()
        let owner = try register(chat, "owner"), guest = try register(chat, "guest")
        _ = try value(create(chat, owner, "vault", "private"))
        _ = try value(add(chat, owner, "vault", "guest"))
        let guestRoom = try value(open(chat, guest, "vault")), ownerRoom = try value(open(chat, owner, "vault"))
        let guestAnswer = Box<Result<HistoryPage, ChatError>>(), ownerAnswer = Box<Result<HistoryPage, ChatError>>()
        let done = DispatchGroup()
        done.enter(); done.enter()
        XCTAssertNotNil(chat.waitForMessages(room: guestRoom, after: 0, limit: 10) { guestAnswer.value = $0; done.leave() })
        XCTAssertNotNil(chat.waitForMessages(room: ownerRoom, after: 0, limit: 10) { ownerAnswer.value = $0; done.leave() })
        XCTAssertNoThrow(try value(remove(chat, owner, "vault", "guest")))
        XCTAssertEqual(guestAnswer.value.flatMap { code($0) }, "room_not_found", "answered by the removal")
        XCTAssertNil(ownerAnswer.value, "the owner's request is still held")
        let message = try value(post(chat, owner, "after the removal", room: "vault")).message
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(guestAnswer.value.flatMap { code($0) }, "room_not_found")
        XCTAssertEqual(try ownerAnswer.value?.get().messages, [message])
    }
}

extension StoreContract {
    /// Two server instances on one database (`makeStores` gives two stores sharing it): a member removed through
    /// one is refused on the other from their next request — reads, posts, the listing, the hot token+page read —
    /// though the other had just admitted them; added back, they are in again; a room made on one exists on the
    /// other at once, even right after the other answered that it did not exist.
    func membershipFreshAcrossInstances(_ makeStores: () throws -> (Store, Store)) throws {
        let (storeA, storeB) = try makeStores()
        let a = ChatService(store: storeA, passwordCost: 1), b = ChatService(store: storeB, passwordCost: 1)
        let owner = try register(a, "keeper"), guest = try register(a, "guest")
        let token = try value(login(b, "guest")).token
        func hot(_ chat: ChatService, _ room: String) -> Result<HistoryPage, ChatError> {
            outcome { chat.history(token: token, room: room, cursor: .newest, limit: 10, completion: $0) }
        }
        XCTAssertEqual(code(hot(b, "vault")), "room_not_found")
        _ = try value(create(a, owner, "vault", "private"))
        XCTAssertEqual(code(hot(b, "vault")), "room_not_found", "made, but guest is no member")
        for round in 1...2 {
            XCTAssertEqual(try value(add(a, owner, "vault", "guest")), .added)
            _ = try value(post(a, owner, "round \(round)", room: "vault"))
            for _ in 0..<3 {
                XCTAssertEqual(try value(hot(b, "vault")).messages.count, round)
                XCTAssertNoThrow(try value(read(b, guest, "vault")))
            }
            XCTAssertNoThrow(try value(remove(a, owner, "vault", "guest")))
            XCTAssertEqual(code(hot(b, "vault")), "room_not_found", "round \(round)")
            XCTAssertEqual(code(read(b, guest, "vault")), "room_not_found")
            XCTAssertEqual(code(post(b, guest, "still here?", room: "vault")), "room_not_found")
            XCTAssertFalse(try list(b, guest).rooms.contains { $0.name == "vault" })
        }
        XCTAssertEqual(code(read(b, guest, "later")), "room_not_found")
        _ = try value(create(a, owner, "later"))
        XCTAssertNoThrow(try value(read(b, guest, "later")), "created on A after B said it did not exist")
    }
}
