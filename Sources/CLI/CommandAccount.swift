// `konnect register`, `login`, `logout`, `whoami`: accounts and the saved token.
import Client
import Foundation
import HTTP

private let passwordStdin = CommandOption(name: "password-stdin", valueName: nil,
                                          help: "read the password from stdin (first line) instead of the terminal")

extension ClientCommand {
    static var register: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "register", synopsis: "konnect register NAME [--password-stdin]",
            summary: "create an account (asks for the password twice on a terminal)",
            options: [passwordStdin],
            examples: ["konnect register alice", "printf '%s\\n' \"$PASS\" | konnect register alice --password-stdin"],
            positionals: 1...1
        )) { arguments, context in
            let name = arguments.positionals[0]
            let password = try readPassword(arguments, confirm: true)
            let user = try context.anonymousClient().register(username: name, password: password)
            if context.json {
                CommandOutput.json(user: user)
            } else {
                CommandOutput.line("registered \(user.username); log in with: konnect login \(user.username)")
            }
            return 0
        }
    }

    static var login: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "login", synopsis: "konnect login NAME [--password-stdin]",
            summary: "log in and save the token for this server",
            options: [passwordStdin],
            examples: ["konnect login alice", "konnect login alice --password-stdin < pass.txt",
                       "export KONNECT_TOKEN=$(konnect login alice --json --password-stdin < pass.txt | jq -r .token)"],
            positionals: 1...1
        )) { arguments, context in
            let password = try readPassword(arguments, confirm: false)
            let session = try context.anonymousClient().login(username: arguments.positionals[0], password: password)
            try context.credentials.save(Credential(token: session.token, username: session.user.username,
                                                    expiresAt: session.expiresAt), server: context.server)
            if context.json {
                CommandOutput.json(session)
            } else {
                CommandOutput.line("logged in as \(session.user.username) on \(context.server) (until \(session.expiresAt))")
            }
            return 0
        }
    }

    static var logout: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "logout", synopsis: "konnect logout",
            summary: "revoke the token on the server and forget it",
            examples: ["konnect logout", "konnect logout --server http://chat.example:8080"]
        )) { _, context in
            guard context.token != nil else {
                throw CommandFailure("not logged in to \(context.server)")
            }
            var failure: ClientError?
            do {
                try context.authenticatedClient().logout()
            } catch let error as ClientError where error.problem?.status == 401 {
                // Already expired or revoked: forgetting it locally is all that is left to do.
            } catch let error as ClientError {
                failure = error
            }
            // Forget the saved token even if the server could not be told: it must not be used again from here.
            try context.credentials.remove(server: context.server)
            if let failure { throw failure }
            if context.json {
                CommandOutput.line("{\"logged_out\":true,\"server\":\(jsonString(context.server))}")
            } else {
                CommandOutput.line("logged out of \(context.server)")
            }
            return 0
        }
    }

    static var whoami: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "whoami", synopsis: "konnect whoami",
            summary: "show the user the token belongs to",
            examples: ["konnect whoami", "KONNECT_TOKEN=… konnect whoami --json"]
        )) { _, context in
            let user = try context.authenticatedClient().me()
            if context.json {
                CommandOutput.json(user: user)
            } else {
                CommandOutput.line(user.username)
            }
            return 0
        }
    }

    /// The password from stdin (`--password-stdin`: its first line) or typed without echo on the terminal.
    private static func readPassword(_ arguments: ParsedArguments, confirm: Bool) throws -> String {
        if arguments.has("password-stdin") {
            guard let line = TerminalMode.readRawLine() else { throw CommandFailure("no password on stdin") }
            return line
        }
        guard TerminalMode.isTerminal() else {
            throw CommandUsageError("stdin is not a terminal: use --password-stdin to read the password from it")
        }
        guard let password = TerminalMode.readPassword(prompt: "Password: ") else {
            throw CommandFailure("no password given")
        }
        if confirm {
            guard TerminalMode.readPassword(prompt: "Repeat password: ") == password else {
                throw CommandFailure("the passwords do not match")
            }
        }
        return password
    }
}
