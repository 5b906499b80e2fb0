// `konnect members ROOM`, `members add ROOM USER`, `members remove ROOM USER` (../shared/API.md "Rooms v2").
import Client

extension ClientCommand {
    static var members: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "members", synopsis: "konnect members ROOM",
            summary: "list a room's members (ROOM may be @user for your direct room with them)",
            examples: ["konnect members general", "konnect members @bob", "konnect members plans --json"],
            positionals: 1...1
        )) { arguments, context in
            let room = try context.authenticatedClient().room(arguments.positionals[0])
            if context.json {
                CommandOutput.json(room)
            } else {
                for member in room.members ?? [] {
                    CommandOutput.line(member == room.owner ? "\(member)  (owner)" : member)
                }
            }
            return 0
        }
    }

    static var membersAdd: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "members add", synopsis: "konnect members add ROOM USER",
            summary: "add USER to ROOM (members of a room may add anyone)",
            examples: ["konnect members add plans bob"],
            positionals: 2...2
        )) { arguments, context in
            let (room, user) = (arguments.positionals[0], arguments.positionals[1])
            let added = try context.authenticatedClient().addMember(room: room, username: user)
            if !context.json { CommandOutput.line(added ? "added \(user) to \(room)" : "\(user) is already in \(room)") }
            return 0
        }
    }

    static var membersRemove: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "members remove", synopsis: "konnect members remove ROOM USER",
            summary: "remove USER from ROOM (the owner removes others; anyone removes themselves)",
            examples: ["konnect members remove plans bob"],
            positionals: 2...2
        )) { arguments, context in
            let (room, user) = (arguments.positionals[0], arguments.positionals[1])
            try context.authenticatedClient().removeMember(room: room, username: user)
            if !context.json { CommandOutput.line("removed \(user) from \(room)") }
            return 0
        }
    }
}
