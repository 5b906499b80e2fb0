// Rooms v2 values: who may enter a room, what a caller sees of rooms, and the errors of membership
// (../shared/API.md "Rooms v2: visibility, members, direct rooms").

/// What the store knows about one user and one room: enough to decide whether the room exists for them.
public struct RoomAccess: Sendable, Hashable {
    public var room: String
    public var visibility: RoomVisibility
    public var owner: String?            // as registered; nil when the room has none
    public var isMember: Bool
    public init(room: String, visibility: RoomVisibility, owner: String?, isMember: Bool) {
        self.room = room
        self.visibility = visibility
        self.owner = owner
        self.isMember = isMember
    }

    /// THE rule: a public room admits every signed-in user; a private or direct room only its members. To anyone
    /// else it does not exist (404 room_not_found, as for a name never created).
    public var admits: Bool { visibility == .public || isMember }
}

/// A room the caller was admitted to by `ChatService.openRoom`; only Chat makes these, so every operation that
/// takes one was authorized once, in one place.
public struct AuthorizedRoom: Sendable, Hashable {
    public let name: String              // canonical: `@alice,bob` for a direct room, whatever alias was typed
    public let access: RoomAccess
    public let username: String          // the caller, as registered
    init(access: RoomAccess, username: String) {
        self.name = access.room
        self.access = access
        self.username = username
    }
}

/// A room as one caller sees it (GET /rooms, POST /rooms): the room plus whether they are a member.
public struct RoomView: Sendable, Hashable {
    public var room: Room
    public var joined: Bool
    public var name: String { room.name }
    public init(room: Room, joined: Bool) {
        self.room = room
        self.joined = joined
    }
}

/// A page of GET /rooms.
public struct RoomList: Sendable, Hashable {
    public var rooms: [RoomView]         // by name, code-point order
    public var hasMore: Bool
    public init(rooms: [RoomView], hasMore: Bool) {
        self.rooms = rooms
        self.hasMore = hasMore
    }
}

/// GET /rooms/{name}: the room and its members (as registered, sorted by their lowercase form).
public struct RoomDetail: Sendable, Hashable {
    public var view: RoomView
    public var members: [String]
    public init(view: RoomView, members: [String]) {
        self.view = view
        self.members = members
    }
}

/// PUT /rooms/{name}/members/{username}: 201 or 200.
public enum MembershipChange: Sendable, Hashable {
    case added
    case alreadyMember
}

/// The hot authenticated read (`Store.history(tokenHash:…)`) in one store visit: the token's user, that user's
/// access to the room (nil: no such room), and the page — read only when `access.admits`.
public struct TokenHistory: Sendable, Hashable {
    public var user: User
    public var access: RoomAccess?
    public var page: HistoryPage?
    public init(user: User, access: RoomAccess?, page: HistoryPage?) {
        self.user = user
        self.access = access
        self.page = page
    }
}

extension ChatError {
    public static func userNotFound(_ name: String) -> ChatError {
        ChatError(.notFound, "user_not_found", "user '\(name)' does not exist")
    }
    public static let notMember = ChatError(.forbidden, "not_member", "only members may add others to this room")
    public static let notOwner = ChatError(.forbidden, "not_owner", "only the room's owner may remove others")
    public static let directRoom = ChatError(.conflict, "direct_room", "a direct room's members are fixed")
    public static let cannotLeave = ChatError(.conflict, "cannot_leave", "everyone stays in 'general'")
}
