// One libpq connection with its prepared statements; used by one store thread at a time, never an event loop.
import CPostgres
import Glibc

/// A PostgreSQL failure; the store turns it into ChatError `unavailable`. `sqlState` is the five-character
/// SQLSTATE when the server sent one ("40P01" deadlock, "40001" serialization), else "".
struct PostgresError: Error, CustomStringConvertible {
    let sqlState: String
    let message: String
    var description: String { sqlState.isEmpty ? "postgres: \(message)" : "postgres \(sqlState): \(message)" }
    /// Worth running the same transaction again: the server chose it as a deadlock or serialization victim.
    var isRetryable: Bool { sqlState == "40P01" || sqlState == "40001" }
}

/// A parameter. Text values are sent in text format (PostgreSQL infers the type from the statement); `bytea` in
/// binary format, as the raw bytes: the text form (`\x` + hex) would double them and cost a pass over each.
enum PostgresValue {
    case int(Int64)
    case text(String)
    case optionalText(String?)
    case bytea([UInt8])

    /// The text form, or nil for SQL NULL (`bytea` is never sent as text; answered for completeness).
    var text: String? {
        switch self {
        case .int(let v): return String(v)
        case .text(let s): return s
        case .optionalText(let s): return s
        case .bytea(let bytes):
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
            out.reserveCapacity(2 + bytes.count * 2)
            for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// A row of a result: text format unless the query asked for binary (`bytes(_:_:)`).
struct PostgresRow {
    let result: OpaquePointer
    let index: Int32
    func isNull(_ column: Int32) -> Bool { PQgetisnull(result, index, column) == 1 }
    func text(_ column: Int32) -> String { String(cString: PQgetvalue(result, index, column)) }
    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
    func int(_ column: Int32) -> Int64 { Int64(text(column)) ?? 0 }
    /// A boolean in text form ("t"); NULL is false.
    func bool(_ column: Int32) -> Bool { !isNull(column) && PQgetvalue(result, index, column).pointee == CChar(bitPattern: UInt8(ascii: "t")) }
    /// The column's bytes as sent (a binary-format bytea: the content itself).
    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(PQgetlength(result, index, column))
        guard count > 0, let value = PQgetvalue(result, index, column) else { return [] }
        return value.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}

/// A connection plus its prepared statements (named by order of first use). Not thread-safe: each store thread
/// owns one. A connection that broke (`isBroken`) is dropped by its owner and a new one opened on next use.
final class PostgresConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var prepared: [String: String] = [:]       // SQL text → statement name
    private var lost = false                            // a call failed in libpq itself (no SQLSTATE): the link is gone

    /// Connects with `conninfo` (a libpq key=value string or a postgres:// URI). Unless `conninfo` says otherwise
    /// (its values come last, so they win): a connect timeout of 5 s, and over TCP keepalives plus a 15 s
    /// `tcp_user_timeout`, so a database host that vanished fails the store's calls instead of hanging a thread.
    init(conninfo: String, applicationName: String = "konnect") throws {
        let keys = ["connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                    "tcp_user_timeout", "application_name", "dbname"]
        let values = ["5", "1", "10", "5", "3", "15000", applicationName, conninfo]
        let conn: OpaquePointer? = withCStrings(keys) { k in
            withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let conn else { throw PostgresError(sqlState: "", message: "out of memory") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(sqlState: "", message: message.trimmingSpace)
        }
        handle = conn
    }

    deinit { PQfinish(handle) }

    /// The connection cannot be used again. Besides libpq's own status, true once a call failed without a SQLSTATE
    /// from the server: after PostgreSQL restarted, the first statement on an idle connection fails with "server
    /// closed the connection unexpectedly" while PQstatus still says CONNECTION_OK (seen on libpq 15), and the
    /// owner must then open a new connection and run the work again rather than answer 503 (issue 11 tests).
    var isBroken: Bool { lost || PQstatus(handle) != CONNECTION_OK }
    var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs one or more statements without parameters (schema, BEGIN, COMMIT).
    func execute(_ sql: String) throws {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    /// Runs `sql` with parameters (prepared on first use) and maps every row; rows are read before the result
    /// is freed.
    @discardableResult
    func query<T>(_ sql: String, _ params: [PostgresValue], row: (PostgresRow) throws -> T) throws -> [T] {
        let result = try exec(sql, params)
        defer { PQclear(result) }
        let count = PQntuples(result)
        var rows: [T] = []
        rows.reserveCapacity(Int(count))
        for i in 0..<count { rows.append(try row(PostgresRow(result: result, index: i))) }
        return rows
    }

    /// Runs `sql` asking for results in binary format and answers column 0 of the first row as raw bytes (nil: no
    /// row). For a bytea column that is the content itself, with no hex text to decode.
    func bytes(_ sql: String, _ params: [PostgresValue]) throws -> [UInt8]? {
        let result = try exec(sql, params, binaryResult: true)
        defer { PQclear(result) }
        guard PQntuples(result) > 0, PQgetisnull(result, 0, 0) == 0 else { return nil }
        return PostgresRow(result: result, index: 0).bytes(0)
    }

    /// Runs `sql` and answers the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ params: [PostgresValue]) throws -> Int {
        let result = try exec(sql, params)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// COMMIT, failing unless the server really committed.
    func commit() throws {
        let result = PQexec(handle, "COMMIT")
        defer { PQclear(result) }
        try check(result)
        // COMMIT of a transaction that had failed answers OK with the tag ROLLBACK: never report that as stored.
        let tag = String(cString: PQcmdStatus(result))
        guard tag == "COMMIT" else { throw PostgresError(sqlState: "", message: "COMMIT answered \(tag)") }
    }

    private func exec(_ sql: String, _ params: [PostgresValue], binaryResult: Bool = false) throws -> OpaquePointer {
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "s\(prepared.count)"
            let result = PQprepare(handle, name, sql, 0, nil)
            defer { PQclear(result) }
            try check(result)
            prepared[sql] = name
        }
        // Each value a malloc'd copy (text NUL-terminated; bytea as is, format 1, with its length), freed after the
        // call: for a 256 KiB file chunk that is one memcpy, where the text form was 512 KiB of hex plus a strdup.
        var values: [UnsafeMutablePointer<CChar>?] = [], lengths: [Int32] = [], formats: [Int32] = []
        values.reserveCapacity(params.count)
        defer { for v in values { free(v) } }
        for param in params {
            if case .bytea(let bytes) = param {
                let copy = malloc(max(1, bytes.count))!.assumingMemoryBound(to: CChar.self)
                bytes.withUnsafeBytes { if let base = $0.baseAddress { memcpy(copy, base, bytes.count) } }
                values.append(copy); lengths.append(Int32(bytes.count)); formats.append(1)
            } else {
                values.append(param.text.map { strdup($0)! }); lengths.append(0); formats.append(0)
            }
        }
        let result: OpaquePointer? = values.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pointers in
                PQexecPrepared(handle, name, Int32(params.count), params.isEmpty ? nil : pointers.baseAddress,
                               lengths, formats, binaryResult ? 1 : 0)
            }
        }
        guard let result else {
            lost = true
            throw PostgresError(sqlState: "", message: String(cString: PQerrorMessage(handle)))
        }
        do { try check(result) } catch {
            PQclear(result)
            throw error
        }
        return result
    }

    private func check(_ result: OpaquePointer?) throws {
        guard let result else {
            lost = true
            throw PostgresError(sqlState: "", message: String(cString: PQerrorMessage(handle)).trimmingSpace)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK: return
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            if state.isEmpty { lost = true }
            throw PostgresError(sqlState: state, message: String(cString: PQresultErrorMessage(result)).trimmingSpace)
        }
    }
}

extension String {
    var trimmingSpace: String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Calls `body` with a C array of C strings (NUL-terminated copies) valid for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) } + [nil], body)
}

func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { for p in pointers { free(p) } }
    if pointers.isEmpty { pointers.append(nil) }
    return pointers.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}
