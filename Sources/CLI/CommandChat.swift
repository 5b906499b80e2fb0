// `konnect chat`: interactive chat in the terminal; incoming messages appear above the line being typed.
import Client
import Foundation
import Synchronization

extension ClientCommand {
    static var chat: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "chat", synopsis: "konnect chat [--room R | ROOM]",
            summary: "chat interactively: recent history, then live messages while you type (/help inside)",
            options: [CommandOption(name: "room", valueName: "R",
                                    help: "the room to start in (default general); @bob: your direct room with bob")],
            examples: ["konnect chat", "konnect chat --room ops", "konnect chat @bob",
                       "printf 'hello\\n/quit\\n' | konnect chat   # not a terminal: plain line mode"],
            positionals: 0...1
        )) { arguments, context in
            try CommandChatSession(context: context, room: context.room(arguments, positional: true)).run()
        }
    }
}

/// One chat session. The main thread reads and sends lines; one listener thread per joined room prints what
/// arrives. Switching rooms bumps `generation`, which retires the old listener after its current poll.
final class CommandChatSession: Sendable {
    static let historyCount = 20
    static let helpText = """
        /room NAME   switch to room NAME
        /rooms       list the rooms
        /help        show this help
        /quit        leave (also Ctrl-C, or Ctrl-D on an empty line)
        keys         ←/→ Home/End (Ctrl-A/E) move; Backspace/Delete anywhere; ↑/↓ the lines you sent;
                     Ctrl-U/Ctrl-K clear before/after the cursor; Ctrl-W deletes a word
        """

    private let context: CommandContext
    private let interactive: Bool                  // a terminal on both ends: cbreak mode and the line editor
    private let editor: TerminalLineEditor
    private let current: Mutex<(room: String, generation: Int)>

    init(context: CommandContext, room: String) {
        self.context = context
        interactive = TerminalMode.isTerminal(0) && TerminalMode.isTerminal(1)
        editor = TerminalLineEditor(prompt: "[\(room)] ")
        current = Mutex((room: room, generation: 0))
    }

    func run() throws -> Int32 {
        let client = try context.authenticatedClient(timeout: 15)
        let user = try client.me()
        let room = current.withLock { $0.room }
        guard try join(room, client: client) else { return 1 }
        if interactive {
            TerminalMode.enterCbreak()
        }
        defer {
            if interactive {
                editor.finish()          // the shell's prompt comes back on a clean line (issue 12)
                TerminalMode.restore()
            }
        }
        show("logged in as \(user.username) — /help for commands, Ctrl-D to leave")
        while case .line(let line) = readInput() {
            if line.hasPrefix("/") {
                if try !command(line, client: client) { break }
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                send(line, client: client)
            }
        }
        return 0
    }

    /// Handles a `/command`; false means leave.
    private func command(_ line: String, client: KonnectClient) throws -> Bool {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch words[0] {
        case "/quit", "/exit":
            return false
        case "/help":
            show(Self.helpText)
        case "/room" where words.count == 2:
            _ = try join(words[1], client: client)
        case "/rooms":
            let rooms = try? client.rooms()
            show(rooms.map { $0.map(\.name).joined(separator: " ") } ?? "could not list the rooms")
        default:
            show("unknown command \(words[0]) — /help lists them")
        }
        return true
    }

    /// Shows the room's last messages and starts following it. False (with a note) when the room cannot be read.
    private func join(_ room: String, client: KonnectClient) throws -> Bool {
        let page: APIPage
        do {
            page = try client.history(room: room, limit: Self.historyCount)
        } catch let error as ClientError {
            // At the start there is nothing to fall back to: fail the command (exit 1). Later, stay where we are.
            guard current.withLock({ $0.generation }) > 0 else { throw error }
            show("cannot join \(room): \(error.description)")
            return false
        }
        let generation = current.withLock { state -> Int in
            state = (room: room, generation: state.generation + 1)
            return state.generation
        }
        if interactive { editor.setPrompt("[\(room)] ") }
        show("— \(room) —")
        for message in page.messages { showMessage(message) }
        startListener(room: room, after: page.lastSeq, generation: generation)
        return true
    }

    private func startListener(room: String, after: Int64, generation: Int) {
        let thread = Thread { [self] in
            let follower = CommandFollower(room: room, after: after) { try self.context.authenticatedClient(timeout: 45) }
            let retired = { self.current.withLock { $0.generation } != generation }
            do {
                try follower.run(shouldStop: retired, onStatus: { self.show($0) }, onMessage: { self.showMessage($0) })
            } catch {
                if !retired() { self.show("stopped following \(room): \(error)") }
            }
        }
        thread.start()
    }

    private func send(_ text: String, client: KonnectClient) {
        let room = current.withLock { $0.room }
        do {
            // Our own line comes back through the listener, in seq order with everyone else's.
            _ = try ClientCommand.postWithRetries(client, room: room, text: text, clientID: UUID().uuidString.lowercased())
        } catch {
            show("not sent: \(error)")
        }
    }

    private func readInput() -> EditorInput {
        if interactive { return editor.readLine() }
        return TerminalMode.readRawLine().map { .line($0) } ?? .quit
    }

    private func showMessage(_ message: APIMessage) {
        if context.json && !interactive {
            CommandOutput.json(message)
        } else {
            show(CommandOutput.human(message))
        }
    }

    private func show(_ text: String) {
        if interactive { editor.printAbove(text) } else { CommandOutput.line(text) }
    }
}
