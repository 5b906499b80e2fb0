// A small command-line flag parser: `--name value`, `--name=value`, boolean `--name`, `--` and positionals.

/// A mistake in how a command was called: printed with the command's usage, exit status 2.
struct CommandUsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// One option a command accepts.
struct CommandOption {
    var name: String                      // long name without dashes: "room"
    var valueName: String?                // "R" for `--room R`; nil for a boolean flag
    var help: String
}

/// What a command accepts and how it explains itself in `--help`.
struct CommandSpec {
    var name: String                      // "send", or "rooms create"
    var synopsis: String                  // "konnect send [--room R] [TEXT…]"
    var summary: String                   // one line for `konnect help`
    var options: [CommandOption] = []
    var examples: [String] = []
    var positionals: ClosedRange<Int> = 0...0   // how many positional arguments are allowed

    /// Options every command takes (../shared/API.md is reached through --server; --json for scripts).
    static let common: [CommandOption] = [
        CommandOption(name: "server", valueName: "URL", help: "server to talk to (env KONNECT_SERVER, default http://127.0.0.1:8080)"),
        CommandOption(name: "json", valueName: nil, help: "print one JSON object per line"),
        CommandOption(name: "cacert", valueName: "PEM", help: "for https: trust the CA certificates in this file instead of the system's"),
        CommandOption(name: "insecure", valueName: nil, help: "for https: skip certificate and host name checks (tests only)"),
        CommandOption(name: "help", valueName: nil, help: "show this help (also -h)"),
    ]

    var allOptions: [CommandOption] { options + Self.common }
}

/// The parsed command line of one command.
struct ParsedArguments {
    var values: [String: String] = [:]    // options that take a value (the last one given wins)
    var flags: Set<String> = []           // boolean options given
    var positionals: [String] = []

    func has(_ flag: String) -> Bool { flags.contains(flag) }
    func value(_ name: String) -> String? { values[name] }

    /// An integer option within `range`, or a usage error naming the option.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let text = values[name] else { return nil }
        guard let number = Int64(text), range.contains(number) else {
            throw CommandUsageError("--\(name) needs a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }
}

enum CommandFlags {
    /// Parses `arguments` (after the command name) against `spec`. `--help`/`-h` is reported as the flag "help"
    /// and skips the positional count check, so help always works.
    static func parse(_ arguments: [String], spec: CommandSpec) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        let options = spec.allOptions
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            if argument == "-h" { parsed.flags.insert("help"); continue }
            guard argument.hasPrefix("--") else { throw CommandUsageError("unknown option '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw CommandUsageError("unknown option '--\(name)'")
            }
            if let valueName = option.valueName {
                if let inlineValue {
                    parsed.values[name] = inlineValue
                } else if index < arguments.count {
                    parsed.values[name] = arguments[index]
                    index += 1
                } else {
                    throw CommandUsageError("--\(name) needs a value (\(valueName))")
                }
            } else {
                guard inlineValue == nil else { throw CommandUsageError("--\(name) takes no value") }
                parsed.flags.insert(name)
            }
        }
        if parsed.has("help") { return parsed }
        if parsed.positionals.count < spec.positionals.lowerBound {
            throw CommandUsageError("missing argument")
        }
        if parsed.positionals.count > spec.positionals.upperBound {
            throw CommandUsageError("unexpected argument '\(parsed.positionals[spec.positionals.upperBound])'")
        }
        return parsed
    }
}
