// `konnect listen`: prints a room's new messages as they arrive, until Ctrl-C.
import Client
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ClientCommand {
    static var listen: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "listen", synopsis: "konnect listen [--from now|start|POS] | [--room R | ROOM] [--after SEQ]",
            summary: "print messages as they arrive (every room, or one), reconnecting after errors; Ctrl-C stops",
            options: [CommandOption(name: "from", valueName: "WHERE",
                                    help: "every room: now, start, or a position; default: where the last run stopped, else now"),
                      CommandOption(name: "room", valueName: "R", help: "only this room; @bob: your direct room with bob"),
                      CommandOption(name: "after", valueName: "SEQ",
                                    help: "with a room: start after this seq (0: everything); default: only new messages")],
            examples: ["konnect listen", "konnect listen --from start", "konnect listen --room ops --after 0", "konnect listen @bob",
                       "konnect listen --json | jq --unbuffered -r '.user + \": \" + .text'"],
            positionals: 0...1
        )) { arguments, context in
            // Ctrl-C is the normal way to stop listening: exit 0. Every message is already written (unbuffered).
            signal(SIGINT) { _ in _exit(0) }
            guard arguments.value("room") != nil || !arguments.positionals.isEmpty else {
                if arguments.value("after") != nil { throw CommandUsageError("--after needs a room; for every room use --from") }
                return try listenToFeed(arguments, context)
            }
            if arguments.value("from") != nil { throw CommandUsageError("--from is for every room; with a room use --after") }
            let room = try context.room(arguments, positional: true)
            let after = try arguments.integer("after", in: 0...Int64.max)
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
