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
        // v2: rooms v2, as SQLite's v5 (../shared/API.md "Rooms v2"). Rooms gain a visibility and an owner (rooms
        // of v1 stay public, without one); memberships; every existing user joins `general`. The `members`
        // generation is bumped by statement triggers in the very transaction of any membership change, any room
        // created, removed or changed other than its counter, and any user removed or renamed (as SQLite's), and
        // the same triggers send NOTIFY konnect_members at COMMIT: every instance drops its access cache
        // (`PostgresAccessCache`). Also rooms.last_created_at: the newest message's created_at, read under the
        // room's row lock by the writer so created_at never goes backwards within a room (SQLite reads it from
        // messages; here a separate read would need another round trip and a fresh snapshot).
        """
        ALTER TABLE rooms ADD COLUMN visibility text NOT NULL DEFAULT 'public'
            CHECK (visibility IN ('public', 'private', 'direct'));
        ALTER TABLE rooms ADD COLUMN owner_id bigint REFERENCES users(id);
        ALTER TABLE rooms ADD COLUMN last_created_at bigint;
        UPDATE rooms r SET last_created_at = (SELECT max(created_at) FROM messages m WHERE m.room_id = r.id);
        CREATE TABLE room_members (
            room_id bigint NOT NULL REFERENCES rooms(id),
            user_id bigint NOT NULL REFERENCES users(id),
            PRIMARY KEY (room_id, user_id)
        );
        CREATE INDEX room_members_user ON room_members (user_id, room_id);
        INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'general';
        CREATE TABLE cache_generations (
            id integer PRIMARY KEY CHECK (id = 1),
            members bigint NOT NULL
        );
        INSERT INTO cache_generations (id, members) VALUES (1, 0);
        CREATE FUNCTION konnect_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cache_generations SET members = members + 1 WHERE id = 1;
            PERFORM pg_notify('konnect_members', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER room_members_changed AFTER INSERT OR UPDATE OR DELETE ON room_members
            FOR EACH STATEMENT EXECUTE FUNCTION konnect_members_changed();
        CREATE TRIGGER rooms_inserted_or_deleted AFTER INSERT OR DELETE ON rooms
            FOR EACH STATEMENT EXECUTE FUNCTION konnect_members_changed();
        CREATE TRIGGER rooms_access_changed AFTER UPDATE OF id, name, visibility, owner_id ON rooms
            FOR EACH STATEMENT EXECUTE FUNCTION konnect_members_changed();
        CREATE TRIGGER users_deleted AFTER DELETE ON users
            FOR EACH STATEMENT EXECUTE FUNCTION konnect_members_changed();
        CREATE TRIGGER users_renamed AFTER UPDATE OF id, username, username_key ON users
            FOR EACH STATEMENT EXECUTE FUNCTION konnect_members_changed();
        """,
        // v3: files (issue 15), as SQLite's v6. A content is kept once per sha256 in `file_contents`, its bytes in
        // 256 KiB bytea chunks (`file_chunks`, TOASTed out of line). An upload in progress is a content row with a
        // NULL sha256 (the partial index finds them; NULLs never collide in the unique index) whose chunks are
        // deleted with it when the upload is aborted, deduplicated away, or abandoned for an hour, so nothing is
        // left of it; `finishUpload` seals it (sets sha256) without moving a byte. `files` are named uploads of a
        // content; `message_files` attach files to messages in order (what `fileRooms` reads). `messages.files` is
        // the same attachments as the API shows them, a JSON array written with the message (NULL: none), so a
        // page reads them as one more column. A lookup of message_files per message made a page of 50 cost the
        // server 0.23 ms instead of 0.09 even when no message had files (0.14 with a flag guarding it: the subplan's
        // start-up alone), by EXPLAIN ANALYZE on 100,000 messages.
        // A file never changes, nor does a username, so the copy never goes stale. No trigger and no NOTIFY:
        // attachments arrive with their message (whose room's last_seq moves and is notified).
        """
        CREATE TABLE file_contents (
            id bigserial PRIMARY KEY,
            sha256 text COLLATE "C" UNIQUE,
            size bigint NOT NULL DEFAULT 0,
            created_at bigint NOT NULL
        );
        CREATE INDEX file_contents_staged ON file_contents (created_at) WHERE sha256 IS NULL;
        CREATE TABLE file_chunks (
            content_id bigint NOT NULL REFERENCES file_contents(id),
            idx integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (content_id, idx)
        );
        CREATE TABLE files (
            id text COLLATE "C" PRIMARY KEY,
            content_id bigint NOT NULL REFERENCES file_contents(id),
            name text NOT NULL,
            type text NOT NULL,
            width integer,
            height integer,
            uploader_id bigint NOT NULL REFERENCES users(id),
            created_at bigint NOT NULL
        );
        CREATE TABLE message_files (
            room_id bigint NOT NULL REFERENCES rooms(id),
            seq bigint NOT NULL,
            position integer NOT NULL,
            file_id text COLLATE "C" NOT NULL REFERENCES files(id),
            PRIMARY KEY (room_id, seq, position)
        );
        CREATE INDEX message_files_file ON message_files (file_id, room_id);
        ALTER TABLE messages ADD COLUMN files text;
        """,
        // v4: the feed (issue 10/11, ../shared/API.md "The feed") and
        // bots, as SQLite's v7. `events` holds one row per feed event at its position `pos`: `message` events point
        // at (room_id, seq), `joined`/`left` at user_id (no foreign keys, as SQLite's: an event insert must take no
        // row lock, see `PGSQL.appendEvents`). `feed_position` is the one counter every writing transaction takes
        // its positions from (see `PostgresBatch.finish`). Existing data gets positions as SQLite's v7 gives them:
        // every current membership as a `joined` (by room, then user), then the messages by creation time. Bots
        // are users with an owner; a deleted bot keeps its row (its name stays taken, its messages their author)
        // with `deleted_at` set; messages say whether a bot wrote them.
        """
        CREATE TABLE events (
            pos bigint PRIMARY KEY,
            type text NOT NULL CHECK (type IN ('message', 'joined', 'left')),
            room_id bigint NOT NULL,
            seq bigint,
            user_id bigint
        );
        CREATE INDEX events_room ON events (room_id, pos) WHERE type = 'message';
        CREATE INDEX events_user ON events (user_id, pos) WHERE user_id IS NOT NULL;
        INSERT INTO events (pos, type, room_id, user_id)
            SELECT row_number() OVER (ORDER BY room_id, user_id), 'joined', room_id, user_id FROM room_members;
        INSERT INTO events (pos, type, room_id, seq)
            SELECT (SELECT count(*) FROM room_members) + row_number() OVER (ORDER BY created_at, room_id, seq),
                'message', room_id, seq
            FROM messages;
        CREATE TABLE feed_position (
            id integer PRIMARY KEY CHECK (id = 1),
            pos bigint NOT NULL
        );
        INSERT INTO feed_position (id, pos) SELECT 1, COALESCE(max(pos), 0) FROM events;
        ALTER TABLE users ADD COLUMN bot_owner_id bigint REFERENCES users(id);
        ALTER TABLE users ADD COLUMN deleted_at bigint;
        CREATE INDEX users_bot_owner ON users (bot_owner_id) WHERE bot_owner_id IS NOT NULL;
        ALTER TABLE messages ADD COLUMN bot boolean NOT NULL DEFAULT false;
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
    /// The channel of membership and room changes (no payload), sent by schema v2's triggers.
    static let membersChannel = "konnect_members"
    /// Applied to each new connection: durable commits whatever the server's configuration says (a 201 only
    /// after the commit reached disk), and a bound on how long a statement may wait for a lock.
    static let session = "SET synchronous_commit = on; SET lock_timeout = '10s'; SET client_min_messages = warning"
    static let ping = "SELECT 1"

    /// Column 3: a bot (deleted or not): it has no password, so login refuses it as an unknown user.
    static let userByKey = """
        SELECT username, created_at, password_hash, bot_owner_id IS NOT NULL FROM users WHERE username_key = $1
        """
    static let insertToken = "INSERT INTO tokens (hash, user_id, expires_at) SELECT $1, id, $2 FROM users WHERE username_key = $3"
    static let deleteExpiredTokens = "DELETE FROM tokens WHERE expires_at <= $1"
    static let userByToken = """
        SELECT u.username, u.created_at, t.expires_at, u.bot_owner_id IS NOT NULL FROM tokens t JOIN users u ON u.id = t.user_id
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

    /// A new user ($1 as typed, $2 its key) and their membership of `general`, in one statement. No row: the name
    /// is taken; else the user's id, then `general` (its `joined` event) as `PostgresStore.joinedGeneral` reads it.
    static let insertUserJoiningGeneral = """
        WITH u AS (
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (username_key) DO NOTHING RETURNING id
        ), g AS (
            SELECT id, name, created_at, last_seq, visibility FROM rooms WHERE name = 'general'
        ), j AS (
            INSERT INTO room_members (room_id, user_id) SELECT g.id, u.id FROM g, u ON CONFLICT DO NOTHING
        )
        SELECT u.id, g.id, g.name, g.created_at, g.last_seq, g.visibility FROM u LEFT JOIN g ON true
        """

    /// Public rooms and the user's (a username_key, $1) other ones, after $2 by name, at most $3. Columns as
    /// `roomAccess`.
    static let roomsFor = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username, m.user_id IS NOT NULL
        FROM rooms r
        LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = (SELECT id FROM users WHERE username_key = $1)
        LEFT JOIN users o ON o.id = r.owner_id
        WHERE (r.visibility = 'public' OR m.user_id IS NOT NULL) AND r.name > $2
        ORDER BY r.name LIMIT $3
        """
    /// One room ($1) and whether $2 (a username_key) is a member: name, created_at, last_seq, visibility, owner,
    /// member.
    static let roomAccess = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username,
            EXISTS (SELECT 1 FROM room_members m JOIN users u ON u.id = m.user_id
                    WHERE m.room_id = r.id AND u.username_key = $2)
        FROM rooms r LEFT JOIN users o ON o.id = r.owner_id WHERE r.name = $1
        """
    /// `roomAccess` plus one row per member (column 6, as registered, by lowercase name): one snapshot.
    static let roomDetail = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username,
            EXISTS (SELECT 1 FROM room_members m JOIN users u ON u.id = m.user_id
                    WHERE m.room_id = r.id AND u.username_key = $2),
            mu.username
        FROM rooms r LEFT JOIN users o ON o.id = r.owner_id
        LEFT JOIN LATERAL (
            SELECT u.username, u.username_key FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = r.id
        ) mu ON true
        WHERE r.name = $1 ORDER BY mu.username_key
        """
    /// A public or private room ($1, at $2, visibility $3) owned by $4 (a username_key), who becomes its first
    /// member, in one statement. Answers the owner as registered (NULL: no such user) and how many rooms were
    /// made (0 with an owner: the name is taken), then the new room's id and the owner's (for the `joined` event).
    static let insertRoomOwned = """
        WITH owner AS (SELECT id, username FROM users WHERE username_key = $4),
        made AS (
            INSERT INTO rooms (name, created_at, visibility, owner_id) SELECT $1, $2, $3, id FROM owner
            ON CONFLICT (name) DO NOTHING RETURNING id, owner_id
        ), joined AS (
            INSERT INTO room_members (room_id, user_id) SELECT id, owner_id FROM made
        )
        SELECT (SELECT username FROM owner), (SELECT count(*) FROM made), (SELECT id FROM made), (SELECT id FROM owner)
        """
    /// The direct room $1 (at $2) of the users whose keys are in $3 (text array; $4 of them), made unless it
    /// exists, with them as members — only when every one of them exists. Answers the users found, one a row:
    /// key, username as registered, id, and — when this statement made them a member (their `joined` event) — the
    /// room's id, created_at and last_seq (else NULL).
    /// (A room made at this moment by another instance's uncommitted transaction is not in this statement's
    /// snapshot: its members are then that transaction's, the same fixed pair.)
    static let openDirectRoom = """
        WITH wanted AS (SELECT id, username, username_key FROM users WHERE username_key = ANY ($3::text[])),
        complete AS (SELECT count(*) = $4 AS ok FROM wanted),
        made AS (
            INSERT INTO rooms (name, created_at, visibility) SELECT $1, $2, 'direct' FROM complete WHERE ok
            ON CONFLICT (name) DO NOTHING RETURNING id, created_at, last_seq
        ), target AS (
            SELECT id, created_at, last_seq FROM made UNION ALL SELECT id, created_at, last_seq FROM rooms WHERE name = $1
        ), joined AS (
            INSERT INTO room_members (room_id, user_id)
            SELECT t.id, w.id FROM target t, wanted w, complete c WHERE c.ok ON CONFLICT DO NOTHING
            RETURNING room_id, user_id
        )
        SELECT w.username_key, w.username, w.id, t.id, t.created_at, t.last_seq
        FROM wanted w LEFT JOIN joined j ON j.user_id = w.id LEFT JOIN target t ON t.id = j.room_id
        """
    /// Adds $2 (a username_key) to room $1: the room's id (NULL: none), the user's id (NULL: none), rows added,
    /// the user as registered, then the room as a member sees it (name, created_at, last_seq, visibility, owner;
    /// for the `joined` event).
    static let addMember = """
        WITH r AS (SELECT id, name, created_at, last_seq, visibility, owner_id FROM rooms WHERE name = $1),
        u AS (SELECT id, username FROM users WHERE username_key = $2),
        added AS (
            INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM r, u ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT (SELECT id FROM r), (SELECT id FROM u), (SELECT count(*) FROM added), (SELECT username FROM u),
            r.name, r.created_at, r.last_seq, r.visibility, o.username
        FROM (SELECT 1) one LEFT JOIN r ON true LEFT JOIN users o ON o.id = r.owner_id
        """
    /// Removes $2 (a username_key) from room $1: as `addMember`'s first four columns, with the rows removed.
    static let removeMember = """
        WITH r AS (SELECT id FROM rooms WHERE name = $1), u AS (SELECT id, username FROM users WHERE username_key = $2),
        removed AS (
            DELETE FROM room_members m USING r, u WHERE m.room_id = r.id AND m.user_id = u.id RETURNING 1
        )
        SELECT (SELECT id FROM r), (SELECT id FROM u), (SELECT count(*) FROM removed), (SELECT username FROM u)
        """

    static let roomLastSeqs = "SELECT name, last_seq FROM rooms"
    /// Locks the room's counter row until COMMIT: writers of one room, on any instance, take turns here. Under
    /// the lock the row is the newest committed version, so last_seq and last_created_at are current.
    static let lockRoom = "SELECT id, created_at, last_seq, last_created_at FROM rooms WHERE name = $1 FOR UPDATE"
    /// Moves the counter (and the newest created_at, $4) and queues the wake-up, delivered by PostgreSQL at COMMIT
    /// to every listener.
    static let advanceRoom = """
        WITH moved AS (UPDATE rooms SET last_seq = $1, last_created_at = $4 WHERE id = $2)
        SELECT pg_notify('\(channel)', $1 || ' ' || $3)
        """

    /// One batch's messages in one statement (arrays in PostgreSQL's text form, see `PostgresArray`).
    static let insertMessages = """
        INSERT INTO messages (room_id, seq, id, username, text, created_at, client_id, bot)
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                             $8::boolean[])
        """
    static let messageByClientID = """
        SELECT id, seq, text, created_at, bot, files FROM messages
        WHERE room_id = $1 AND username = $2 AND client_id = $3 AND created_at >= $4 ORDER BY created_at DESC LIMIT 1
        """

    /// A page and the room's last_seq in one statement, so from one snapshot. No row: no such room; one row with
    /// a NULL seq: the room has nothing on that side of the cursor.
    private static func page(_ condition: String, _ order: String) -> String {
        """
        SELECT r.last_seq, m.seq, m.id, m.username, m.text, m.created_at, m.client_id, m.bot, m.files
        FROM rooms r LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id, bot, files FROM messages
            WHERE room_id = r.id \(condition) ORDER BY seq \(order) LIMIT $3
        ) m ON true WHERE r.name = $1
        """
    }
    /// The newest earlier message of each (room, user, client_id, since) of a batch, by 1-based position.
    static let messagesByClientIDs = """
        SELECT k.i, m.id, m.seq, m.text, m.created_at, m.bot, m.files
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS k(room_id, username, client_id, since, i)
        JOIN LATERAL (
            SELECT id, seq, text, created_at, bot, files FROM messages
            WHERE room_id = k.room_id AND username = k.username AND client_id = k.client_id AND created_at >= k.since
            ORDER BY created_at DESC LIMIT 1
        ) m ON true
        """
    static let messagesNewest = page("AND $2::bigint IS NOT NULL", "DESC")
    static let messagesBefore = page("AND seq < $2", "DESC")
    static let messagesAfter = page("AND seq > $2", "ASC")

    /// GET /messages's hot path in one round trip: the token check ($4 hash, $5 now), the token user's access to
    /// the room, and — only when that admits them — the page, one snapshot. Columns 0–2: the token's user and
    /// expiry, NULL when it does not authenticate (then nothing else is read); 3–6: the room's last_seq,
    /// visibility, owner, and whether the user is a member (NULL: no such room); 7–14: the page as `page`; 15:
    /// whether the token's user is a bot.
    private static func authenticatedPage(_ condition: String, _ order: String) -> String {
        """
        SELECT a.username, a.created_at, a.expires_at, r.last_seq, r.visibility, o.username, k.member,
            m.seq, m.id, m.username, m.text, m.created_at, m.client_id, m.bot, m.files, a.bot
        FROM (SELECT 1) one
        LEFT JOIN (
            SELECT u.id, u.username, u.created_at, t.expires_at, u.bot_owner_id IS NOT NULL AS bot FROM tokens t JOIN users u ON u.id = t.user_id
            WHERE t.hash = $4 AND t.expires_at > $5
        ) a ON true
        LEFT JOIN rooms r ON a.username IS NOT NULL AND r.name = $1
        LEFT JOIN users o ON o.id = r.owner_id
        LEFT JOIN LATERAL (
            SELECT EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = r.id AND rm.user_id = a.id) AS member
        ) k ON r.id IS NOT NULL
        LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id, bot, files FROM messages
            WHERE room_id = r.id AND (r.visibility = 'public' OR k.member) \(condition) ORDER BY seq \(order) LIMIT $3
        ) m ON true
        """
    }
    static let authenticatedNewest = authenticatedPage("AND $2::bigint IS NOT NULL", "DESC")
    static let authenticatedBefore = authenticatedPage("AND seq < $2", "DESC")
    static let authenticatedAfter = authenticatedPage("AND seq > $2", "ASC")

    /// The same for a user already known (a cached token): $4 is their username_key. Columns 0–3: last_seq,
    /// visibility, owner, member (no row: no such room); 4–: the page, read only when the access admits.
    private static func accessPage(_ condition: String, _ order: String) -> String {
        """
        SELECT r.last_seq, r.visibility, o.username, k.member, m.seq, m.id, m.username, m.text, m.created_at, m.client_id,
            m.bot, m.files
        FROM rooms r
        LEFT JOIN users o ON o.id = r.owner_id
        CROSS JOIN LATERAL (
            SELECT EXISTS (SELECT 1 FROM room_members rm JOIN users u ON u.id = rm.user_id
                           WHERE rm.room_id = r.id AND u.username_key = $4) AS member
        ) k
        LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id, bot, files FROM messages
            WHERE room_id = r.id AND (r.visibility = 'public' OR k.member) \(condition) ORDER BY seq \(order) LIMIT $3
        ) m ON true
        WHERE r.name = $1
        """
    }
    static let accessNewest = accessPage("AND $2::bigint IS NOT NULL", "DESC")
    static let accessBefore = accessPage("AND seq < $2", "DESC")
    static let accessAfter = accessPage("AND seq > $2", "ASC")

    // MARK: files
    /// A new staged upload (a content row without a sha256) at $1: its id.
    static let insertStagedContent = "INSERT INTO file_contents (created_at) VALUES ($1) RETURNING id"
    /// Chunk $2 of staged upload $1, unless the upload is not staged (0 rows: finished, aborted or dropped).
    static let insertChunk = """
        INSERT INTO file_chunks (content_id, idx, data) SELECT id, $2, $3 FROM file_contents WHERE id = $1 AND sha256 IS NULL
        ON CONFLICT (content_id, idx) DO UPDATE SET data = EXCLUDED.data
        """
    /// Locks staged upload $1 until COMMIT: its id, or no row when it is not staged.
    static let lockStaged = "SELECT id FROM file_contents WHERE id = $1 AND sha256 IS NULL FOR UPDATE"
    /// Serialises finishing uploads of one sha256 ($1) across instances until COMMIT, so the content lookup that
    /// follows (a new snapshot, READ COMMITTED) sees a content sealed by whoever finished first.
    static let lockSHA = "SELECT pg_advisory_xact_lock(hashtextextended('konnect file ' || $1, 0))"
    static let contentBySHA = "SELECT id FROM file_contents WHERE sha256 = $1"
    static let sealContent = "UPDATE file_contents SET sha256 = $1, size = $2 WHERE id = $3 AND sha256 IS NULL"
    /// Drops staged upload $1 and its chunks (no-op for a sealed content).
    static let deleteStaged = """
        WITH gone AS (DELETE FROM file_contents WHERE id = $1 AND sha256 IS NULL RETURNING id)
        DELETE FROM file_chunks WHERE content_id IN (SELECT id FROM gone)
        """
    /// Drops every upload staged before $1 (its uploader vanished mid-upload), chunks and all.
    static let deleteStaleStaged = """
        WITH gone AS (DELETE FROM file_contents WHERE sha256 IS NULL AND created_at < $1 RETURNING id)
        DELETE FROM file_chunks WHERE content_id IN (SELECT id FROM gone)
        """
    /// $1 id, $2 content, $3 name, $4 type, $5 width, $6 height, $7 created_at, $8 the uploader's key.
    static let insertFile = """
        INSERT INTO files (id, content_id, name, type, width, height, uploader_id, created_at)
        SELECT $1, $2, $3, $4, $5::integer, $6::integer, id, $7 FROM users WHERE username_key = $8
        """
    /// A file's columns as `PostgresStore.fileInfo` reads them.
    private static let fileColumns = """
        f.id, f.name, f.type, f.width, f.height, c.size, c.sha256, u.username, f.created_at
        FROM files f JOIN file_contents c ON c.id = f.content_id JOIN users u ON u.id = f.uploader_id
        """
    static let fileByID = "SELECT " + fileColumns + " WHERE f.id = $1"
    /// The files whose ids are in $1 (a text array), any order.
    static let filesByIDs = "SELECT " + fileColumns + " WHERE f.id = ANY ($1::text[])"
    static let fileChunk = """
        SELECT data FROM file_chunks WHERE content_id = (SELECT content_id FROM files WHERE id = $1) AND idx = $2
        """
    static let fileRooms = """
        SELECT DISTINCT r.name FROM message_files m JOIN rooms r ON r.id = m.room_id WHERE m.file_id = $1
        """
    /// One batch's attachments in one statement, after its messages: the links ($1–$4, one per file) and each
    /// message's `files` JSON ($5–$7, one per message with files; see `PostgresStore.filesJSON`).
    static let insertMessageFiles = """
        WITH linked AS (
            INSERT INTO message_files (room_id, seq, position, file_id)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::integer[], $4::text[])
        )
        UPDATE messages m SET files = j.files FROM unnest($5::bigint[], $6::bigint[], $7::text[]) AS j(room_id, seq, files)
        WHERE m.room_id = j.room_id AND m.seq = j.seq
        """

    // MARK: feed and bots

    /// The channel of feed commits: the payload is the newest position the committing transaction took.
    static let feedChannel = "konnect_feed"
    static let newestPos = "SELECT pos FROM feed_position WHERE id = 1"

    /// Takes $1 positions for one transaction's events and inserts them (arrays $2 type, $3 room_id, $4 seq,
    /// $5 user_id, in the order they get their positions), queueing the NOTIFY. Answers the last position taken.
    ///
    /// Why a counter row and not a SEQUENCE: `nextval` is not transactional — it hands numbers out in the order
    /// transactions ASK, and they commit in another order. A transaction that took 10 and commits after one that
    /// took 11 would let a follower read 11, move its cursor to 11, and never see 10 (issue 11: "a follower never
    /// misses a row committed late with a lower number"). The UPDATE locks the one row until COMMIT or ROLLBACK: the
    /// next writer, on any instance, waits here and reads the committed value, so positions are taken in commit
    /// order (a rollback gives them back). The lock is held from this statement to COMMIT, so the writer runs it
    /// last (`PostgresBatch.finish`), after every statement that could wait on another lock; `events` has no
    /// foreign keys so this insert takes no row lock of its own.
    static let appendEvents = """
        WITH p AS (UPDATE feed_position SET pos = pos + $1 WHERE id = 1 RETURNING pos),
        ins AS (
            INSERT INTO events (pos, type, room_id, seq, user_id)
            SELECT p.pos - $1 + e.i, e.type, e.room_id, e.seq, e.user_id
            FROM p, unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS e(type, room_id, seq, user_id, i)
        )
        SELECT pos, pg_notify('\(feedChannel)', pos::text) FROM p
        """

    /// A user's ($1, a username_key) feed after $2 (NULL: none), at most $3 events, in ONE statement, so one
    /// snapshot: the newest position (the committed counter: every event up to it is committed, none above it),
    /// the user's id (NULL: no such user), their rooms (names joined by a space, which no room name contains),
    /// then one row per event (none: a single row with NULL pos) — pos, type, the room (name, created_at,
    /// last_seq, visibility, owner) and, for a message, seq, id, user, text, created_at, client_id, bot, files.
    /// A user's membership spans come from their own joined/left events (a span runs from a `joined` to the next
    /// `left` of the same room, or on); the messages inside a span after $2 (at most $3 per span), plus the
    /// user's own membership events, by pos. A span's messages are one range of `events_room` (room_id, pos),
    /// written as row comparisons so the planner walks that index: with `room_id = … AND pos > …` it preferred
    /// the primary key's pos order and filtered by room, reading every later event of every room for a quiet
    /// room (36 ms instead of 3 ms at 210,000 events; 11.5 instead of 1.5 ms for a busy one, `after=0`).
    static let feed = """
        WITH u AS (SELECT id FROM users WHERE username_key = $1),
        spans AS (
            SELECT j.room_id, j.pos AS from_pos, COALESCE((SELECT min(l.pos) FROM events l WHERE l.user_id = j.user_id
                AND l.room_id = j.room_id AND l.type = 'left' AND l.pos > j.pos), 9223372036854775807) AS to_pos
            FROM events j JOIN u ON j.user_id = u.id WHERE j.type = 'joined'
        ), picked AS (
            (SELECT e.pos FROM spans s CROSS JOIN LATERAL (
                SELECT pos FROM events e WHERE e.type = 'message'
                    AND (e.room_id, e.pos) > (s.room_id, GREATEST(s.from_pos, $2::bigint))
                    AND (e.room_id, e.pos) < (s.room_id, s.to_pos)
                ORDER BY e.room_id, e.pos LIMIT $3
            ) e WHERE s.to_pos > $2::bigint
            UNION ALL
            SELECT e.pos FROM events e JOIN u ON e.user_id = u.id WHERE e.pos > $2::bigint)
            ORDER BY 1 LIMIT $3
        )
        SELECT n.pos, (SELECT id FROM u),
            (SELECT string_agg(r.name, ' ' ORDER BY r.name) FROM room_members m JOIN rooms r ON r.id = m.room_id
             WHERE m.user_id = (SELECT id FROM u)),
            e.pos, e.type, r.name, r.created_at, r.last_seq, r.visibility, o.username,
            m.seq, m.id, m.username, m.text, m.created_at, m.client_id, m.bot, m.files
        FROM feed_position n
        LEFT JOIN picked p ON true
        LEFT JOIN events e ON e.pos = p.pos
        LEFT JOIN rooms r ON r.id = e.room_id
        LEFT JOIN users o ON o.id = r.owner_id
        LEFT JOIN messages m ON e.type = 'message' AND m.room_id = e.room_id AND m.seq = e.seq
        WHERE n.id = 1
        ORDER BY e.pos
        """

    /// Bot $1 (its key $2, created at $3) of the owner whose key is $4, with its one token ($5 hash, $6 expiry)
    /// and its membership of `general`, in one statement. Columns: the owner as registered (NULL: no such user),
    /// the bot's id (NULL: the name is taken), then `general` as `insertUserJoiningGeneral` answers it. A bot has
    /// no password ('!' matches no hash).
    static let insertBot = """
        WITH owner AS (SELECT id, username FROM users WHERE username_key = $4),
        b AS (
            INSERT INTO users (username, username_key, password_hash, created_at, bot_owner_id)
            SELECT $1, $2, '!', $3, id FROM owner ON CONFLICT (username_key) DO NOTHING RETURNING id
        ), t AS (
            INSERT INTO tokens (hash, user_id, expires_at) SELECT $5, id, $6 FROM b
        ), g AS (
            SELECT id, name, created_at, last_seq, visibility FROM rooms WHERE name = 'general'
        ), j AS (
            INSERT INTO room_members (room_id, user_id) SELECT g.id, b.id FROM g, b ON CONFLICT DO NOTHING
        )
        SELECT (SELECT username FROM owner), b.id, g.id, g.name, g.created_at, g.last_seq, g.visibility
        FROM (SELECT 1) one LEFT JOIN b ON true LEFT JOIN g ON true
        """
    /// $1 the owner's key: their live bots.
    static let botsOf = """
        SELECT b.username, o.username, b.created_at FROM users b JOIN users o ON o.id = b.bot_owner_id
        WHERE o.username_key = $1 AND b.deleted_at IS NULL ORDER BY b.username_key
        """
    /// $1 the bot's key, $2 the owner's key: id, username, owner, created_at. Locks the bot's row to COMMIT, so
    /// two rotations (or a rotation and a deletion) on any instances take turns and the second sees the first's
    /// tokens (FOR NO KEY UPDATE: foreign-key checks of other writers, such as adding the bot to a room, go on).
    static let lockBotOf = """
        SELECT b.id, b.username, o.username, b.created_at FROM users b JOIN users o ON o.id = b.bot_owner_id
        WHERE b.username_key = $1 AND o.username_key = $2 AND b.deleted_at IS NULL FOR NO KEY UPDATE OF b
        """
    /// Every token of user $1 deleted, and each one's NOTIFY on the logout channel (evicted on every instance).
    static let deleteUserTokens = """
        WITH gone AS (DELETE FROM tokens WHERE user_id = $1 RETURNING hash)
        SELECT pg_notify('\(tokenChannel)', encode(hash, 'hex')) FROM gone
        """
    static let insertTokenFor = "INSERT INTO tokens (hash, user_id, expires_at) VALUES ($1, $2, $3)"
    static let markDeleted = "UPDATE users SET deleted_at = $1 WHERE id = $2"
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
