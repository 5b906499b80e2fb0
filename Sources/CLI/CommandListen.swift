// `konnect listen`: prints a room's new messages as they arrive, until Ctrl-C.
import Client
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ClientCommand {
    static var listen: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "listen", synopsis: "konnect listen [--room R | ROOM] [--after SEQ]",
            summary: "print messages as they arrive (long-poll), reconnecting after errors; Ctrl-C stops",
            options: [CommandOption(name: "room", valueName: "R", help: "the room (default general); @bob: your direct room with bob"),
                      CommandOption(name: "after", valueName: "SEQ",
                                    help: "start after this seq (0: everything); default: only new messages")],
            examples: ["konnect listen", "konnect listen --room ops --after 0", "konnect listen @bob",
                       "konnect listen --json | jq --unbuffered -r '.user + \": \" + .text'"],
            positionals: 0...1
        )) { arguments, context in
            let room = try context.room(arguments, positional: true)
            let after = try arguments.integer("after", in: 0...Int64.max)
            // Ctrl-C is the normal way to stop listening: exit 0. Every message is already written (unbuffered).
            signal(SIGINT) { _ in _exit(0) }
            let start = try after ?? CommandFollower.currentLastSeq(context.authenticatedClient(timeout: 15), room: room)
            // On stderr, so stdout stays exactly one message per line; also tells scripts when it is ready.
            CommandOutput.error("listening to \(room) after #\(start); Ctrl-C to stop")
            let follower = CommandFollower(room: room, after: start) { try context.authenticatedClient(timeout: 45) }
            try follower.run(shouldStop: { false },
                             onStatus: { CommandOutput.error($0) },
                             onMessage: { CommandOutput.message($0, json: context.json) })
            return 0
        }
    }
}
