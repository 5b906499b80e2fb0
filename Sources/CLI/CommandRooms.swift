// `konnect rooms`, `rooms create NAME [--private]`, `rooms join|leave NAME` (../shared/API.md "Rooms v2").
import Client
#if canImport(Glibc)
import Glibc
#endif

extension ClientCommand {
    static var rooms: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms", synopsis: "konnect rooms",
            summary: "list the rooms you can see: visibility, whether you are a member, message counts",
            examples: ["konnect rooms", "konnect rooms --json | jq -r 'select(.joined) | .name'"]
        )) { _, context in
            let rooms = try context.authenticatedClient().rooms()
            if context.json {
                for room in rooms { CommandOutput.json(room) }
            } else {
                for line in roomTable(rooms, width: TerminalMode.isTerminal(STDOUT_FILENO) ? terminalColumns() : nil) {
                    CommandOutput.line(line)
                }
            }
            return 0
        }
    }

    /// One line per room: name, visibility, `member` or `-`, message count. With a terminal `width`, names too
    /// long for it are cut with `…` so every line fits; without one (a pipe) names are never cut.
    static func roomTable(_ rooms: [APIRoom], width: Int?) -> [String] {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        // seq has no gaps (API.md "Messages"), so the newest seq is the number of messages.
        let counts = rooms.map { "\($0.lastSeq) message\($0.lastSeq == 1 ? "" : "s")" }
        let rest = 2 + 7 + 2 + 6 + 2 + (counts.map(\.count).max() ?? 0)
        var nameWidth = rooms.map(\.name.count).max() ?? 0
        if let width { nameWidth = max(8, min(nameWidth, width - rest)) }
        return zip(rooms, counts).map { room, count in
            var name = room.name
            if name.count > nameWidth { name = String(name.prefix(nameWidth - 1)) + "…" }
            let member = room.joined == true ? "member" : "-"
            return pad(name, nameWidth) + "  " + pad(room.visibility ?? "public", 7) + "  " + pad(member, 6) + "  " + count
        }
    }

    /// The terminal's width (TIOCGWINSZ on stdout), 80 when it does not say.
    static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    static var roomsCreate: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms create", synopsis: "konnect rooms create NAME [--private]",
            summary: "create a room (a–z 0–9 _ -, up to 64); --private: only its members see it",
            options: [CommandOption(name: "private", valueName: nil, help: "only members see the room; you add them")],
            examples: ["konnect rooms create ops", "konnect rooms create plans --private && konnect members add plans bob"],
            positionals: 1...1
        )) { arguments, context in
            let room = try context.authenticatedClient().createRoom(arguments.positionals[0], isPrivate: arguments.has("private"))
            if context.json {
                CommandOutput.json(room)
            } else {
                CommandOutput.line("created \(room.visibility == "private" ? "private " : "")room \(room.name)")
            }
            return 0
        }
    }

    static var roomsJoin: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms join", synopsis: "konnect rooms join NAME",
            summary: "become a member of a public room",
            examples: ["konnect rooms join ops"],
            positionals: 1...1
        )) { arguments, context in
            let client = try context.authenticatedClient()
            let room = arguments.positionals[0]
            let added = try client.addMember(room: room, username: client.me().username)
            if !context.json { CommandOutput.line(added ? "joined \(room)" : "already a member of \(room)") }
            return 0
        }
    }

    static var roomsLeave: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "rooms leave", synopsis: "konnect rooms leave NAME",
            summary: "stop being a member of a room (a private one then disappears for you)",
            examples: ["konnect rooms leave ops"],
            positionals: 1...1
        )) { arguments, context in
            let client = try context.authenticatedClient()
            let room = arguments.positionals[0]
            try client.removeMember(room: room, username: client.me().username)
            if !context.json { CommandOutput.line("left \(room)") }
            return 0
        }
    }
}
