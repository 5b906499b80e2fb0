// Entry point for the client subcommands: finds the command, parses its flags, maps failures to exit codes.
import Client
import Foundation

/// A client subcommand: what it accepts, and what it does (returns the exit status).
struct ClientCommand {
    var spec: CommandSpec
    var run: (ParsedArguments, CommandContext) throws -> Int32
}

/// The client side of `konnect`. `main.swift` asks it first; `nil` means "not a client command" (e.g. `serve`).
enum ClientCommands {
    static var all: [ClientCommand] {
        [.register, .login, .logout, .whoami, .send, .history, .listen, .chat, .rooms, .roomsCreate]
    }

    /// Exit status for `konnect <arguments…>` (arguments without the program name), or nil when the first
    /// argument names no client command.
    static func run(_ arguments: [String]) -> Int32? {
        guard let name = arguments.first else {
            CommandHelp.printOverview()
            return 2
        }
        if name == "help" || name == "--help" || name == "-h" {
            if arguments.count > 1, let command = find(Array(arguments.dropFirst())) {
                CommandHelp.printHelp(command.command.spec)
            } else {
                CommandHelp.printOverview()
            }
            return 0
        }
        guard let (command, rest) = find(arguments) else { return nil }
        return execute(command, rest)
    }

    /// Matches `rooms create` before `rooms`.
    private static func find(_ arguments: [String]) -> (command: ClientCommand, rest: [String])? {
        if arguments.count >= 2, let command = all.first(where: { $0.spec.name == "\(arguments[0]) \(arguments[1])" }) {
            return (command, Array(arguments.dropFirst(2)))
        }
        if let command = all.first(where: { $0.spec.name == arguments[0] }) {
            return (command, Array(arguments.dropFirst()))
        }
        return nil
    }

    private static func execute(_ command: ClientCommand, _ arguments: [String]) -> Int32 {
        do {
            let parsed = try CommandFlags.parse(arguments, spec: command.spec)
            if parsed.has("help") {
                CommandHelp.printHelp(command.spec)
                return 0
            }
            return try command.run(parsed, CommandContext(arguments: parsed))
        } catch let error as UsageError {
            CommandOutput.error(error.message)
            CommandOutput.note("usage: \(command.spec.synopsis)\nTry 'konnect \(command.spec.name) --help'.\n")
            return 2
        } catch let error as CommandFailure {
            CommandOutput.error(error.message)
            return 1
        } catch let error as ClientError {
            CommandOutput.error(error.description)
            return 1
        } catch {
            CommandOutput.error(String(describing: error))
            return 1
        }
    }
}
