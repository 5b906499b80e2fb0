// Entry point: `konnect <command> [options]`. Each command lives in its own file as `run<Command>(arguments:)`.
import CLI
import Bench
import Glibc

let commandLine = CommandLine.arguments
// Client commands (register, send, listen, chat, …) and `konnect help`: CommandDispatch.swift.
if let clientStatus = ClientCommands.run(Array(commandLine.dropFirst())) { exit(clientStatus) }
let rest = Array(commandLine.dropFirst(2))
let status: Int32
switch commandLine.count > 1 ? commandLine[1] : "" {
case "serve":
    status = runServe(arguments: rest)
case "bench":
    status = BenchCommand.run(rest)
case "--version", "-V", "version":
    print("konnect \(konnectVersion)")
    status = 0
case let other:
    // A typo gets the whole list (client commands, serve, bench) and the nearest name.
    CommandOutput.error("unknown command '\(other)'" + (CommandHelp.suggestion(for: other).map { "; did you mean '\($0)'?" } ?? ""))
    CommandHelp.printOverview(toStandardError: true)
    status = 2
}
exit(status)
