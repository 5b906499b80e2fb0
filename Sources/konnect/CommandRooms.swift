// `konnect rooms` and `konnect rooms create NAME`.
import Client

extension ClientCommand {
    static var rooms: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms", synopsis: "konnect rooms",
            summary: "list the rooms with their message counts",
            examples: ["konnect rooms", "konnect rooms --json | jq -r .name"]
        )) { _, context in
            let rooms = try context.authenticatedClient().rooms()
            let width = rooms.map(\.name.count).max() ?? 0
            for room in rooms {
                if context.json {
                    CommandOutput.json(room)
                } else {
                    let padding = String(repeating: " ", count: width - room.name.count)
                    // seq has no gaps (API.md "Messages"), so the newest seq is the number of messages.
                    CommandOutput.line("\(room.name)\(padding)  \(room.lastSeq) message\(room.lastSeq == 1 ? "" : "s")")
                }
            }
            return 0
        }
    }

    static var roomsCreate: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms create", synopsis: "konnect rooms create NAME",
            summary: "create a room (a–z 0–9 _ -, up to 64)",
            examples: ["konnect rooms create ops"],
            positionals: 1...1
        )) { arguments, context in
            let room = try context.authenticatedClient().createRoom(arguments.positionals[0])
            if context.json {
                CommandOutput.json(room)
            } else {
                CommandOutput.line("created room \(room.name)")
            }
            return 0
        }
    }
}
