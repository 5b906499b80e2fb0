// The PostgreSQL schema as numbered migrations, run under an advisory lock, and every statement the store runs.

/// Schema migrations: step N takes a database at version N-1 to version N, in its own transaction, with the
/// version in `konnect_schema`. Several instances starting at once take `pg_advisory_lock(lockKey)` first, so
/// one migrates and the others then find the work done. Never edit a released step; add a new one.
enum PostgresSchema {
    /// "konnect" as a number: the advisory lock every instance takes while migrating.
    static let lockKey: Int64 = 0x6B6F_6E6E_6563_74

    static let migrations: [String] = [
        // v1: as SQLite's v1–v3. Times are milliseconds since the epoch (bigint). Names compare by code point
        // (COLLATE "C"), as GET /rooms orders them. rooms.last_seq is the per-room counter: the inserting
        // transaction locks and moves it, so seq is gap-free and in commit order across instances.
        """
        CREATE TABLE users (
            id bigserial PRIMARY KEY,
            username text NOT NULL,
            username_key text COLLATE "C" NOT NULL UNIQUE,
            password_hash text NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE TABLE tokens (
            hash bytea PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users(id),
            expires_at bigint NOT NULL
        );
        CREATE INDEX tokens_expires_at ON tokens (expires_at);
        CREATE TABLE rooms (
            id bigserial PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            created_at bigint NOT NULL,
            last_seq bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            room_id bigint NOT NULL REFERENCES rooms(id),
            seq bigint NOT NULL,
            id text NOT NULL,
            username text NOT NULL,
            text text NOT NULL,
            created_at bigint NOT NULL,
            client_id text,
            PRIMARY KEY (room_id, seq)
        );
        CREATE INDEX messages_client_id ON messages (room_id, username, client_id, created_at) WHERE client_id IS NOT NULL;
        CREATE TABLE login_failures (
            username_key text NOT NULL,
            address text NOT NULL,
            at bigint NOT NULL
        );
        CREATE INDEX login_failures_pair ON login_failures (username_key, address, at);
        CREATE INDEX login_failures_at ON login_failures (at);
        INSERT INTO rooms (name, created_at) VALUES ('general', (extract(epoch FROM now()) * 1000)::bigint);
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// Brings the database up to `currentVersion`. A database newer than this code is refused.
    static func migrate(_ db: PostgresConnection) throws {
        try db.execute("SELECT pg_advisory_lock(\(lockKey))")
        defer { _ = try? db.execute("SELECT pg_advisory_unlock(\(lockKey))") }
        try db.execute("CREATE TABLE IF NOT EXISTS konnect_schema (version integer NOT NULL)")
        let found = try db.query("SELECT version FROM konnect_schema", []) { Int($0.int(0)) }
        let version = found.first ?? 0
        if found.isEmpty { try db.execute("INSERT INTO konnect_schema (version) VALUES (0)") }
        guard version <= currentVersion else {
            throw PostgresError(sqlState: "", message: "database schema v\(version) is newer than this server (v\(currentVersion))")
        }
        for step in version..<currentVersion {
            try db.execute("BEGIN")
            do {
                try db.execute(migrations[step])
                try db.execute("UPDATE konnect_schema SET version = \(step + 1)")
                try db.commit()
            } catch {
                _ = try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// Every statement the PostgreSQL store runs, by name.
enum PGSQL {
    /// The channel every instance LISTENs on; the payload is "<last_seq> <room>".
    static let channel = "konnect_rooms"
    /// The channel of logouts: the payload is the token's SHA-256 in hex (see `PostgresTokenCache`).
    static let tokenChannel = "konnect_tokens"
    /// Applied to each new connection: durable commits whatever the server's configuration says (a 201 only
    /// after the commit reached disk), and a bound on how long a statement may wait for a lock.
    static let session = "SET synchronous_commit = on; SET lock_timeout = '10s'; SET client_min_messages = warning"
    static let ping = "SELECT 1"

    static let insertUser = """
        INSERT INTO users (username, username_key, password_hash, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (username_key) DO NOTHING
        """
    static let userByKey = "SELECT username, created_at, password_hash FROM users WHERE username_key = $1"
    static let insertToken = "INSERT INTO tokens (hash, user_id, expires_at) SELECT $1, id, $2 FROM users WHERE username_key = $3"
    static let deleteExpiredTokens = "DELETE FROM tokens WHERE expires_at <= $1"
    static let userByToken = """
        SELECT u.username, u.created_at, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id
        WHERE t.hash = $1 AND t.expires_at > $2
        """
    static let deleteToken = """
        WITH gone AS (DELETE FROM tokens WHERE hash = $1) SELECT pg_notify('\(tokenChannel)', encode($1::bytea, 'hex'))
        """

    /// Serialises claims of one (username, address) pair across instances for the rest of the transaction.
    static let lockLoginPair = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))"
    static let loginFailures = """
        SELECT at FROM login_failures WHERE username_key = $1 AND address = $2 AND at > $3 ORDER BY at
        """
    static let insertLoginFailure = "INSERT INTO login_failures (username_key, address, at) VALUES ($1, $2, $3)"
    static let forgetLoginFailures = "DELETE FROM login_failures WHERE at <= $1"
    static let clearLoginFailures = "DELETE FROM login_failures WHERE username_key = $1 AND address = $2"

    static let rooms = "SELECT name, created_at, last_seq FROM rooms ORDER BY name"
    static let roomLastSeqs = "SELECT name, last_seq FROM rooms"
    /// Locks the room's counter row until COMMIT: writers of one room, on any instance, take turns here.
    static let lockRoom = "SELECT id, created_at, last_seq FROM rooms WHERE name = $1 FOR UPDATE"
    static let insertRoom = "INSERT INTO rooms (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
    /// Moves the counter and queues the wake-up, delivered by PostgreSQL at COMMIT to every listener.
    static let advanceRoom = """
        WITH moved AS (UPDATE rooms SET last_seq = $1 WHERE id = $2) SELECT pg_notify('\(channel)', $1 || ' ' || $3)
        """

    /// One batch's messages in one statement (arrays in PostgreSQL's text form, see `PostgresArray`).
    static let insertMessages = """
        INSERT INTO messages (room_id, seq, id, username, text, created_at, client_id)
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
        """
    static let messageByClientID = """
        SELECT id, seq, text, created_at FROM messages
        WHERE room_id = $1 AND username = $2 AND client_id = $3 AND created_at >= $4 ORDER BY created_at DESC LIMIT 1
        """

    /// A page and the room's last_seq in one statement, so from one snapshot. No row: no such room; one row with
    /// a NULL seq: the room has nothing on that side of the cursor.
    private static func page(_ condition: String, _ order: String) -> String {
        """
        SELECT r.last_seq, m.seq, m.id, m.username, m.text, m.created_at, m.client_id
        FROM rooms r LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id FROM messages
            WHERE room_id = r.id \(condition) ORDER BY seq \(order) LIMIT $3
        ) m ON true WHERE r.name = $1
        """
    }
    /// The newest earlier message of each (room, user, client_id, since) of a batch, by 1-based position.
    static let messagesByClientIDs = """
        SELECT k.i, m.id, m.seq, m.text, m.created_at
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS k(room_id, username, client_id, since, i)
        JOIN LATERAL (
            SELECT id, seq, text, created_at FROM messages
            WHERE room_id = k.room_id AND username = k.username AND client_id = k.client_id AND created_at >= k.since
            ORDER BY created_at DESC LIMIT 1
        ) m ON true
        """
    static let messagesNewest = page("AND $2::bigint IS NOT NULL", "DESC")
    static let messagesBefore = page("AND seq < $2", "DESC")
    static let messagesAfter = page("AND seq > $2", "ASC")

    /// GET /messages's hot path in one round trip: the token check ($4 hash, $5 now) and the page, one snapshot.
    /// Columns 0–2: the token's user and expiry, NULL when it does not authenticate (then nothing else is read);
    /// the rest as `page`.
    private static func authenticatedPage(_ condition: String, _ order: String) -> String {
        """
        SELECT a.username, a.created_at, a.expires_at, r.last_seq, m.seq, m.id, m.username, m.text, m.created_at, m.client_id
        FROM (SELECT 1) one
        LEFT JOIN (
            SELECT u.username, u.created_at, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id
            WHERE t.hash = $4 AND t.expires_at > $5
        ) a ON true
        LEFT JOIN rooms r ON a.username IS NOT NULL AND r.name = $1
        LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id FROM messages
            WHERE room_id = r.id \(condition) ORDER BY seq \(order) LIMIT $3
        ) m ON true
        """
    }
    static let authenticatedNewest = authenticatedPage("AND $2::bigint IS NOT NULL", "DESC")
    static let authenticatedBefore = authenticatedPage("AND seq < $2", "DESC")
    static let authenticatedAfter = authenticatedPage("AND seq > $2", "ASC")
}

/// PostgreSQL's text form of a one-dimensional array: every element double-quoted with `\` and `"` escaped,
/// NULL unquoted (PostgreSQL docs, "Array Value Input").
enum PostgresArray {
    static func literal(_ values: [String?]) -> String {
        var out = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            guard let value else { out += "NULL"; continue }
            out += "\""
            for ch in value.unicodeScalars {
                if ch == "\\" || ch == "\"" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
    static func literal(_ values: [Int64]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }
}
