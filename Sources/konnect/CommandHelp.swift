// `konnect help` and every command's `--help`: synopsis, options and examples.

enum CommandHelp {
    /// The list of commands: on stdout for `konnect help`, on stderr when it answers a mistake.
    static func printOverview(toStandardError: Bool = false) {
        var text = """
        konnect — a group chat over plain HTTP

        usage: konnect COMMAND [OPTIONS]

        Server:
          serve                 run the server (konnect serve --help)

        Client:

        """
        for command in ClientCommands.all {
            text += "  " + pad(command.spec.name, 22) + command.spec.summary + "\n"
        }
        text += """

        Every client command takes --server URL (env KONNECT_SERVER, default http://127.0.0.1:8080), --json and --help.
        The login token is kept in $XDG_CONFIG_HOME/konnect/credentials.json (mode 0600); KONNECT_TOKEN overrides it.
        Exit status: 0 ok, 1 API or network error, 2 usage error.

        Example:
          konnect register alice && konnect login alice
          echo "hello" | konnect send
          konnect listen --room general
        """
        if toStandardError { CommandOutput.note(text + "\n") } else { CommandOutput.line(text) }
    }

    static func printHelp(_ spec: CommandSpec) {
        var text = "usage: \(spec.synopsis)\n\n\(spec.summary)\n\nOptions:\n"
        for option in spec.allOptions {
            let flag = "--\(option.name)" + (option.valueName.map { " \($0)" } ?? "")
            text += "  " + pad(flag, 22) + option.help + "\n"
        }
        if !spec.examples.isEmpty {
            text += "\nExamples:\n" + spec.examples.map { "  \($0)\n" }.joined()
        }
        CommandOutput.line(text, newline: false)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + "  " : text + String(repeating: " ", count: width - text.count)
    }
}
