// A small hand-written command-line parser for `konnect serve` and `konnect bench` (the client commands use
// CommandFlags): `--name value`, `--name=value`, boolean `--flag`, positionals.
import Glibc

/// A usage mistake: printed with the command's usage, exit status 2.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Parsed arguments of one subcommand. Unknown flags are usage errors.
public struct Arguments {
    public private(set) var values: [String: String] = [:]
    public private(set) var switches: Set<String> = []
    public private(set) var positional: [String] = []

    /// `valueFlags` take a value, `switchFlags` do not (names without the leading dashes).
    public init(_ arguments: [String], valueFlags: Set<String>, switchFlags: Set<String> = ["help"]) throws {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            guard arg.hasPrefix("--"), arg.count > 2 else {
                if arg == "-h" { switches.insert("help") } else { positional.append(arg) }
                continue
            }
            var name = String(arg.dropFirst(2))
            var inline: String? = nil
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if switchFlags.contains(name) {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
            } else if valueFlags.contains(name) {
                if let inline {
                    values[name] = inline
                } else {
                    guard i < arguments.count else { throw UsageError("--\(name) needs a value") }
                    values[name] = arguments[i]
                    i += 1
                }
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    public func has(_ name: String) -> Bool { switches.contains(name) }

    public func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }

    public func int(_ name: String, _ fallback: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
        }
        return v
    }

    /// A rate per second: a finite number ≥ 0 (0 usually means "off").
    public func rate(_ name: String, _ fallback: Double) throws -> Double {
        guard let text = values[name] else { return fallback }
        guard let v = Double(text), v >= 0, v.isFinite else { throw UsageError("--\(name) must be a number ≥ 0 per second, got '\(text)'") }
        return v
    }

    public func seconds(_ name: String, _ fallback: Double) throws -> Double {
        guard let text = values[name] else { return fallback }
        guard let v = Double(text), v > 0, v.isFinite else { throw UsageError("--\(name) must be a positive number of seconds, got '\(text)'") }
        return v
    }
}

/// Writes a line to stderr (unbuffered, whole lines, safe from any thread).
public func printError(_ line: String) {
    var text = line
    text.append("\n")
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }   // one write: lines from loops never interleave
}
