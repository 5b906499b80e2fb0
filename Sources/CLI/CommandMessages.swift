// `konnect send` and `konnect history`: posting with safe retries, and reading pages of a room.
import Client
import Foundation

private let roomOption = CommandOption(name: "room", valueName: "R",
                                       help: "the room (default general); @bob is your direct room with bob")

extension ClientCommand {
    static var send: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "send", synopsis: "konnect send [--room R | @USER] [--client-id ID] [TEXT…]",
            summary: "post a message (the arguments joined by spaces, or stdin); a first word @USER sends to USER",
            options: [roomOption,
                      CommandOption(name: "client-id", valueName: "ID",
                                    help: "idempotency key; a repeat with the same ID posts nothing new (default: random)")],
            examples: ["konnect send hello everyone", "echo 'build finished' | konnect send --room ci", "konnect send @bob hi",
                       "konnect send --client-id deploy-42 --json 'deploy 42 done'"],
            positionals: 0...Int.max
        )) { arguments, context in
            var arguments = arguments
            var room = try context.room(arguments)
            // `konnect send @bob hi`: a first word naming a user is the direct room with them.
            if arguments.value("room") == nil, let first = arguments.positionals.first, first.hasPrefix("@") {
                room = first
                arguments.positionals.removeFirst()
            }
            let text: String
            if arguments.positionals.isEmpty {
                if TerminalMode.isTerminal() { CommandOutput.note("type the message, then Ctrl-D on a new line\n") }
                text = readAllStdin()
            } else {
                text = arguments.positionals.joined(separator: " ")
            }
            let clientID = arguments.value("client-id") ?? UUID().uuidString.lowercased()
            let client = try context.authenticatedClient(timeout: 15)
            let message = try postWithRetries(client, room: room, text: text, clientID: clientID)
            CommandOutput.message(message, json: context.json)
            return 0
        }
    }

    static var history: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "history", synopsis: "konnect history [--room R | ROOM] [--limit N] [--before SEQ | --after SEQ]",
            summary: "show a room's messages: the newest, or a page before or after a seq",
            options: [roomOption,
                      CommandOption(name: "limit", valueName: "N", help: "how many, 1–200 (default 50)"),
                      CommandOption(name: "before", valueName: "SEQ", help: "the newest N with seq < SEQ"),
                      CommandOption(name: "after", valueName: "SEQ", help: "the oldest N with seq > SEQ")],
            examples: ["konnect history", "konnect history --room ops --limit 10", "konnect history @bob",
                       "konnect history --after 0 --limit 200 --json | jq -r .text"],
            positionals: 0...1
        )) { arguments, context in
            let limit = try arguments.integer("limit", in: 1...200)
            let before = try arguments.integer("before", in: 1...Int64.max)
            let after = try arguments.integer("after", in: 0...Int64.max)
            if before != nil && after != nil { throw CommandUsageError("give at most one of --before and --after") }
            let page = try context.authenticatedClient().history(room: context.room(arguments, positional: true), limit: limit.map { Int($0) },
                                                                  before: before, after: after)
            for message in page.messages { CommandOutput.message(message, json: context.json) }
            // Said on stderr, so `--json` output stays one message per line (and empty here).
            if page.messages.isEmpty {
                CommandOutput.note("no messages in \(page.room)" + (before != nil || after != nil ? " on that page" : " yet") + "\n")
            }
            return 0
        }
    }

    /// Posts, retrying network failures and 502/503/504 a few times (0.25 s doubling) with the same client id:
    /// the server answers a repeat with the original message, so a retry never duplicates (API.md `POST /messages`).
    static func postWithRetries(_ client: KonnectClient, room: String, text: String, clientID: String,
                                attempts: Int = 5) throws -> APIMessage {
        var delay = 0.25
        for attempt in 1... {
            do {
                return try client.post(room: room, text: text, clientID: clientID)
            } catch let error as ClientError where error.isTransient && attempt < attempts {
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 4)
            }
        }
        fatalError("unreachable: the last attempt returns or throws")
    }

    /// All of stdin as the message text, less one trailing newline (what `echo` adds).
    private static func readAllStdin() -> String {
        var text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
