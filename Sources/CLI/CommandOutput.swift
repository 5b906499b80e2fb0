// Printing for the client commands: human lines (local time, user, text) or one JSON object per line.
import Client
import Foundation
import HTTP
#if canImport(Glibc)
import Glibc
#endif

public enum CommandOutput {
    /// Writes one line to stdout and flushes it, so a pipe (`konnect listen | grep`) sees each message at once.
    static func line(_ text: String, newline: Bool = true) {
        FileHandle.standardOutput.write(Data((newline ? text + "\n" : text).utf8))
    }

    /// Writes `konnect: <text>` to stderr.
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data("konnect: \(text)\n".utf8))
    }

    /// Writes to stderr as is (prompts, notes).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func json(_ value: JSONLine) {
        line(value.jsonLine)
    }

    /// A membership change: with --json `{"room","username","member","changed"}` (so every command prints
    /// something a script can read), else `human`.
    static func membership(room: String, username: String, member: Bool, changed: Bool, json: Bool, human: String) {
        guard json else { return line(human) }
        line("{\"room\":\(jsonString(room)),\"username\":\(jsonString(username)),\"member\":\(member),\"changed\":\(changed)}")
    }

    /// `{"user":{…}}`, as `POST /register` and `GET /me` answer.
    static func json(user: APIUser) {
        line("{\"user\":\(user.jsonLine)}")
    }

    /// `HH:MM user: text` in local time, `YYYY-MM-DD HH:MM user: text` when not today. Multi-line texts are
    /// indented so each message stays one visual block.
    static func human(_ message: APIMessage, now: Date = Date()) -> String {
        let text = message.text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: "\n      ")
        let body = ([text].filter { !$0.isEmpty } + message.files.map(fileLabel)).joined(separator: " ")
        return "\(timeLabel(message.date, now: now)) \(message.user): \(body)"
    }

    /// `[file: cat.png (48.2 KB) 3f2a…]`: what `history`, `listen` and `chat` show for an attached file.
    static func fileLabel(_ file: APIFile) -> String {
        "[file: \(file.name.isEmpty ? "(no name)" : file.name) (\(byteCount(file.size))) \(file.id)]"
    }

    static func byteCount(_ n: Int64) -> String {
        if n < 1000 { return "\(n) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(n) / 1000
        var unit = 0
        while value >= 999.95 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return String(format: "%.1f %@", value, units[unit])
    }

    static func timeLabel(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "--:--" }
        let calendar = Calendar.current
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = calendar.isDate(date, inSameDayAs: now) ? "HH:mm" : "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// A message as `--json` or human output asks.
    static func message(_ message: APIMessage, json: Bool) {
        if json { self.json(message) } else { line(human(message)) }
    }
}
