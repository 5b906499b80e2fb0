// Printing for the client commands: human lines (local time, user, text) or one JSON object per line.
import Client
import Foundation
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

    /// `{"user":{…}}`, as `POST /register` and `GET /me` answer.
    static func json(user: APIUser) {
        line("{\"user\":\(user.jsonLine)}")
    }

    /// `HH:MM user: text` in local time, `YYYY-MM-DD HH:MM user: text` when not today. Multi-line texts are
    /// indented so each message stays one visual block.
    static func human(_ message: APIMessage, now: Date = Date()) -> String {
        let text = message.text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: "\n      ")
        return "\(timeLabel(message.date, now: now)) \(message.user): \(text)"
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
