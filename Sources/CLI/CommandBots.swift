// `konnect bots`, `bots create NAME`, `bots token NAME`, `bots delete NAME` (../shared/API.md "Bots").
import Client

extension ClientCommand {
    static var botsList: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "bots", synopsis: "konnect bots",
            summary: "list your bots",
            examples: ["konnect bots", "konnect bots --json"]
        )) { _, context in
            for bot in try context.authenticatedClient().bots() {
                if context.json { CommandOutput.json(bot) } else { CommandOutput.line("\(bot.username)  created \(bot.createdAt)") }
            }
            return 0
        }
    }

    static var botsCreate: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "bots create", synopsis: "konnect bots create NAME",
            summary: "create a bot you own; prints its token once (it does not expire)",
            examples: ["konnect bots create echo", "TOKEN=$(konnect bots create echo --json | jq -r .token)"],
            positionals: 1...1
        )) { arguments, context in
            let made = try context.authenticatedClient().createBot(arguments.positionals[0])
            printCredentials(made, context, verb: "created bot")
            return 0
        }
    }

    static var botsToken: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "bots token", synopsis: "konnect bots token NAME",
            summary: "give a bot a new token; the old one stops working at once",
            examples: ["konnect bots token echo"],
            positionals: 1...1
        )) { arguments, context in
            let made = try context.authenticatedClient().rotateBotToken(arguments.positionals[0])
            printCredentials(made, context, verb: "new token for bot")
            return 0
        }
    }

    static var botsDelete: ClientCommand {
        ClientCommand(spec: CommandSpec(
            name: "bots delete", synopsis: "konnect bots delete NAME",
            summary: "delete a bot: its tokens stop working, its messages stay",
            examples: ["konnect bots delete echo"],
            positionals: 1...1
        )) { arguments, context in
            try context.authenticatedClient().deleteBot(arguments.positionals[0])
            if !context.json { CommandOutput.line("deleted bot \(arguments.positionals[0])") }
            return 0
        }
    }

    /// The token on stdout alone (so `$(konnect bots create echo)` is the token); the note on stderr.
    private static func printCredentials(_ made: APIBotCredentials, _ context: CommandContext, verb: String) {
        if context.json { return CommandOutput.json(made) }
        CommandOutput.error("\(verb) \(made.bot.username); its token (shown once, it does not expire):")
        CommandOutput.line(made.token)
    }
}
