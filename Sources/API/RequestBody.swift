// Request bodies as named fields: JSON, application/x-www-form-urlencoded (what `curl -d` sends), or text/plain.
import HTTP

/// One field of a body or query, as the routes see it.
enum FieldValue: Equatable {
    case absent              // not sent (or JSON null)
    case string(String)      // a valid UTF-8 string
    case invalid             // sent, but not a string (JSON) or not valid UTF-8 (form, text/plain, query)
    case list([String])      // a JSON array of strings, or a form field given once or more (`files`)

    /// The string, or nil for absent/invalid — the domain's "missing or not a string".
    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// A parsed body. Contract "Conventions": JSON, form, and (for POST /messages) text/plain; anything else is 415.
struct RequestBody {
    private(set) var fields: [String: FieldValue] = [:]
    var isJSON = false                   // fields came from a JSON object (`.invalid` then means "not a string")

    subscript(name: String) -> FieldValue { fields[name] ?? .absent }

    /// Why `name` is `.invalid`, in the words of the body's own format (`{"text":42}`: "text must be a string").
    func invalidDetail(_ name: String) -> String {
        isJSON ? "\(name) must be a JSON string (not a number, boolean, array or object)"
            : "\(name) must be valid UTF-8 (percent-encoded bytes that decode to UTF-8)"
    }

    /// Parses by Content-Type. `plainTextField` names the field a text/plain body fills (nil: text/plain is 415).
    static func parse(_ request: HTTPRequest, plainTextField: String? = nil) -> Result<RequestBody, Refusal> {
        let accepted = plainTextField == nil
            ? "application/json, application/x-www-form-urlencoded"
            : "application/json, application/x-www-form-urlencoded, text/plain"
        guard let contentType = request.headers["Content-Type"] else {
            // No body and no type (e.g. `curl -X POST`): every field is absent, the domain says which is missing.
            if request.body.isEmpty { return .success(RequestBody()) }
            return .refuse(APIResponse.unsupportedMediaType("(none)", accepted: accepted))
        }
        let (mediaType, charset) = MediaType.parse(contentType)
        if let charset, charset != "utf-8", charset != "utf8" {
            return .refuse(APIResponse.unsupportedMediaType(contentType, accepted: accepted + " (UTF-8)"))
        }
        switch mediaType {
        case "application/json":
            return parseJSON(request.body)
        case "application/x-www-form-urlencoded":
            if looksLikeJSONObject(request.body) {
                // `curl -d '{"text":"hi"}'` without a Content-Type: curl sends a form, and a form of one odd field
                // name would be refused for a missing text, which explains nothing (issue 12).
                return .refuse(APIResponse.invalid("invalid_json", "the body looks like JSON but came as a form "
                    + "(Content-Type: application/x-www-form-urlencoded, what curl -d sends): add "
                    + "-H 'Content-Type: application/json', or send form fields such as -d text=hello"))
            }
            var fields = FormFields.decode(request.body)
            // POST /messages: `file=ID`, repeated (../shared/API.md "Files and images"), becomes the list `files`.
            if fields["file"] != nil { fields["files"] = FormFields.all("file", in: request.body) }
            return .success(RequestBody(fields: fields))
        case "text/plain" where plainTextField != nil:
            let text = String(validating: request.body, as: UTF8.self)
            return .success(RequestBody(fields: [plainTextField!: text.map(FieldValue.string) ?? .invalid]))
        default:
            return .refuse(APIResponse.unsupportedMediaType(contentType, accepted: accepted))
        }
    }

    /// RFC 8259: the body must be one JSON object in UTF-8 (invalid UTF-8 is `invalid_json`). Read by
    /// `JSONObjectReader`: fields that are not strings (or strings with no Unicode scalar value, such as a lone
    /// surrogate escape) become `.invalid`, so the field's own invalid_* code answers. Not JSONSerialization: it
    /// silently drops U+FEFF inside strings, which would store a different text than was sent.
    static func parseJSON(_ body: [UInt8]) -> Result<RequestBody, Refusal> {
        // Contract v2: an empty JSON body is no JSON document (RFC 8259 §2), so invalid_json like any other.
        guard let fields = JSONObjectReader.read(body) else {
            return .refuse(APIResponse.invalid("invalid_json", body.isEmpty
                ? "the body is empty; send one JSON object, such as {\"text\":\"hello\"}"
                : "the body must be one JSON object in UTF-8 (RFC 8259)"))
        }
        return .success(RequestBody(fields: fields, isJSON: true))
    }

