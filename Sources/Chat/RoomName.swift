// What a `room` parameter or path names: a room name, or a direct room `@a,b` / `@bob` (../shared/API.md
// "Rooms v2", direct rooms).

/// A `room` as typed, resolved for one caller.
public struct RoomName: Sendable, Hashable {
    public let name: String              // canonical: lowercase `@a,b` sorted, or the plain name
    public let direct: [String]?         // a direct room's two usernames, lowercased and sorted (equal for self-chat)

    /// `@bob` (any case) is the direct room of the caller and bob; `@Bob,Alice` is `@alice,bob`; anything else
    /// must be a valid room name. Nil: no room can have this name (answered room_not_found without the store).
    /// `caller` (lowercase) is asked only for the `@bob` form.
    public static func resolve(_ typed: String, caller: @autoclosure () -> String) -> RoomName? {
        guard typed.utf8.first == UInt8(ascii: "@") else {
            return Validation.roomName(typed) == nil ? RoomName(name: typed, direct: nil) : nil
        }
        let parts = typed.utf8.dropFirst().split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            .map { String(Substring($0)) }
        var users: [String]
        switch parts.count {
        case 1: users = [caller(), parts[0]]
        case 2: users = parts
        default: return nil
        }
        guard users.allSatisfy({ Validation.username($0) == nil }) else { return nil }
        users = users.map(Validation.usernameKey).sorted()
        return RoomName(name: "@" + users[0] + "," + users[1], direct: users)
    }

    /// The direct room's name of two users (either order, any case).
    public static func direct(_ a: String, _ b: String) -> String {
        let users = [Validation.usernameKey(a), Validation.usernameKey(b)].sorted()
        return "@" + users[0] + "," + users[1]
    }
}
