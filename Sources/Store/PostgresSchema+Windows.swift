// The page statement of the message cache: for a batch of known users' pages, access, last_seq and only the
// messages not held in memory.

extension PGSQL {
    /// Every page waiting for a reader, in one statement (one round trip, one executor start, one snapshot taken
    /// after each of them was asked): request i (1-based, `WITH ORDINALITY`) is room $1[i], cursor kind $2[i]
    /// (0 newest, 1 before, 2 after) at bound $3[i], `limit + 1` rows $4[i], for the user whose username_key is
    /// $5[i], leaving out the seqs $6[i]…$7[i] that `PostgresMessageCache` holds. As `accessPage`, the access is
    /// read every time and no message is read unless it admits the user. Seqs are gap-free, so the page is named
    /// by its window of seqs (lo…hi) instead of a LIMIT: the `limit + 1` seqs after the cursor, or up to the
    /// cursor (or the room's newest seq when that is lower). Columns 0: i; 1–5: the room's id, last_seq,
    /// visibility, owner, whether the user is a member (no row for i: no such room); 6–: the messages read.
    ///
    /// Plan (EXPLAIN ANALYZE, PostgreSQL 15): every LATERAL has `OFFSET 0` or a LIMIT so it stays a per-request
    /// index lookup; without it PostgreSQL pulls the membership EXISTS up into a SubPlan run once per message
    /// row (161 buffer hits for a page of 50 instead of 11), and hash-joins messages of the whole room.
    static let windowBatch = """
        SELECT q.i, r.id, r.last_seq, r.visibility, k.owner, k.member,
            m.seq, m.id, m.username, m.text, m.created_at, m.client_id, m.bot, m.files
        FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[])
            WITH ORDINALITY AS q(room, kind, bound, span, user_key, skip_lo, skip_hi, i)
        CROSS JOIN LATERAL (SELECT id, last_seq, visibility, owner_id FROM rooms WHERE name = q.room OFFSET 0) r
        CROSS JOIN LATERAL (
            SELECT (SELECT username FROM users WHERE id = r.owner_id) AS owner,
                EXISTS (SELECT 1 FROM room_members rm JOIN users u ON u.id = rm.user_id
                        WHERE rm.room_id = r.id AND u.username_key = q.user_key) AS member,
                CASE WHEN q.kind = 2 THEN q.bound + 1 ELSE least(q.bound - 1, r.last_seq) - q.span + 1 END AS lo,
                CASE WHEN q.kind = 2 THEN q.bound + q.span ELSE least(q.bound - 1, r.last_seq) END AS hi
            OFFSET 0
        ) k
        LEFT JOIN LATERAL (
            SELECT seq, id, username, text, created_at, client_id, bot, files FROM messages
            WHERE room_id = r.id AND (r.visibility = 'public' OR k.member) AND seq >= k.lo AND seq <= k.hi
                AND (seq < q.skip_lo OR seq > q.skip_hi)
            ORDER BY seq LIMIT q.span
        ) m ON true
        """
}