    /// `{` … `}` around the body (white space aside) with a `"` after the brace: nobody's form looks like that.
    static func looksLikeJSONObject(_ body: [UInt8]) -> Bool {
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let first = body.firstIndex(where: { !space.contains($0) }), body[first] == UInt8(ascii: "{"),
              let last = body.lastIndex(where: { !space.contains($0) }), body[last] == UInt8(ascii: "}") else { return false }
        let inner = body[(first + 1)...].first { !space.contains($0) }
        return inner == UInt8(ascii: "\"") || inner == UInt8(ascii: "}")
    }
}

/// Form and query decoding that keeps invalid UTF-8 visible as `.invalid` instead of replacing it with U+FFFD,
/// so a bad byte is refused rather than stored as a different value.
enum FormFields {
    /// A form body, or with `uri` a request target's query: there RFC 3986 §2.1 allows `%` only before two hex
    /// digits, so `room=%` is `.invalid` (400), where a form body keeps a stray `%` as WHATWG's decoder does.
    static func decode(_ bytes: [UInt8], uri: Bool = false) -> [String: FieldValue] {
        var fields: [String: FieldValue] = [:]
        for part in bytes.split(separator: UInt8(ascii: "&")) {
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = FormDecoding.percentDecode(pieces[0], strict: false)!   // not strict: never nil
            if fields[name] != nil { continue }   // the first occurrence wins
            let raw = pieces.count > 1 ? pieces[1] : []
            let value = uri && hasMalformedEscape(raw) ? nil : FormDecoding.percentDecode(raw, strict: true)
            fields[name] = value.map(FieldValue.string) ?? .invalid
        }
        return fields
    }

    /// Every value of `name` in a form body, in order: `.list`, or `.invalid` when one is not UTF-8.
    static func all(_ name: String, in bytes: [UInt8]) -> FieldValue {
        var values: [String] = []
        for part in bytes.split(separator: UInt8(ascii: "&")) {
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard FormDecoding.percentDecode(pieces[0], strict: false) == name else { continue }
            guard let value = FormDecoding.percentDecode(pieces.count > 1 ? pieces[1] : [], strict: true) else { return .invalid }
            values.append(value)
        }
        return .list(values)
    }

    /// A `%` not followed by two hex digits (RFC 3986 §2.1 pct-encoded).
    static func hasMalformedEscape<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        while let b = it.next() {
            guard b == UInt8(ascii: "%") else { continue }
            guard let hi = it.next(), let lo = it.next(), FormDecoding.hexValue(hi) != nil,
                  FormDecoding.hexValue(lo) != nil else { return true }
        }
        return false
    }
}

/// `type/subtype; charset=…` → lower-cased media type and charset (RFC 9110 §8.3.1), read on the UTF-8 bytes:
/// OWS is SP / HTAB (§5.6.3), type and parameter names are case-insensitive ASCII, a quoted value loses its quotes.
enum MediaType {
    static func parse(_ value: String) -> (type: String, charset: String?) {
        // The common case, a bare lower-case type such as `application/json`, is already the answer.
        if value.utf8.allSatisfy({ !($0 >= 65 && $0 <= 90) && $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }) {
            return (value, nil)
        }
        let parts = value.utf8.split(separator: UInt8(ascii: ";"))
        let type = parts.first.map { lowered(trimmed($0)) } ?? ""
        var charset: String?
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1)
            guard pair.count == 2, lowered(trimmed(pair[0])) == "charset" else { continue }
            var value = trimmed(pair[1])
            while value.first == UInt8(ascii: "\""), !value.isEmpty { value = value.dropFirst() }
            while value.last == UInt8(ascii: "\""), !value.isEmpty { value = value.dropLast() }
            charset = lowered(value)
        }
        return (type, charset)
    }

    private static func trimmed(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        var bytes = bytes
        while let b = bytes.first, b == 0x20 || b == 0x09 { bytes = bytes.dropFirst() }
        while let b = bytes.last, b == 0x20 || b == 0x09 { bytes = bytes.dropLast() }
        return bytes
    }

    private static func lowered(_ bytes: Substring.UTF8View.SubSequence) -> String {
        String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
