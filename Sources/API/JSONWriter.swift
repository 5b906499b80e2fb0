// A tiny append-only JSON writer: responses are encoded by hand because history pages are on the hot path.
import HTTP
import Chat

/// Builds one JSON document into a byte buffer. Callers write keys and values in order; commas are automatic.
struct JSONWriter {
    var bytes: [UInt8] = []             // the document so far; extensions append to it after `beginRawValue`

    /// The document and the newline that ends every JSON answer (issue 12: a shell prompt is not glued to it).
    mutating func finished() -> [UInt8] {
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
    private var needsComma = false      // true after a value inside the current object or array

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes `"name":`; the next value call completes the member.
    mutating func key(_ name: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    mutating func string(_ value: String) { separator(); appendEscaped(value); needsComma = true }
    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }
    mutating func int(_ value: Int64) { raw(String(value)) }
    mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    /// Bytes already valid as one JSON value (a cached message, a number).
    mutating func rawBytes(_ value: [UInt8]) { separator(); bytes.append(contentsOf: value); needsComma = true }
    mutating func raw(_ value: String) { separator(); bytes.append(contentsOf: value.utf8); needsComma = true }

    /// For extensions that append one value's bytes themselves.
    mutating func beginRawValue() { separator(); needsComma = true }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Fast path for strings that need no escaping (most chat text); otherwise the shared `jsonString`.
    private mutating func appendEscaped(_ value: String) {
        var plain = true
        for b in value.utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x7F || b == 0xE2 {
            plain = false   // 0xE2 leads U+2028/U+2029, which jsonString escapes for JavaScript's sake
            break
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: jsonString(value).utf8)
        }
    }
}

/// The contract's JSON shapes for the chat domain's values (../shared/API.md).
enum ChatJSON {
    static func user(_ user: User, into w: inout JSONWriter) {
        w.beginObject()
        w.key("username"); w.string(user.username)
        w.key("created_at"); w.time(user.createdAt)
        w.endObject()
    }

    /// A room object (../shared/API.md "Rooms v2"), with `members` for GET /rooms/{name}.
    static func room(_ view: RoomView, members: [String]? = nil, into w: inout JSONWriter) {
        let room = view.room
        w.beginObject()
        w.key("name"); w.string(room.name)
        w.key("created_at"); w.time(room.createdAt)
        w.key("last_seq"); w.int(room.lastSeq)
        w.key("visibility"); w.string(room.visibility.rawValue)
        w.key("joined"); w.bool(view.joined)
        w.key("owner"); w.optionalString(room.owner)
        if let members {
            w.key("members")
            w.beginArray()
            for member in members { w.string(member) }
            w.endArray()
        }
        w.endObject()
    }

    /// The answer of PUT /rooms/{name}/members/{username}: `{"room","username"}` as the request named them.
    static func membership(room: String, username: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("room"); w.string(room)
        w.key("username"); w.string(username)
        w.endObject()
        return w.bytes
    }

    static func message(_ m: Message, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(m.id)
        w.key("room"); w.string(m.room)
        w.key("seq"); w.int(m.seq)
        w.key("user"); w.string(m.user)
        w.key("text"); w.string(m.text)
        w.key("created_at"); w.time(m.createdAt)
        w.key("client_id"); w.optionalString(m.clientID)
        w.endObject()
    }

    static func page(_ page: HistoryPage) -> [UInt8] {
        var w = JSONWriter(capacity: 96 + page.messages.count * 160)
        w.beginObject()
        w.key("room"); w.string(page.room)
        w.key("messages")
        w.beginArray()
        for m in page.messages { message(m, into: &w) }
        w.endArray()
        w.key("has_more"); w.bool(page.hasMore)
        w.key("last_seq"); w.int(page.lastSeq)
        w.endObject()
        return w.finished()
    }

    /// `{"<name>": <value>}` — the envelope of single-object answers (`{"user":…}`, `{"room":…}`, `{"message":…}`).
    static func wrapped(_ name: StaticString, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key(name)
        body(&w)
        w.endObject()
        return w.finished()
    }
}
