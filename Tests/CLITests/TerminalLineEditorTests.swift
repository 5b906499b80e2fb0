// The chat's line editor without a terminal: keys decoded from bytes, edits at the cursor, and what is drawn in a
// given number of columns (wide characters and emoji take two).
import XCTest
@testable import CLI

final class TerminalLineEditorTests: XCTestCase {
    private func keys(_ text: String) -> [EditorKey] {
        var bytes = Array(text.utf8)[...]
        var decoder = KeyDecoder()
        var out: [EditorKey] = []
        while !bytes.isEmpty {
            guard let key = decoder.next({ bytes.popFirst() }) else { break }
            if key != .ignored { out.append(key) }
        }
        return out
    }

    func testKeysAreDecodedFromTheTerminalsBytes() {
        XCTAssertEqual(keys("a\u{1b}[D\u{1b}[C\u{1b}[H\u{1b}[F\u{1b}OH\u{1b}[1~\u{1b}[4~\u{1b}[3~\u{1b}[A\u{1b}[B"),
                       [.text("a"), .left, .right, .home, .end, .home, .home, .end, .delete, .up, .down])
        XCTAssertEqual(keys("é中😀\r\u{7f}\u{01}\u{05}\u{15}\u{0b}\u{17}\u{03}\u{04}"),
                       [.text("é"), .text("中"), .text("😀"), .enter, .backspace, .home, .end, .clearBefore, .clearAfter,
                        .deleteWord, .interrupt, .endOfInput])
        XCTAssertEqual(keys("\u{1b}[1;5C"), [.right], "modifiers are ignored")
        XCTAssertEqual(keys("\u{1b}[200~x\u{1b}[Zy"), [.text("x"), .text("y")], "unknown sequences are read whole and ignored")
    }

    func testEditsHappenAtTheCursor() {
        var line = EditorLine()
        for scalar in "helo".unicodeScalars { line.insert(scalar) }
        line.move(by: -1)
        line.insert("l")
        XCTAssertEqual(String(line.characters), "hello")
        line.cursor = 0
        line.insert("¡")
        line.move(by: 3)
        line.deleteBackward()                                   // the first l
        XCTAssertEqual(String(line.characters), "¡helo")
        line.deleteForward()
        XCTAssertEqual(String(line.characters), "¡heo")
        line.move(by: 99)
        line.insert("e")
        line.insert("\u{301}")                                   // a combining accent joins the e
        XCTAssertEqual(line.characters.last, "é")
        XCTAssertEqual(line.cursor, line.characters.count)
        var words = EditorLine(Array("one two  "))
        words.deleteWordBackward()
        XCTAssertEqual(String(words.characters), "one ")
    }

    func testWidthsAreTerminalColumns() {
        XCTAssertEqual(TerminalWidth.of("abc"), 3)
        XCTAssertEqual(TerminalWidth.of("中文"), 4)
        XCTAssertEqual(TerminalWidth.of("한국"), 4)
        XCTAssertEqual(TerminalWidth.of("😀"), 2)
        XCTAssertEqual(TerminalWidth.of("👩‍👩‍👧"), 2, "one cluster")
        XCTAssertEqual(TerminalWidth.of("❤️"), 2, "emoji presentation selector")
        XCTAssertEqual(TerminalWidth.of("e\u{301}"), 1)
        XCTAssertEqual(TerminalWidth.of("ｆｕｌｌ"), 8)
    }

    func testALongLineScrollsAroundTheCursorWithinTheColumns() {
        let line = EditorLine(Array("中文中文中文中文中文"))             // 20 columns
        let fits = line.view(columns: 20)
        XCTAssertEqual(fits.text, "中文中文中文中文中文")
        XCTAssertEqual(fits.cursorBack, 0)
        let narrow = line.view(columns: 9)
        XCTAssertEqual(narrow.text, "…文中文")
        XCTAssertLessThanOrEqual(TerminalWidth.of(narrow.text), 9)
        var middle = line
        middle.cursor = 3
        XCTAssertEqual(middle.view(columns: 9).text, "中文中…")
        XCTAssertEqual(middle.view(columns: 9).cursorBack, 1, "the cursor sits before the trailing …")
        middle.cursor = 5
        XCTAssertEqual(middle.view(columns: 9).text, "…中文中…")
        XCTAssertEqual(middle.view(columns: 9).cursorBack, 1)
    }
}
