// `konnect help` and every command's `--help`: synopsis, options and examples.

/// `konnect --version`: the release and the API contract it serves.
public let konnectVersion = "0.2.0 (HTTP API contract v2)"

public enum CommandHelp {
    /// The list of commands: on stdout for `konnect help`, on stderr when it answers a mistake.
    public static func printOverview(toStandardError: Bool = false) {
        var text = """
        konnect — a group chat over plain HTTP

        usage: konnect COMMAND [OPTIONS]

        Server:
          serve                 run the server (konnect serve --help)
          bench                 load generator and delivery verifier (konnect bench --help)

        Client:

        """
        for command in ClientCommands.all {
            text += "  " + pad(command.spec.name, 22) + command.spec.summary + "\n"
        }
        text += """

        Every client command takes --server URL (env KONNECT_SERVER, default http://127.0.0.1:8080; https:// too),
        --json, --cacert PEM, --insecure and --help. konnect --version prints the version.
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

    /// Every command name `konnect` knows, for suggestions.
    static var commandNames: [String] { ["serve", "bench", "help", "version"] + ClientCommands.all.map(\.spec.name) }

    /// The known command nearest to `typo` (edit distance ≤ 2, or a prefix of one), if any.
    public static func suggestion(for typo: String) -> String? {
        let typed = Array(typo.lowercased())
        guard !typed.isEmpty, !typo.hasPrefix("-") else { return nil }
        let candidates = commandNames.map { name in (name, distance(typed, Array(name.split(separator: " ")[0]))) }
        if let prefixed = commandNames.first(where: { $0.hasPrefix(typo.lowercased()) && typed.count >= 2 }) { return prefixed }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return String(best.0.split(separator: " ")[0])
    }

    /// Levenshtein distance.
    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + "  " : text + String(repeating: " ", count: width - text.count)
    }
}
