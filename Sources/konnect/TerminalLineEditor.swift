// The chat's one-line editor: printable input, backspace, Enter; other threads print above the prompt.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the user did with a line.
enum EditorInput: Equatable {
    case line(String)                     // Enter with this text
    case quit                             // Ctrl-C, Ctrl-D, or end of input
}

/// Draws `prompt + typed text` on the last terminal line. `printAbove` (any thread) clears that line with
/// `\r ESC[2K`, prints the message, and draws the prompt again with what was typed so far, so incoming
/// messages never mangle the input. All writes go through one lock so lines never interleave.
final class TerminalLineEditor: Sendable {
    private struct State {
        var prompt: String
        var typed: [UInt8] = []           // UTF-8 of the line being typed
    }
    private let state: Mutex<State>

    init(prompt: String) {
        state = Mutex(State(prompt: prompt))
    }

    func setPrompt(_ prompt: String) {
        state.withLock { state in
            state.prompt = prompt
            Self.redraw(state)
        }
    }

    /// Prints `text` (may span lines) above the prompt line.
    func printAbove(_ text: String) {
        state.withLock { state in
            let body = text.replacingOccurrences(of: "\n", with: "\r\n")
            Self.emit("\r\u{1b}[2K" + body + "\r\n", typed: [])
            Self.redraw(state)
        }
    }

    /// Reads keys until Enter or a quit key. Blocks the calling thread.
    func readLine() -> EditorInput {
        setPrompt(state.withLock { $0.prompt })
        while true {
            guard let byte = Self.readByte() else { return .quit }
            switch byte {
            case 0x03, 0x04:              // Ctrl-C, Ctrl-D
                state.withLock { _ in Self.emit("\r\n", typed: []) }
                return .quit
            case 0x0D, 0x0A:              // Enter (CR in cbreak without ICRNL; LF from a pasted line)
                let line = state.withLock { state -> String in
                    let line = String(decoding: state.typed, as: UTF8.self)
                    state.typed = []
                    Self.redraw(state)
                    return line
                }
                if !line.isEmpty { return .line(line) }
            case 0x7F, 0x08:              // Backspace (DEL on most terminals, ^H on some)
                state.withLock { state in
                    Self.dropLastCharacter(&state.typed)
                    Self.redraw(state)
                }
            case 0x15:                    // Ctrl-U: clear the line
                state.withLock { state in
                    state.typed = []
                    Self.redraw(state)
                }
            case 0x1B:                    // an escape sequence (arrows, …): read it whole and ignore it
                Self.skipEscapeSequence()
            case 0x20...0x7E, 0x80...0xFF:
                state.withLock { state in
                    state.typed.append(byte)
                    // Echo the key alone while the line fits; past the width, redraw the tail (once the
                    // character is complete, so a multi-byte one is never drawn half).
                    if Self.fits(state) || String(validating: state.typed, as: UTF8.self) == nil {
                        Self.emit("", typed: [byte])
                    } else {
                        Self.redraw(state)
                    }
                }
            default:
                break                     // other control characters are not part of a chat line
            }
        }
    }

    /// Clears the line and draws prompt + input. An input wider than the terminal shows only its end ("…" first):
    /// `ESC[2K` clears one screen row, so the prompt line must never wrap.
    private static func redraw(_ state: State) {
        guard !fits(state) else { return emit("\r\u{1b}[2K" + state.prompt, typed: state.typed) }
        let room = max(columns() - state.prompt.count - 2, 1)
        let tail = String(String(decoding: state.typed, as: UTF8.self).suffix(room))
        emit("\r\u{1b}[2K" + state.prompt + "…" + tail, typed: [])
    }

    private static func fits(_ state: State) -> Bool {
        state.prompt.count + String(decoding: state.typed, as: UTF8.self).count < columns()
    }

    /// The terminal's width (TIOCGWINSZ), 80 when it does not say.
    private static func columns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// Removes the last UTF-8 encoded character (its continuation bytes are 10xxxxxx).
    private static func dropLastCharacter(_ typed: inout [UInt8]) {
        while let last = typed.popLast() {
            if last & 0xC0 != 0x80 { break }
        }
    }

    /// CSI (`ESC [ … final`) and SS3 (`ESC O x`) sequences, ECMA-48 §5.4: the final byte is 0x40–0x7E.
    private static func skipEscapeSequence() {
        guard let kind = readByte() else { return }
        if kind == UInt8(ascii: "O") { _ = readByte(); return }
        guard kind == UInt8(ascii: "[") else { return }
        while let byte = readByte(), !(0x40...0x7E).contains(byte) {}
    }

    private static func readByte() -> UInt8? {
        var byte: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &byte, 1)
            if n == 1 { return byte }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }

    private static func emit(_ text: String, typed: [UInt8]) {
        let bytes = Array(text.utf8) + typed
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
