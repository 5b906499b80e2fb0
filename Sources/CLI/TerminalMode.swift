// Terminal modes over termios: no-echo password entry and the chat's cbreak mode, always restored on exit.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Saved settings for the signal handler: it may only touch plain globals and async-signal-safe calls.
nonisolated(unsafe) private var savedSettings = termios()
nonisolated(unsafe) private var hasSavedSettings = false

/// Switches stdin's terminal between modes and puts it back, also when a signal ends the process.
enum TerminalMode {
    static func isTerminal(_ fd: Int32 = STDIN_FILENO) -> Bool { isatty(fd) == 1 }

    /// Turns off echo (and keeps line editing) for a password; `restore()` undoes it.
    static func disableEcho() {
        change { settings in
            settings.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        }
    }

    /// Cbreak for the chat's own line editor: bytes arrive one by one, unechoed; Ctrl-C and Ctrl-D come in as
    /// bytes (no ISIG) so the editor can quit tidily. Output processing stays on, so "\n" still starts a new line.
    static func enterCbreak() {
        change { settings in
            settings.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
            settings.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR | ISTRIP)
            withUnsafeMutableBytes(of: &settings.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
        }
    }

    /// Puts back the settings saved by the first change (safe to call more than once).
    static func restore() {
        guard hasSavedSettings else { return }
        _ = tcsetattr(STDIN_FILENO, TCSADRAIN, &savedSettings)
        hasSavedSettings = false
    }

    private static func change(_ edit: (inout termios) -> Void) {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
        if !hasSavedSettings {
            savedSettings = settings
            hasSavedSettings = true
            installSignalHandlers()
        }
        edit(&settings)
        // TCSANOW, not TCSAFLUSH: keys typed before the switch (a fast typist, a pasted password) are kept.
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }

    /// A signal that ends us must not leave the user's terminal without echo: restore, then exit as the signal
    /// would have (128 + n). SIGINT counts as a normal way out (status 130 like a shell).
    private static func installSignalHandlers() {
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if hasSavedSettings { _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedSettings) }
                _ = write(STDOUT_FILENO, "\r\n", 2)
                _exit(128 + number)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// Reads one line from stdin byte by byte (no stdio buffering, so nothing after it is swallowed);
    /// nil at end of input with nothing read.
    static func readRawLine() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Prompts on stderr and reads a password from the terminal without echo.
    static func readPassword(prompt: String) -> String? {
        disableEcho()   // before the prompt: whatever is typed once it shows must not be echoed
        CommandOutput.note(prompt)
        defer {
            restore()
            CommandOutput.note("\n")   // the Enter was not echoed
        }
        return readRawLine()
    }
}
