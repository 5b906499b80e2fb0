// Message rendering: user text only ever becomes text nodes; http(s) links become <a> elements built by hand.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  const TRAILING = /[.,;:!?)\]}'"»”’]+$/;
  const GROUP_GAP_MS = 5 * 60 * 1000;
  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

  /** Text as a fragment of text nodes and links. Never parses HTML: `<script>` stays characters. */
  function linkify(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      let url = match[0];
      const trail = url.match(TRAILING);
      // Keep a closing parenthesis that belongs to the URL (Wikipedia style), drop sentence punctuation.
      if (trail && !(trail[0] === ')' && url.includes('('))) url = url.slice(0, -trail[0].length);
      const href = safeHref(url);
      if (!href) continue;
      if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
      const a = document.createElement('a');
      a.href = href;
      a.textContent = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      fragment.append(a);
      last = match.index + url.length;
    }
    if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function safeHref(candidate) {
    try {
      const url = new URL(candidate);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function dayKey(date) { return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`; }

  function dayLabel(date) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(date) === dayKey(today)) return 'Today';
    if (dayKey(date) === dayKey(yesterday)) return 'Yesterday';
    const options = { weekday: 'long', month: 'long', day: 'numeric' };
    if (date.getFullYear() !== today.getFullYear()) options.year = 'numeric';
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }

  /** A stable colour class for a name, so avatars differ without inline styles (CSP: style-src 'self'). */
  function hueClass(name) {
    let hash = 0;
    for (const ch of name.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return `hue-${hash % 8}`;
  }

  function avatar(name) {
    const span = document.createElement('span');
    span.className = `avatar ${hueClass(name)}`;
    span.setAttribute('aria-hidden', 'true');
    span.textContent = Array.from(name)[0].toUpperCase();
    return span;
  }

  function daySeparator(date) {
    const li = document.createElement('li');
    li.className = 'day';
    li.setAttribute('role', 'separator');
    const span = document.createElement('span');
    span.textContent = dayLabel(date);
    li.append(span);
    return li;
  }

  /** Whether `msg` continues `prev`'s group: same author, same day, within a few minutes. */
  function continues(prev, msg) {
    if (!prev || prev.user !== msg.user) return false;
    const a = new Date(prev.created_at), b = new Date(msg.created_at);
    return dayKey(a) === dayKey(b) && b - a < GROUP_GAP_MS;
  }

  /**
   * One message as list nodes (a day separator first when the day changes). `me` marks own messages. The first
   * message of a group carries the author (others only: your own need no name) and the time; the others show
   * their time on hover or focus. Text, names and the bubble take their direction from their content (RTL).
   */
  function messageNodes(msg, prev, me, status) {
    const nodes = [];
    const date = new Date(msg.created_at || Date.now());
    if (!prev || dayKey(new Date(prev.created_at)) !== dayKey(date)) nodes.push(daySeparator(date));
    const own = msg.user === me;
    const grouped = continues(prev, msg);
    const li = document.createElement('li');
    li.className = `msg ${own ? 'own' : 'other'}${grouped ? ' grouped' : ''}`;
    if (msg.seq) li.dataset.seq = String(msg.seq);
    if (msg.client_id) li.dataset.clientId = msg.client_id;
    if (!own) li.append(grouped ? spacer() : avatar(msg.user));
    const body = document.createElement('div');
    body.className = 'body';
    if (!grouped) {
      const author = document.createElement('span');
      author.className = own ? 'sr-only' : 'author';
      author.dir = 'auto';
      author.textContent = own ? 'You' : msg.user;
      body.append(author);
    }
    const bubble = document.createElement('div');
    bubble.className = isEmojiOnly(msg.text) && !(msg.files && msg.files.length) ? 'bubble emoji-only' : 'bubble';
    bubble.dir = 'auto';
    const text = document.createElement('div');
    text.className = 'text';  // its direction comes from the bubble's dir=auto: the text is the bubble's first
    text.append(linkify(msg.text));
    const files = Array.isArray(msg.files) && msg.files.length && K.files ? K.files.attachments(msg.files) : null;
    if (files) bubble.classList.add('has-files');
    bubble.append(text);
    if (files) bubble.append(files);
    bubble.append(stamp(date, status, grouped));
    body.append(bubble);
    li.append(body);
    nodes.push(li);
    return nodes;
  }

  const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u200d\ufe0f\u20e3\s])+$/u;
  const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

  /** A short message of emoji only (up to 8, spaces allowed) is shown larger, as chat apps do. */
  function isEmojiOnly(text) {
    const trimmed = text.trim();
    if (!trimmed || !EMOJI_ONLY.test(trimmed) || !/\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(trimmed)) return false;
    const compact = trimmed.replace(/\s+/g, '');
    const count = segmenter ? Array.from(segmenter.segment(compact)).length : Array.from(compact).length;
    return count <= 8;
  }

  function spacer() {
    const span = document.createElement('span');
    span.className = 'avatar-spacer';
    return span;
  }

  function stamp(date, status, quiet) {
    const meta = document.createElement('span');
    meta.className = quiet && !status ? 'stamp quiet' : 'stamp';
    meta.dir = 'auto';  // "1:29 PM" stays in order in an RTL bubble, and does not decide the bubble's direction
    const time = document.createElement('time');
    time.dateTime = date.toISOString();
    time.textContent = timeFormat.format(date);
    time.title = fullFormat.format(date);
    meta.append(time);
    if (status) {
      const state = document.createElement('span');
      state.className = 'state';
      state.textContent = status;
      meta.append(state);
    }
    return meta;
  }

  K.render = { linkify, messageNodes, avatar, hueClass, continues, isEmojiOnly };
})(window.Konnect);
