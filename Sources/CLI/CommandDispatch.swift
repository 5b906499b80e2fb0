// Entry point for the client subcommands: finds the command, parses its flags, maps failures to exit codes.
import Client
import Foundation

/// A client subcommand: what it accepts, and what it does (returns the exit status).
struct ClientCommand {
    var spec: CommandSpec
    var run: (ParsedArguments, CommandContext) throws -> Int32
}

/// The client side of `konnect`. `main.swift` asks it first; `nil` means "not a client command" (e.g. `serve`).
public enum ClientCommands {
    static var all: [ClientCommand] {
        [.register, .login, .logout, .whoami, .send, .history, .listen, .chat, .rooms, .roomsCreate, .roomsJoin,
         .roomsLeave, .members, .membersAdd, .membersRemove]
    }

    /// Exit status for `konnect <arguments…>` (arguments without the program name), or nil when the first
    /// argument names no client command.
    public static func run(_ commandLine: [String]) -> Int32? {
        let arguments = commandFirst(commandLine)
        guard let name = arguments.first else {
            CommandHelp.printOverview(toStandardError: true)
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

    /// `konnect --server URL send hi` means `konnect send hi --server URL`: common options may come first.
    private static func commandFirst(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" || argument == "--insecure" || argument.hasPrefix("--server=") || argument.hasPrefix("--cacert=") {
                leading.append(argument)
                index += 1
            } else if argument == "--server" || argument == "--cacert", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        var rest = Array(arguments[index...])
        let nameLength = rest.count >= 2 && all.contains { $0.spec.name == "\(rest[0]) \(rest[1])" } ? 2 : 1
        rest.insert(contentsOf: leading, at: nameLength)
        return rest
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
        } catch let error as CommandUsageError {
            CommandOutput.error(error.message)
            CommandOutput.note("usage: \(command.spec.synopsis)\nTry 'konnect \(command.spec.name) --help'.\n")
            return 2
        } catch let error as CommandFailure {
            CommandOutput.error(error.message)
            return 1
        } catch let error as ClientError {
            var message = error.description
            if let problem = error.problem, problem.status == 401, problem.code != "invalid_credentials" {
                message += " (log in again: konnect login NAME)"
            }
            CommandOutput.error(message)
            return 1
        } catch {
            CommandOutput.error(String(describing: error))
            return 1
        }
    }
}
