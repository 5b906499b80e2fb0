// The chat's line editor: a cursor that moves (←/→, Home/End, Ctrl-A/E), Backspace and Delete anywhere, ↑/↓ through
// the lines sent, widths counted in terminal columns; other threads print above the prompt.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the user did with a line.
enum EditorInput: Equatable {
    case line(String)                     // Enter with this text
    case quit                             // Ctrl-C, Ctrl-D on an empty line, or end of input
}

/// A key, decoded from the terminal's bytes (ECMA-48 CSI/SS3 sequences for the editing keys).
enum EditorKey: Equatable {
    case text(Unicode.Scalar), enter, backspace, delete, left, right, home, end, up, down
    case clearBefore, clearAfter, deleteWord, interrupt, endOfInput, ignored
}

/// Draws `prompt + line` on the last terminal row, never wider than the terminal: a long line scrolls sideways
/// around the cursor ("…" marks the hidden part). `printAbove` (any thread) clears that row, prints, and draws the
/// prompt again with the line as typed, so incoming messages never mangle the input. One lock for all writes.
final class TerminalLineEditor: Sendable {
    private struct State {
        var prompt: String
        var line = EditorLine()
        var history: [String] = []        // lines entered, oldest first
        var recalled: Int?                // index into history while browsing with ↑/↓
        var draft: [Character] = []       // the unsent line, kept while browsing
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
            Self.emit("\r\u{1b}[2K" + text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")
            Self.redraw(state)
        }
    }

    /// Clears the prompt row for good: whatever prints next (the shell's prompt) starts on a clean line.
    func finish() {
        state.withLock { _ in Self.emit("\r\u{1b}[2K") }
    }

    /// Reads keys until Enter or a quit key. Blocks the calling thread.
    func readLine() -> EditorInput {
        setPrompt(state.withLock { $0.prompt })
        var decoder = KeyDecoder()
        while true {
            guard let key = decoder.next(Self.readByte) else { finish(); return .quit }
            if let input = state.withLock({ Self.apply(key, to: &$0) }) {
                if input == .quit { finish() }
                return input
            }
        }
    }

    /// One key's effect; an input when the line is done.
    private static func apply(_ key: EditorKey, to state: inout State) -> EditorInput? {
        switch key {
        case .text(let scalar): state.line.insert(scalar)
        case .backspace: state.line.deleteBackward()
        case .delete: state.line.deleteForward()
        case .left: state.line.move(by: -1)
        case .right: state.line.move(by: 1)
        case .home: state.line.cursor = 0
        case .end: state.line.cursor = state.line.characters.count
        case .clearBefore: state.line.deleteToStart()
        case .clearAfter: state.line.deleteToEnd()
        case .deleteWord: state.line.deleteWordBackward()
        case .up, .down: recall(key == .up ? -1 : 1, &state)
        case .interrupt: return .quit
        case .endOfInput:
            if state.line.characters.isEmpty { return .quit }
            state.line.deleteForward()                          // as readline: Ctrl-D deletes under the cursor
        case .enter:
            let text = String(state.line.characters)
            state.line = EditorLine()
            state.recalled = nil
            redraw(state)
            guard !text.isEmpty else { return nil }
            if state.history.last != text { state.history.append(text) }
            return .line(text)
        case .ignored: return nil
        }
        redraw(state)
        return nil
    }

    /// ↑/↓: the previous or next line entered; below the newest, the draft as it was.
    private static func recall(_ step: Int, _ state: inout State) {
        guard !state.history.isEmpty else { return }
        let current = state.recalled ?? state.history.count
        let target = min(max(current + step, 0), state.history.count)
        guard target != current else { return }
        if state.recalled == nil { state.draft = state.line.characters }
        state.recalled = target == state.history.count ? nil : target
        state.line = EditorLine(target == state.history.count ? state.draft : Array(state.history[target]))
    }

    /// Clears the row and draws prompt + the visible part of the line, then puts the cursor back in place.
    private static func redraw(_ state: State) {
        let view = state.line.view(columns: columns() - 1 - TerminalWidth.of(state.prompt))
        var out = "\r\u{1b}[2K" + state.prompt + view.text
        if view.cursorBack > 0 { out += "\u{1b}[\(view.cursorBack)D" }
        emit(out)
    }

    /// The terminal's width (TIOCGWINSZ), 80 when it does not say.
    private static func columns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
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

