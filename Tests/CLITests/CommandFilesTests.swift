// `konnect send --file` and `konnect download` against a real server (issue 15).
import Foundation
import XCTest

final class CommandFilesTests: CLITestCase {
    func testSendFilesHistoryShowsThemDownloadGivesTheBytesBack() throws {
        let (alice, aliceName) = try signedUpUser("fia")
        let room = "p-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room, "--private"]).status, 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13) } + [0, 0, 255]
        let a = dir.appendingPathComponent("a.bin"), b = dir.appendingPathComponent("notes.txt")
        try Data(bytes).write(to: a)
        try Data("hello".utf8).write(to: b)

        let sent = try alice.run(["send", "--room", room, "--file", a.path, "--file=\(b.path)", "--json", "two", "files"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        let message = try XCTUnwrap(jsonLines(sent.stdout).first)
        XCTAssertEqual(message["text"] as? String, "two files")
        let files = try XCTUnwrap(message["files"] as? [[String: Any]])
        XCTAssertEqual(files.map { $0["name"] as? String }, ["a.bin", "notes.txt"])
        XCTAssertEqual(files.first?["size"] as? Int, bytes.count)
        let id = try XCTUnwrap(files.first?["id"] as? String), notesID = try XCTUnwrap(files.last?["id"] as? String)

        // Files only: no text, and nothing read from stdin.
        let only = try alice.run(["send", "--room", room, "--file", b.path])
        XCTAssertEqual(only.status, 0, only.stderr)
        XCTAssertTrue(only.stdout.contains("\(aliceName): [file: notes.txt (5 B) "), only.stdout)

        let history = try alice.run(["history", "--room", room])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertTrue(history.lines[0].hasSuffix(": two files [file: a.bin (5.0 KB) \(id)] [file: notes.txt (5 B) \(notesID)]"),
                      history.lines[0])

        let out = dir.appendingPathComponent("copy.bin")
        let got = try alice.run(["download", id, "-o", out.path])
        XCTAssertEqual(got.status, 0, got.stderr)
        XCTAssertEqual(Array(try Data(contentsOf: out)), bytes)
        let piped = try alice.run(["download", notesID, "-o", "-"])
        XCTAssertEqual(piped.stdout, "hello")

        // Someone who cannot read the room cannot fetch it.
        let (eve, _) = try signedUpUser("eve")
        let refused = try eve.run(["download", id, "-o", dir.appendingPathComponent("stolen").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("no file"), refused.stderr)
        XCTAssertEqual(try alice.run(["send", "--room", room, "--file", dir.appendingPathComponent("missing").path]).status, 2)
    }
}
