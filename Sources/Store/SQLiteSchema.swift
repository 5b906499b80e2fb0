// The SQLite schema as numbered migrations; `PRAGMA user_version` records how many have run.

/// Schema migrations: step N takes a database at version N-1 to version N, in its own transaction. Never edit
/// a released step; add a new one.
enum SQLiteSchema {
    /// Milliseconds since the epoch, in SQL (the migrations run before any Swift clock is involved).
    private static let nowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    static let migrations: [String] = [
        // v1: accounts, tokens, rooms with their newest seq, messages keyed by (room, seq); room `general`.
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE tokens (
            hash BLOB PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE rooms (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            last_seq INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            room_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            user TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            client_id TEXT,
            PRIMARY KEY (room_id, seq)
        ) WITHOUT ROWID;
        INSERT INTO rooms (name, created_at) VALUES ('general', \(nowMs));
        """,
        // v2: login throttling shared by every instance; idempotency lookups; pruning expired tokens.
        """
        CREATE TABLE login_failures (
            username_key TEXT NOT NULL,
            address TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX login_failures_pair ON login_failures (username_key, address, at);
        CREATE INDEX messages_client_id ON messages (room_id, user, client_id, created_at) WHERE client_id IS NOT NULL;
        CREATE INDEX tokens_expires_at ON tokens (expires_at);
        """,
        // v3: forget stale failed logins of every pair, not only of the pair failing again.
        """
        CREATE INDEX login_failures_at ON login_failures (at);
        """,
        // v4: generations the readers' caches compare (see `SQLiteReader`), bumped by triggers in the very
        // transaction of the change, by any connection of any version of this code or a hand-run sqlite3:
        // `tokens` on any token or user removed or altered (a logout, an expiry purge); `history` on any message
        // altered or removed, or a room removed or renamed (never done today: pages are otherwise keyed by the
        // room's last_seq). Inserts bump nothing: an unknown token is never cached, a new message moves last_seq.
        """
        CREATE TABLE cache_generations (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            tokens INTEGER NOT NULL,
            history INTEGER NOT NULL
        );
        INSERT INTO cache_generations (id, tokens, history) VALUES (1, 0, 0);
        CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
            BEGIN UPDATE cache_generations SET tokens = tokens + 1; END;
        CREATE TRIGGER tokens_updated AFTER UPDATE ON tokens
            BEGIN UPDATE cache_generations SET tokens = tokens + 1; END;
        CREATE TRIGGER users_deleted AFTER DELETE ON users
            BEGIN UPDATE cache_generations SET tokens = tokens + 1; END;
        CREATE TRIGGER users_updated AFTER UPDATE ON users
            BEGIN UPDATE cache_generations SET tokens = tokens + 1; END;
        CREATE TRIGGER messages_deleted AFTER DELETE ON messages
            BEGIN UPDATE cache_generations SET history = history + 1; END;
        CREATE TRIGGER messages_updated AFTER UPDATE ON messages
            BEGIN UPDATE cache_generations SET history = history + 1; END;
        CREATE TRIGGER rooms_deleted AFTER DELETE ON rooms
            BEGIN UPDATE cache_generations SET history = history + 1; END;
        CREATE TRIGGER rooms_renamed AFTER UPDATE OF id, name ON rooms
            BEGIN UPDATE cache_generations SET history = history + 1; END;
        """,
        // v5: rooms v2 (../shared/API.md "Rooms v2"). Rooms gain a visibility and an owner (rooms of v1 stay public,
        // without one); memberships; every existing user joins `general`. The `members` generation is what the
        // readers' access caches compare: triggers bump it on any membership change, any room created, removed
        // or changed other than its last_seq (a post), and any user removed or renamed.
        """
        ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
            CHECK (visibility IN ('public', 'private', 'direct'));
        ALTER TABLE rooms ADD COLUMN owner_id INTEGER REFERENCES users(id);
        CREATE TABLE room_members (
            room_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            PRIMARY KEY (room_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX room_members_user ON room_members (user_id, room_id);
        INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'general';
        ALTER TABLE cache_generations ADD COLUMN members INTEGER NOT NULL DEFAULT 0;
        CREATE TRIGGER room_members_inserted AFTER INSERT ON room_members
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER room_members_deleted AFTER DELETE ON room_members
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER room_members_updated AFTER UPDATE ON room_members
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER rooms_inserted AFTER INSERT ON rooms
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER rooms_deleted_members AFTER DELETE ON rooms
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER rooms_access_changed AFTER UPDATE OF id, name, visibility, owner_id ON rooms
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER users_deleted_members AFTER DELETE ON users
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        CREATE TRIGGER users_renamed AFTER UPDATE OF id, username, username_key ON users
            BEGIN UPDATE cache_generations SET members = members + 1; END;
        """,
        // v6: files (issue 15). Content is kept once per sha256 (`file_contents`, NULL sha256 while an upload is
        // staged) in 256 KiB chunks (`file_chunks`, a rowid table: each row's blob lives in overflow pages either
        // way); `files` are named uploads of a content; `message_files` attach files to messages in order. No cache
        // generation: a file never changes, and attachments arrive with their message (a new last_seq).
        """
        CREATE TABLE file_contents (
            id INTEGER PRIMARY KEY,
            sha256 TEXT UNIQUE,
            size INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX file_contents_staged ON file_contents (created_at) WHERE sha256 IS NULL;
        CREATE TABLE file_chunks (
            content_id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (content_id, idx)
        );
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            content_id INTEGER NOT NULL REFERENCES file_contents(id),
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            width INTEGER,
            height INTEGER,
            uploader_id INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL
        );
        CREATE TABLE message_files (
            room_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            file_id TEXT NOT NULL,
            PRIMARY KEY (room_id, seq, position)
        ) WITHOUT ROWID;
        CREATE INDEX message_files_file ON message_files (file_id, room_id);
        """,
        // v7: the feed (issue 10, ../shared/API.md "The feed") and bots. `events` holds one row per feed event at
        // its position `pos` (the rowid): `message` events point at (room_id, seq), `joined`/`left` at user_id.
        // Positions are allocated by the writer inside the writing transaction (see `SQLiteBatch`), so pos order
        // is commit order. Existing data gets positions in a fixed order: every current membership as a `joined`
        // (no history of memberships existed), then the messages by creation time. Bots are users with an owner
        // (`bot_owner_id`); a deleted bot keeps its row (its name stays taken, its messages keep their author)
        // with `deleted_at` set; messages say whether a bot wrote them.
        """
        CREATE TABLE events (
            pos INTEGER PRIMARY KEY,
            type TEXT NOT NULL CHECK (type IN ('message', 'joined', 'left')),
            room_id INTEGER NOT NULL,
            seq INTEGER,
            user_id INTEGER
        );
        CREATE INDEX events_room ON events (room_id, pos) WHERE type = 'message';
        CREATE INDEX events_user ON events (user_id, pos) WHERE user_id IS NOT NULL;
        INSERT INTO events (type, room_id, user_id)
            SELECT 'joined', room_id, user_id FROM room_members ORDER BY room_id, user_id;
        INSERT INTO events (type, room_id, seq)
            SELECT 'message', room_id, seq FROM messages ORDER BY created_at, room_id, seq;
        ALTER TABLE users ADD COLUMN bot_owner_id INTEGER REFERENCES users(id);
        ALTER TABLE users ADD COLUMN deleted_at INTEGER;
        CREATE INDEX users_bot_owner ON users (bot_owner_id) WHERE bot_owner_id IS NOT NULL;
        ALTER TABLE messages ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
        """,
    ]

    static var currentVersion: Int { migrations.count }

    /// Brings the database up to `currentVersion`, one step per transaction. A database newer than this code
    /// is refused rather than guessed at.
    static func migrate(_ db: SQLiteConnection, to target: Int = currentVersion) throws {
        let version = try db.query("PRAGMA user_version", []) { Int($0.int(0)) }.first ?? 0
        guard version <= currentVersion else {
            throw SQLiteError(code: 0, message: "database schema v\(version) is newer than this server (v\(currentVersion))")
        }
        for step in version..<max(version, target) {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.execute(migrations[step])
                try db.execute("PRAGMA user_version = \(step + 1)")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// Every statement the store runs, by name.
enum SQL {
    static let pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
    static let begin = "BEGIN IMMEDIATE"
    static let beginRead = "BEGIN DEFERRED"
    static let commit = "COMMIT"
    static let rollback = "ROLLBACK"
    static let ping = "SELECT 1"
    static let dataVersion = "PRAGMA data_version"
    /// One statement, one read transaction: the version and the generations the caches are kept by (NULL if
    /// the row is gone: then nothing is kept).
    static let cacheState = """
        SELECT (SELECT data_version FROM pragma_data_version), (SELECT tokens FROM cache_generations WHERE id = 1),
            (SELECT history FROM cache_generations WHERE id = 1), (SELECT members FROM cache_generations WHERE id = 1)
        """
    static let roomLastSeq = "SELECT last_seq FROM rooms WHERE name = ?"

    static let insertUser = """
        INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (username_key) DO NOTHING
        """
    static let userByKey = """
        SELECT username, created_at, password_hash, bot_owner_id IS NOT NULL FROM users WHERE username_key = ?
        """
    static let insertToken = "INSERT INTO tokens (hash, user_id, expires_at) SELECT ?, id, ? FROM users WHERE username_key = ?"
    static let deleteExpiredTokens = "DELETE FROM tokens WHERE expires_at <= ?"
    static let userByToken = """
        SELECT u.username, u.created_at, t.expires_at, u.bot_owner_id IS NOT NULL
        FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?
        """
    static let deleteToken = "DELETE FROM tokens WHERE hash = ?"

    static let loginFailures = """
        SELECT at FROM login_failures WHERE username_key = ? AND address = ? AND at > ? ORDER BY at
        """
    static let insertLoginFailure = "INSERT INTO login_failures (username_key, address, at) VALUES (?, ?, ?)"
    static let forgetLoginFailures = "DELETE FROM login_failures WHERE at < ?"  // bound to `since` + 1: at ≤ since
    static let clearLoginFailures = "DELETE FROM login_failures WHERE username_key = ? AND address = ?"

    static let userID = "SELECT id FROM users WHERE username_key = ?"
    /// Public rooms and the user's (?1: username_key) other ones, after ?2 by name, at most ?3.
    static let roomsFor = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username, m.user_id IS NOT NULL
        FROM rooms r
        LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = (SELECT id FROM users WHERE username_key = ?1)
        LEFT JOIN users o ON o.id = r.owner_id
        WHERE (r.visibility = 'public' OR m.user_id IS NOT NULL) AND r.name > ?2
        ORDER BY r.name LIMIT ?3
        """
    /// One room and whether ?2 (a username_key) is a member.
    static let roomAccess = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username,
            EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id
                    AND m.user_id = (SELECT id FROM users WHERE username_key = ?2))
        FROM rooms r LEFT JOIN users o ON o.id = r.owner_id WHERE r.name = ?1
        """
    static let roomMembers = """
        SELECT u.username FROM room_members m JOIN users u ON u.id = m.user_id JOIN rooms r ON r.id = m.room_id
        WHERE r.name = ? ORDER BY u.username_key
        """
    static let roomID = "SELECT id FROM rooms WHERE name = ?"
    static let roomViewByID = """
        SELECT r.name, r.created_at, r.last_seq, r.visibility, o.username FROM rooms r
        LEFT JOIN users o ON o.id = r.owner_id WHERE r.id = ?
        """
    static let generalID = "SELECT id FROM rooms WHERE name = 'general'"
    static let insertRoomOwned = """
        INSERT INTO rooms (name, created_at, visibility, owner_id)
        SELECT ?1, ?2, ?3, id FROM users WHERE username_key = ?4
        ON CONFLICT (name) DO NOTHING
        """
    static let insertDirectRoom = """
        INSERT INTO rooms (name, created_at, visibility) VALUES (?, ?, 'direct') ON CONFLICT (name) DO NOTHING
        """
    static let insertMember = "INSERT INTO room_members (room_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
    static let deleteMember = "DELETE FROM room_members WHERE room_id = ? AND user_id = ?"
    static let joinGeneral = """
        INSERT INTO room_members (room_id, user_id)
        SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'general' AND u.username_key = ?
        ON CONFLICT DO NOTHING
        """
    static let roomLastSeqs = "SELECT name, last_seq FROM rooms"
    static let roomByName = "SELECT id, created_at, last_seq FROM rooms WHERE name = ?"
    static let messageCreatedAt = "SELECT created_at FROM messages WHERE room_id = ? AND seq = ?"
    static let insertRoom = "INSERT INTO rooms (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    static let setRoomLastSeq = "UPDATE rooms SET last_seq = ? WHERE id = ?"

    static let insertStagedContent = "INSERT INTO file_contents (created_at) VALUES (?)"
    static let stagedContent = "SELECT id FROM file_contents WHERE id = ? AND sha256 IS NULL"
    static let insertChunk = "INSERT OR REPLACE INTO file_chunks (content_id, idx, data) VALUES (?, ?, ?)"
    static let contentBySHA = "SELECT id FROM file_contents WHERE sha256 = ?"
    static let sealContent = "UPDATE file_contents SET sha256 = ?, size = ? WHERE id = ?"
    static let deleteChunks = "DELETE FROM file_chunks WHERE content_id = ?"
    static let deleteContent = "DELETE FROM file_contents WHERE id = ? AND sha256 IS NULL"
    static let staleStaged = "SELECT id FROM file_contents WHERE sha256 IS NULL AND created_at < ?"
    static let insertFile = """
        INSERT INTO files (id, content_id, name, type, width, height, uploader_id, created_at)
        SELECT ?, ?, ?, ?, ?, ?, id, ? FROM users WHERE username_key = ?
        """
    /// A file's columns as `SQLiteStore.fileInfo` reads them.
    static let fileColumns = """
        f.id, f.name, f.type, f.width, f.height, c.size, c.sha256, u.username, f.created_at
        FROM files f JOIN file_contents c ON c.id = f.content_id JOIN users u ON u.id = f.uploader_id
        """
    static let fileByID = "SELECT " + fileColumns + " WHERE f.id = ?"
    static let fileChunk = "SELECT data FROM file_chunks WHERE content_id = (SELECT content_id FROM files WHERE id = ?) AND idx = ?"
    static let fileRooms = """
        SELECT DISTINCT r.name FROM message_files m JOIN rooms r ON r.id = m.room_id WHERE m.file_id = ?
        """
    static let insertMessageFile = "INSERT INTO message_files (room_id, seq, position, file_id) VALUES (?, ?, ?, ?)"
    /// Files of messages ?2 ≤ seq ≤ ?3 of room ?1, by seq then position: the page's attachments in one query.
    static let messageFiles = """
        SELECT m.seq, f.id, f.name, f.type, f.width, f.height, c.size, c.sha256, u.username, f.created_at
        FROM message_files m JOIN files f ON f.id = m.file_id JOIN file_contents c ON c.id = f.content_id
        JOIN users u ON u.id = f.uploader_id
        WHERE m.room_id = ?1 AND m.seq BETWEEN ?2 AND ?3 ORDER BY m.seq, m.position
        """
    /// ?1 username, ?2 its key, ?3 created_at, ?4 the owner's key. A bot has no password ('!' matches no hash).
    static let insertBot = """
        INSERT INTO users (username, username_key, password_hash, created_at, bot_owner_id)
        SELECT ?1, ?2, '!', ?3, id FROM users WHERE username_key = ?4
        ON CONFLICT (username_key) DO NOTHING
        """
    /// ?1 the owner's key: their live bots.
    static let botsOf = """
        SELECT b.username, o.username, b.created_at FROM users b JOIN users o ON o.id = b.bot_owner_id
        WHERE o.username_key = ?1 AND b.deleted_at IS NULL ORDER BY b.username_key
        """
    /// ?1 the bot's key, ?2 the owner's key.
    static let botOf = """
        SELECT b.id, b.username, o.username, b.created_at FROM users b JOIN users o ON o.id = b.bot_owner_id
        WHERE b.username_key = ?1 AND o.username_key = ?2 AND b.deleted_at IS NULL
        """
    static let deleteUserTokens = "DELETE FROM tokens WHERE user_id = ?"
    static let insertTokenFor = "INSERT INTO tokens (hash, user_id, expires_at) VALUES (?, ?, ?)"
    static let markDeleted = "UPDATE users SET deleted_at = ? WHERE id = ?"

    static let newestPos = "SELECT COALESCE(MAX(pos), 0) FROM events"
    static let insertMessageEvent = "INSERT INTO events (pos, type, room_id, seq) VALUES (?, 'message', ?, ?)"
    static let insertMemberEvent = "INSERT INTO events (pos, type, room_id, user_id) VALUES (?, ?, ?, ?)"
    /// ?1 user id, ?2 after, ?3 limit + 1. A user's membership spans come from their own joined/left events
    /// (a span runs from a `joined` to the next `left` of the same room, or on); the messages inside a span and
    /// after ?2, plus the user's own membership events, by pos.
    static let feed = """
        WITH spans(room_id, from_pos, to_pos) AS (
            SELECT j.room_id, j.pos, COALESCE((SELECT MIN(l.pos) FROM events l WHERE l.user_id = j.user_id
                AND l.room_id = j.room_id AND l.type = 'left' AND l.pos > j.pos), 9223372036854775807)
            FROM events j WHERE j.user_id = ?1 AND j.type = 'joined'
        ), picked(pos) AS (
            SELECT e.pos FROM spans s JOIN events e ON e.room_id = s.room_id AND e.type = 'message'
                AND e.pos > s.from_pos AND e.pos < s.to_pos AND e.pos > ?2
            WHERE s.to_pos > ?2
            UNION ALL
            SELECT pos FROM events WHERE user_id = ?1 AND pos > ?2
            ORDER BY 1 LIMIT ?3
        )
        SELECT e.pos, e.type, r.name, r.created_at, r.last_seq, r.visibility, o.username,
            m.seq, m.id, m.user, m.text, m.created_at, m.client_id, m.bot, e.room_id
        FROM picked p JOIN events e ON e.pos = p.pos JOIN rooms r ON r.id = e.room_id
        LEFT JOIN users o ON o.id = r.owner_id
        LEFT JOIN messages m ON e.type = 'message' AND m.room_id = e.room_id AND m.seq = e.seq
        ORDER BY e.pos
        """
    static let memberRooms = """
        SELECT r.name FROM room_members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ? ORDER BY r.name
        """

    static let insertMessage = """
        INSERT INTO messages (room_id, seq, id, user, text, created_at, client_id, bot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let messageByClientID = """
        SELECT id, seq, text, created_at, bot FROM messages
        WHERE room_id = ? AND user = ? AND client_id = ? AND created_at >= ? ORDER BY created_at DESC LIMIT 1
        """
    static let messagesNewest = """
        SELECT seq, id, user, text, created_at, client_id, bot FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?
        """
    static let messagesBefore = """
        SELECT seq, id, user, text, created_at, client_id, bot FROM messages WHERE room_id = ? AND seq < ?
        ORDER BY seq DESC LIMIT ?
        """
    static let messagesAfter = """
        SELECT seq, id, user, text, created_at, client_id, bot FROM messages WHERE room_id = ? AND seq > ?
        ORDER BY seq ASC LIMIT ?
        """
}
