// `konnect send` and `konnect history`: posting with safe retries, and reading pages of a room.
import Client
import Foundation

private let roomOption = CommandOption(name: "room", valueName: "R",
                                       help: "the room (default general); @bob is your direct room with bob")

extension ClientCommand {
    static var send: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "send", synopsis: "konnect send [--room R | @USER] [--client-id ID] [--file PATH]… [TEXT…]",
            summary: "post a message (the arguments joined by spaces, or stdin); a first word @USER sends to USER",
            options: [roomOption,
                      CommandOption(name: "client-id", valueName: "ID",
                                    help: "idempotency key; a repeat with the same ID posts nothing new (default: random)"),
                      CommandOption(name: "file", valueName: "PATH",
                                    help: "attach a file (repeatable, at most 10); the text may then be empty")],
            examples: ["konnect send hello everyone", "echo 'build finished' | konnect send --room ci", "konnect send @bob hi",
                       "konnect send --client-id deploy-42 --json 'deploy 42 done'",
                       "konnect send --file cat.png --file notes.pdf 'look at these'"],
            positionals: 0...Int.max
        )) { arguments, context in
            var arguments = arguments
            var room = try context.room(arguments)
            // `konnect send @bob hi`: a first word naming a user is the direct room with them.
            if arguments.value("room") == nil, let first = arguments.positionals.first, first.hasPrefix("@") {
                room = first
                arguments.positionals.removeFirst()
            }
            let paths = arguments.repeated["file"] ?? []
            if paths.count > 10 { throw CommandUsageError("at most 10 files per message") }
            var uploads: [(name: String, bytes: [UInt8])] = []
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw CommandUsageError("cannot read the file '\(path)'")
                }
                uploads.append(((path as NSString).lastPathComponent, Array(data)))
            }
            let text: String
            if arguments.positionals.isEmpty && !uploads.isEmpty {
                text = ""
            } else if arguments.positionals.isEmpty {
                if TerminalMode.isTerminal() { CommandOutput.note("type the message, then Ctrl-D on a new line\n") }
                text = readAllStdin()
            } else {
                text = arguments.positionals.joined(separator: " ")
            }
            let clientID = arguments.value("client-id") ?? UUID().uuidString.lowercased()
            let client = try context.authenticatedClient(timeout: 60)
            var fileIDs: [String] = []
            for upload in uploads { fileIDs.append(try client.upload(name: upload.name, bytes: upload.bytes).id) }
            let message = try postWithRetries(client, room: room, text: text, clientID: clientID, files: fileIDs)
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
                                files: [String] = [], attempts: Int = 5) throws -> APIMessage {
        var delay = 0.25
        for attempt in 1... {
            do {
                return try client.post(room: room, text: text, clientID: clientID, files: files)
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

    static var download: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "download", synopsis: "konnect download ID [-o PATH]",
            summary: "save a file posted in a room you can read (default: its own name here; -o - for stdout)",
            options: [CommandOption(name: "output", valueName: "PATH", help: "where to write it (also -o); - is stdout")],
            examples: ["konnect download 3f2a9c1e0b7d4e5f8a6b1c2d3e4f5a6b", "konnect download 3f2a… -o cat.png",
                       "konnect download 3f2a… -o - | file -"],
            positionals: 1...1
        )) { arguments, context in
            let id = arguments.positionals[0]
            let (bytes, name) = try context.authenticatedClient(timeout: 60).download(id: id)
            let output = arguments.value("output")
            if output == "-" {
                FileHandle.standardOutput.write(Data(bytes))
                return 0
            }
            // The server's name is only a suggestion: its last path component, never a hidden or empty one.
            var path = output ?? (name.map { ($0 as NSString).lastPathComponent } ?? id)
            if output == nil && (path.isEmpty || path.hasPrefix(".")) { path = id }
            if output == nil && FileManager.default.fileExists(atPath: path) {
                throw CommandUsageError("'\(path)' exists; choose another name with -o PATH")
            }
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CommandUsageError("cannot write '\(path)'")
            }
            CommandOutput.note("saved \(path) (\(CommandOutput.byteCount(Int64(bytes.count))))\n")
            return 0
        }
    }
}
