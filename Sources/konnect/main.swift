// Entry point: `konnect <command> [options]`. Each command lives in its own file as `run<Command>(arguments:)`.
import Glibc

let topUsage = """
usage: konnect <command> [options]

commands:
  serve     run the chat server (konnect serve --help)
"""

let commandLine = CommandLine.arguments
// Client commands (register, send, listen, chat, …) and `konnect help`: CommandDispatch.swift.
if let clientStatus = ClientCommands.run(Array(commandLine.dropFirst())) { exit(clientStatus) }
let rest = Array(commandLine.dropFirst(2))
let status: Int32
switch commandLine.count > 1 ? commandLine[1] : "" {
case "serve":
    status = runServe(arguments: rest)
case "--help", "-h", "help":
    print(topUsage)
    status = 0
case "":
    printError(topUsage)
    status = 2
case let other:
    printError("konnect: unknown command '\(other)'")
    printError(topUsage)
    status = 2
}
exit(status)
