// The contract's input rules (../shared/API.md Accounts, Rooms, Messages), as pure functions returning the error.

/// Input rules of the contract; each returns nil when the value is acceptable, else the error to answer with.
public enum Validation {
    public static let maxTextScalars = 4000
    public static let maxClientIDLength = 64

    /// 1–32 of `A–Z a–z 0–9 _ . -`.
    public static func username(_ name: String?) -> ChatError? {
        guard let name, (1...32).contains(name.utf8.count), name.utf8.allSatisfy(isUsernameByte) else {
            return ChatError(.invalid, "invalid_username", "a username is 1–32 characters of A–Z a–z 0–9 _ . -")
        }
        return nil
    }

    /// 8–256 bytes of UTF-8. A NUL byte is refused too: crypt(3) would silently cut the password there.
    public static func password(_ password: String?) -> ChatError? {
        guard let password, (8...256).contains(password.utf8.count), !password.utf8.contains(0) else {
            return ChatError(.invalid, "invalid_password", "a password is 8–256 bytes")
        }
        return nil
    }

    /// 1–64 of `a–z 0–9 _ -`.
    public static func roomName(_ name: String?) -> ChatError? {
        guard let name, (1...64).contains(name.utf8.count), name.utf8.allSatisfy(isRoomByte) else {
            return ChatError(.invalid, "invalid_room_name", "a room name is 1–64 characters of a–z 0–9 _ -")
        }
        return nil
    }

    /// 1–4000 Unicode scalars, not only white space, no Cc but TAB LF CR. Nil text (missing, not a string)
    /// is invalid_text.
    public static func text(_ text: String?) -> ChatError? {
        guard let text else { return ChatError(.invalid, "invalid_text", "text is missing or not a string") }
        var count = 0
        var onlySpace = true
        for scalar in text.unicodeScalars {
            count += 1
            if count > maxTextScalars {
                return ChatError(.invalid, "text_too_long", "text is longer than \(maxTextScalars) characters")
            }
            let v = scalar.value
            // ASCII answered without the Unicode tables (the common case): Cc is 0x00–0x1F and 0x7F; white space
            // is TAB…CR and SPACE.
            let control = v < 0x80 ? (v < 0x20 || v == 0x7F) : scalar.properties.generalCategory == .control
            if control, v != 0x09, v != 0x0A, v != 0x0D {
                return ChatError(.invalid, "invalid_text", "text contains a control character (U+\(hex4(v)))")
            }
            if onlySpace {
                let space = v < 0x80 ? (v == 0x20 || (0x09...0x0D).contains(v)) : scalar.properties.isWhitespace
                if !space { onlySpace = false }
            }
        }
        if count == 0 { return ChatError(.invalid, "empty_text", "text is empty") }
        if onlySpace { return ChatError(.invalid, "empty_text", "text is only white space") }
        return nil
    }

    /// Up to 64 printable ASCII characters (0x20–0x7E). Empty is refused: a key that names nothing.
    public static func clientID(_ id: String?) -> ChatError? {
        guard let id else { return nil }
        guard (1...maxClientIDLength).contains(id.utf8.count), id.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            return ChatError(.invalid, "invalid_parameter", "client_id is 1–64 printable ASCII characters")
        }
        return nil
    }

    /// ASCII lowercase: usernames are unique ignoring case (only ASCII letters are allowed in them).
    public static func usernameKey(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    private static func isUsernameByte(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 46 || c == 45
    }

    private static func isRoomByte(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45
    }

    private static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
