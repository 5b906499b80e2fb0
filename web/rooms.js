// Room names as people read them: direct rooms (`@alice,bob`) by the other person, private rooms with a lock.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  /** Whether `name` is a direct room (API.md "Rooms v2": `@a,b`, the two usernames lowercased and sorted). */
  function isDirect(name) { return typeof name === 'string' && name.startsWith('@'); }

  /** The other member of a direct room as `me` sees it; `null` for a self-chat (`@alice,alice`). */
  function peer(name, me) {
    const [a, b] = name.slice(1).split(',');
    const self = String(me || '').toLowerCase();
    if (a === b) return null;
    return a === self ? b : a;
  }

  /** What the sidebar and the header call a room: "bob" for `@alice,bob` (to alice), "you" for a self-chat. */
  function label(name, me) {
    if (!isDirect(name)) return name;
    return peer(name, me) || 'you';
  }

  /** A room in running text: "#design-team", "bob", "you". */
  function mention(name, me) { return isDirect(name) ? label(name, me) : `#${name}`; }

  /** The notes at the top of a room: "This is the beginning of …", "No messages … yet". */
  function notes(name, me) {
    if (!isDirect(name)) return { beginning: `#${name}`, empty: `in #${name}` };
    const other = peer(name, me);
    return other ? { beginning: `your conversation with ${other}`, empty: `with ${other}` }
      : { beginning: 'your notes to yourself', empty: 'to yourself' };
  }

  K.rooms = { isDirect, peer, label, mention, notes };
})(window.Konnect);