    private static func emit(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// The line being edited: grapheme clusters and a cursor between them (0…count).
struct EditorLine: Equatable {
    var characters: [Character] = []
    var cursor = 0

    init(_ characters: [Character] = []) {
        self.characters = characters
        cursor = characters.count
    }

    /// Inserts at the cursor; a combining mark joins the character before it, as the terminal draws it.
    mutating func insert(_ scalar: Unicode.Scalar) {
        var before = String(characters[..<cursor])
        before.unicodeScalars.append(scalar)
        let merged = Array(before)
        characters = merged + characters[cursor...]
        cursor = merged.count
    }

    mutating func deleteBackward() {
        guard cursor > 0 else { return }
        characters.remove(at: cursor - 1)
        cursor -= 1
    }

    mutating func deleteForward() {
        guard cursor < characters.count else { return }
        characters.remove(at: cursor)
    }

    mutating func move(by step: Int) { cursor = min(max(cursor + step, 0), characters.count) }

    mutating func deleteToStart() {
        characters.removeFirst(cursor)
        cursor = 0
    }

    mutating func deleteToEnd() { characters.removeLast(characters.count - cursor) }

    /// Ctrl-W: back over spaces, then over the word.
    mutating func deleteWordBackward() {
        var start = cursor
        while start > 0, characters[start - 1].isWhitespace { start -= 1 }
        while start > 0, !characters[start - 1].isWhitespace { start -= 1 }
        characters.removeSubrange(start..<cursor)
        cursor = start
    }

    /// What to draw in `columns` terminal columns so the cursor is visible: the text ("…" where cut) and how many
    /// columns the terminal cursor must then move back from the end of it.
    func view(columns: Int) -> (text: String, cursorBack: Int) {
        let widths = characters.map(TerminalWidth.of)
        let total = widths.reduce(0, +)
        if total <= columns {
            return (String(characters), widths[cursor...].reduce(0, +))
        }
        let room = max(columns - 2, 1)                          // one column for "…" at each end
        var start = cursor, used = 0
        while start > 0, used + widths[start - 1] <= room { used += widths[start - 1]; start -= 1 }
        var end = cursor
        while end < characters.count, used + widths[end] <= room { used += widths[end]; end += 1 }
        // Room left at the end goes to earlier text (the cursor usually sits at the end of the line).
        while start > 0, used + widths[start - 1] <= room { used += widths[start - 1]; start -= 1 }
        let head = start > 0 ? "…" : "", tail = end < characters.count ? "…" : ""
        return (head + String(characters[start..<end]) + tail, widths[cursor..<end].reduce(0, +) + tail.count)
    }
}

/// Terminal columns a character takes: 2 for East Asian wide and fullwidth characters and emoji shown as emoji,
/// 0 for combining marks and other zero-width characters, else 1 (the ranges of Markus Kuhn's wcwidth, which the
/// locale-dependent libc wcwidth would need a UTF-8 locale for).
enum TerminalWidth {
    static func of(_ text: String) -> Int { text.reduce(0) { $0 + of($1) } }

    static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.contains(where: { $0.value == 0xFE0F }) || first.properties.isEmojiPresentation { return 2 }
        if isWide(first.value) { return 2 }
        return isZeroWidth(first) ? 0 : 1
    }

    private static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return scalar.value == 0 || (0x1160...0x11FF).contains(scalar.value)   // Hangul medial jamo
        }
    }

    private static func isWide(_ v: UInt32) -> Bool {
        (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) && v != 0x303F || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x2FFFD).contains(v) || (0x30000...0x3FFFD).contains(v)
    }
}

/// Bytes → keys: UTF-8 text, control keys, and the CSI (`ESC [ … final`) / SS3 (`ESC O x`) sequences of the
/// editing keys (ECMA-48 §5.4: parameters 0x30–0x3F, final byte 0x40–0x7E). Unknown sequences are read whole
/// and ignored.
struct KeyDecoder {
    private var pending: [UInt8] = []     // an incomplete UTF-8 sequence

    mutating func next(_ read: () -> UInt8?) -> EditorKey? {
        guard let byte = read() else { return nil }
        switch byte {
        case 0x03: return .interrupt
        case 0x04: return .endOfInput
        case 0x0D, 0x0A: return .enter                          // CR in cbreak without ICRNL; LF from a paste
        case 0x7F, 0x08: return .backspace                       // DEL on most terminals, ^H on some
        case 0x01: return .home
        case 0x05: return .end
        case 0x02: return .left
        case 0x06: return .right
        case 0x0B: return .clearAfter
        case 0x15: return .clearBefore
        case 0x17: return .deleteWord
        case 0x10: return .up
        case 0x0E: return .down
        case 0x1B: return escape(read)
        case 0x20...0x7E: return .text(Unicode.Scalar(byte))
        case 0x80...0xFF: return utf8(byte)
        default: return .ignored                                // other controls are not part of a chat line
        }
    }

    private mutating func utf8(_ byte: UInt8) -> EditorKey {
        pending.append(byte)
        if let text = String(validating: pending, as: UTF8.self), let scalar = text.unicodeScalars.first {
            pending = []
            return .text(scalar)
        }
        // Past the longest sequence, or a byte that cannot start one: drop what we have.
        if pending.count >= 4 || pending.first.map({ $0 & 0xC0 == 0x80 }) == true { pending = [] }
        return .ignored
    }

    private func escape(_ read: () -> UInt8?) -> EditorKey {
        guard let kind = read() else { return .ignored }
        if kind == UInt8(ascii: "O") {
            switch read() {
            case UInt8(ascii: "H"): return .home
            case UInt8(ascii: "F"): return .end
            case UInt8(ascii: "A"): return .up
            case UInt8(ascii: "B"): return .down
            case UInt8(ascii: "C"): return .right
            case UInt8(ascii: "D"): return .left
            default: return .ignored
            }
        }
        guard kind == UInt8(ascii: "[") else { return .ignored }
        var parameters: [UInt8] = []
        while let byte = read() {
            guard (0x40...0x7E).contains(byte) else { parameters.append(byte); continue }
            switch (byte, String(decoding: parameters, as: UTF8.self)) {
            case (UInt8(ascii: "A"), _): return .up
            case (UInt8(ascii: "B"), _): return .down
            case (UInt8(ascii: "C"), _): return .right
            case (UInt8(ascii: "D"), _): return .left
            case (UInt8(ascii: "H"), _): return .home
            case (UInt8(ascii: "F"), _): return .end
            case (UInt8(ascii: "~"), "1"), (UInt8(ascii: "~"), "7"): return .home
            case (UInt8(ascii: "~"), "4"), (UInt8(ascii: "~"), "8"): return .end
            case (UInt8(ascii: "~"), "3"): return .delete
            default: return .ignored
            }
        }
        return .ignored
    }
}
