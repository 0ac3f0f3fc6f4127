// Dialogo web chat: the citizen's side of docs/chat-protocol.md.
//
// The server renders the page and its texts; this script connects the
// websocket and keeps three promises to the citizen:
//   - no message is lost: every message waits in an outbox, kept in
//     localStorage, until the server acknowledges it, and is resent with the
//     same client_id after a reconnect or a reload (the server stores it once);
//   - no message is shown twice: a message whose sequence number is already
//     shown is ignored, and the server's copy of one of ours replaces our
//     pending one;
//   - closing the tab and coming back resumes the conversation: the visitor
//     token and the conversation id are kept in localStorage.
// While the virtual assistant answers, the citizen can rate each of its
// answers (remembered in localStorage, sent again until the server has it) and
// ask for an operator at any time, with an ordinary message.
// Whatever the citizen, the assistant or the staff wrote reaches the page only
// through textContent; links are built as elements, never as HTML.

const cfg = JSON.parse(document.getElementById('dlg-config').textContent);
// Read by the Designers Italia validator: the page uses Bootstrap Italia.
window.BOOTSTRAP_ITALIA_VERSION = cfg.bootstrap_italia_version;

const $ = (id) => document.getElementById(id);
const el = {
  log: $('dlg-log'), scroll: $('dlg-scroll'), form: $('dlg-form'), input: $('dlg-input'),
  attach: $('dlg-attach'), file: $('dlg-file'), files: $('dlg-files'), alert: $('dlg-alert'),
  typing: $('dlg-typing'), connection: $('dlg-connection'), convStatus: $('dlg-conv-status'),
  announce: $('dlg-announce'), login: $('dlg-login'), verified: $('dlg-verified'),
  verifiedText: $('dlg-verified-text'), close: $('dlg-close'), operator: $('dlg-operator'),
};

// t returns a text of the page's language, with %s and %d replaced in order.
function t(key, ...args) {
  let i = 0;
  return (cfg.texts[key] ?? key).replace(/%[sd]/g, () => String(args[i++]));
}

// ---- Storage: localStorage under dialogo:<ente>:<name>, or memory when the
// browser refuses it (private modes, blocked third-party storage).

const memory = new Map();
const storage = {
  key: (name) => `dialogo:${cfg.ente}:${name}`,
  get(name) {
    try { return localStorage.getItem(this.key(name)); } catch { return memory.get(name) ?? null; }
  },
  set(name, value) {
    memory.set(name, value);
    try { localStorage.setItem(this.key(name), value); } catch { /* memory only */ }
  },
  remove(name) {
    memory.delete(name);
    try { localStorage.removeItem(this.key(name)); } catch { /* memory only */ }
  },
};

// ---- What the embedding page passes in the fragment of the frame's address
// (never sent to any server): the signed identity of its user, and its own
// origin, the only one this page talks to with postMessage.

const fragment = new URLSearchParams(location.hash.slice(1));
let identity = null;
if (fragment.get('user') && fragment.get('hash')) {
  identity = { user_id: fragment.get('user'), hash: fragment.get('hash') };
  if (fragment.get('name')) identity.name = fragment.get('name');
  if (fragment.get('email')) identity.email = fragment.get('email');
}
const parentOrigin = fragment.get('origin');
const framed = cfg.embed && window.parent !== window;

// The login comes back to this page with its outcome in the fragment
// (#login=ok, cancelled or error) and, when the browser's visitor turned out
// to be someone else's (a shared computer), a new visitor token. The token is
// a secret: it leaves the address bar at once.
const LOGIN_WINDOW = 'dialogo-login';
const loginOutcome = fragment.get('login');
// The popup that the frame opened for the login: the frame reads the outcome
// from it and closes it, so it must not become a chat of its own.
const isLoginWindow = window.name === LOGIN_WINDOW && loginOutcome !== null;
if (!isLoginWindow && (loginOutcome !== null || fragment.has('visitor'))) {
  if (fragment.get('visitor')) {
    storage.set('visitor', fragment.get('visitor'));
    storage.remove('conversation');
  }
  fragment.delete('login');
  fragment.delete('visitor');
  const rest = fragment.toString();
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
}

// ---- State.

const state = {
  visitor: storage.get('visitor') || '',
  conversation: Number(storage.get('conversation')) || null,
  lastSeq: 0, // the highest seq received of the current conversation
  ackedSeq: 0,
  readSeq: 0,
  seen: new Set(), // "conversation:seq" of every message shown
  outbox: loadOutbox(), // [{client_id, text, attachments: [{token, name, content_type, size}], at}]
  limits: { max_text: 4000, max_attachment_bytes: 10 * 1024 * 1024, messages_per_minute: 20 },
  attachments: [], // uploaded, to go with the next message
  holdUntil: 0, // no sending before this time (rate limited)
  verified: false,
  status: 'none', // of the current conversation, as the server last said
  operatorAsked: false, // the citizen asked for an operator and the assistant has not answered yet
  loginPending: false, // the login page is open in another tab
  open: !framed, // whether the citizen can see the chat
  unread: 0,
};
const bubbles = new Map(); // client_id → the element of one of our messages

function loadOutbox() {
  try {
    const list = JSON.parse(storage.get('outbox') || '[]');
    return Array.isArray(list) ? list.filter((m) => m && typeof m.client_id === 'string') : [];
  } catch {
    return [];
  }
}

function saveOutbox() {
  if (state.outbox.length) storage.set('outbox', JSON.stringify(state.outbox));
  else storage.remove('outbox');
}

function dropFromOutbox(clientId) {
  const n = state.outbox.length;
  state.outbox = state.outbox.filter((m) => m.client_id !== clientId);
  if (state.outbox.length !== n) saveOutbox();
}

function newClientId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- The connection: hello, welcome, then frames; reconnect with back-off
// from 0.5 s doubling to 15 s.

const conn = {
  ws: null, id: 0, ready: false, attempt: 0, timer: 0, everUp: false,
  quiet: false, // the connection is being replaced on purpose: no "lost" banner
  silent: false, // ... and no "restored" one
  lastFrame: 0, pingTimer: 0, bannerTimer: 0,
};
const sentOn = new Map(); // client_id → id of the connection it was last sent on

function connect() {
  clearTimeout(conn.timer);
  if (conn.ws) return;
  const url = new URL(cfg.socket, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    scheduleReconnect();
    return;
  }
  conn.ws = ws;
  conn.id++;
  ws.onopen = () => {
    const hello = {
      type: 'hello', visitor: state.visitor, conversation_id: state.conversation,
      last_seq: state.lastSeq, lang: cfg.lang,
    };
    if (identity) hello.identity = identity;
    ws.send(JSON.stringify(hello));
  };
  ws.onmessage = (ev) => {
    if (ws !== conn.ws) return;
    conn.lastFrame = Date.now();
    let frame;
    try { frame = JSON.parse(ev.data); } catch { return; }
    if (frame && Object.prototype.hasOwnProperty.call(handlers, frame.type)) handlers[frame.type](frame);
  };
  ws.onclose = () => {
    if (ws !== conn.ws) return;
    conn.ws = null;
    conn.ready = false;
    clearInterval(conn.pingTimer);
    el.attach.disabled = true;
    enableFeedback(false);
    showTyping(null);
    if (conn.quiet) {
      conn.quiet = false;
      conn.silent = true;
      connect();
      return;
    }
    showConnection(navigator.onLine === false ? 'offline' : 'lost');
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  clearTimeout(conn.timer);
  const delay = Math.min(15000, 500 * 2 ** conn.attempt);
  conn.attempt++;
  // A little jitter, so that a server restart is not met by every browser at once.
  conn.timer = setTimeout(connect, Math.min(15000, delay * (1 + Math.random() * 0.2)));
}

// reconnectNow replaces the connection at once, without telling the citizen it
// was lost: after a login, the new hello brings the verified contact.
function reconnectNow() {
  conn.attempt = 0;
  if (conn.ws) {
    conn.quiet = true;
    conn.ws.close();
  } else {
    connect();
  }
}

function sendFrame(frame) {
  if (conn.ws && conn.ws.readyState === WebSocket.OPEN) {
    conn.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

// Keep-alive: a ping every 25 s; a connection silent for a minute is dead
// (phones lose them without a close), so it is replaced.
function startPing() {
  clearInterval(conn.pingTimer);
  conn.pingTimer = setInterval(() => {
    if (Date.now() - conn.lastFrame > 60000 && conn.ws) conn.ws.close();
    else sendFrame({ type: 'ping' });
  }, 25000);
}

window.addEventListener('online', () => {
  if (!conn.ws) {
    conn.attempt = 0;
    connect();
  }
});
window.addEventListener('offline', () => showConnection('offline'));

// ---- Frames from the server.

const handlers = {
  welcome(f) {
    if (f.visitor) {
      state.visitor = f.visitor;
      storage.set('visitor', f.visitor);
    }
    if (f.limits) Object.assign(state.limits, f.limits);
    switchConversation(f.conversation_id ?? null);
    showContact(f.contact);
    showStatus(f);
    conn.ready = true;
    conn.attempt = 0;
    showConnection(conn.everUp && !conn.silent ? 'restored' : 'ok');
    conn.everUp = true;
    conn.silent = false;
    el.attach.disabled = false;
    enableFeedback(true);
    updateLogin();
    startPing();
    flushOutbox();
    flushFeedback();
  },

  message(f) {
    if (typeof f.seq !== 'number') return;
    if (f.conversation_id != null) switchConversation(f.conversation_id);
    if (f.seq > state.lastSeq) state.lastSeq = f.seq;
    const key = `${state.conversation}:${f.seq}`;
    if (!state.seen.has(key)) {
      state.seen.add(key);
      const mine = f.client_id && bubbles.get(f.client_id);
      if (mine) {
        // The server's copy of a message still pending here (sent before a
        // reload, say) puts it in its place in the replayed history.
        if (mine.classList.contains('dlg-msg--pending')) el.log.insertBefore(mine, firstPending(mine));
        markSent(f.client_id, f.seq, f.at);
      } else {
        show(renderMessage(f), f.author === 'citizen');
        if (f.author === 'assistant' && state.operatorAsked) {
          // The assistant answered the request: if it did not hand off, the
          // citizen may ask again.
          state.operatorAsked = false;
          updateOperator();
        }
        if (f.author !== 'citizen') {
          showTyping(null);
          if (!seeing()) setUnread(state.unread + 1);
        }
      }
    }
    scheduleAck();
  },

  ack(f) {
    if (f.conversation_id != null) switchConversation(f.conversation_id);
    if (typeof f.seq === 'number') state.seen.add(`${state.conversation}:${f.seq}`);
    markSent(f.client_id, f.seq);
  },

  typing(f) {
    if (f.author === 'citizen') return;
    showTyping(f.on ? (f.author_name || '') : null);
  },

  status(f) {
    if (f.conversation_id != null) switchConversation(f.conversation_id);
    showStatus(f);
  },

  feedback_ok(f) {
    const key = `${f.conversation_id}:${f.seq}`;
    if (feedbackPending.get(key) !== f.useful) return; // an older choice, already replaced
    feedbackPending.delete(key);
    say(t('feedback_thanks'));
  },

  error(f) {
    if (typeof f.seq === 'number' && !f.client_id) {
      feedbackRefused(f);
      return;
    }
    const waiting = f.client_id && state.outbox.find((m) => m.client_id === f.client_id);
    switch (f.code) {
      case 'rate_limited':
      case 'unavailable': {
        // Not stored: send it again later, with the same client_id.
        const wait = Number(f.retry_after_ms) > 0 ? Number(f.retry_after_ms) : 3000;
        state.holdUntil = Math.max(state.holdUntil, Date.now() + wait);
        for (const m of state.outbox) {
          sentOn.delete(m.client_id);
          setDelivery(m.client_id, 'waiting');
        }
        setTimeout(flushOutbox, wait + 50);
        showAlert(f.message || t('retry_in', Math.ceil(wait / 1000)));
        break;
      }
      case 'too_large':
      case 'invalid_message':
        if (waiting) {
          // It will never be accepted as it is: give the text back to edit.
          dropFromOutbox(waiting.client_id);
          setDelivery(waiting.client_id, 'failed');
          if (!el.input.value) el.input.value = waiting.text;
        }
        showAlert(f.message || t('error'));
        break;
      case 'bad_identity':
        identity = null;
        showAlert(f.message || t('error'));
        break;
      default:
        // bad_frame, not_ready: a bug of ours, not the citizen's business.
        console.warn('dialogo: the server refused a frame:', f.code, f.message);
    }
  },

  pong() {},
};

// switchConversation follows the server to another conversation (the first
// one, or a new one after the last was resolved): sequence numbers start over.
function switchConversation(id) {
  if (id === state.conversation) return;
  const shown = el.log.querySelector('.dlg-msg:not(.dlg-msg--pending)');
  state.conversation = id;
  state.lastSeq = 0;
  state.ackedSeq = 0;
  state.readSeq = 0;
  if (id == null) storage.remove('conversation');
  else storage.set('conversation', String(id));
  if (shown && id != null) {
    const sep = node('p', 'dlg-separator', t('new_conversation'));
    el.log.insertBefore(sep, firstPending(null));
  }
}

function flushOutbox() {
  if (!conn.ready || Date.now() < state.holdUntil) return;
  for (const m of state.outbox) {
    if (sentOn.get(m.client_id) === conn.id) continue;
    const frame = {
      type: 'message', client_id: m.client_id, text: m.text,
      attachments: (m.attachments || []).map((a) => a.token),
    };
    if (!sendFrame(frame)) return;
    sentOn.set(m.client_id, conn.id);
    setDelivery(m.client_id, 'sending');
  }
}

let ackTimer = 0;
function scheduleAck() {
  clearTimeout(ackTimer);
  ackTimer = setTimeout(() => {
    if (state.lastSeq > state.ackedSeq && sendFrame({ type: 'ack', seq: state.lastSeq })) {
      state.ackedSeq = state.lastSeq;
    }
    sendRead();
  }, 100);
}

// seeing tells whether the citizen can see the conversation now.
function seeing() {
  return state.open && document.visibilityState === 'visible';
}

function sendRead() {
  if (seeing() && state.lastSeq > state.readSeq && sendFrame({ type: 'read', seq: state.lastSeq })) {
    state.readSeq = state.lastSeq;
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  sendRead();
  if (seeing()) setUnread(0);
  // Back to a tab that was in the background: do not wait for the back-off.
  if (!conn.ws) {
    conn.attempt = 0;
    connect();
  }
  returnFromLogin();
});

// ---- Showing things.

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text != null) n.textContent = text;
  return n;
}

function icon(name, className = 'icon icon-sm') {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `${cfg.sprites}#${name}`);
  svg.append(use);
  return svg;
}

// show adds a message to the log, and keeps the newest in view unless the
// citizen has scrolled up to read older ones. Our messages still waiting for
// the server stay last: what the server sends goes before them.
function show(n, ours) {
  const s = el.scroll;
  const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  if (n.classList.contains('dlg-msg--pending')) el.log.append(n);
  else el.log.insertBefore(n, firstPending(n));
  if (atBottom || ours) s.scrollTop = s.scrollHeight;
}

function firstPending(except) {
  for (const b of el.log.querySelectorAll('.dlg-msg--pending')) if (b !== except) return b;
  return null;
}

// Web addresses in a message become links; everything else stays text.
const linkPattern = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;

function appendText(parent, text) {
  let last = 0;
  for (const match of text.matchAll(linkPattern)) {
    const raw = match[0].replace(/[.,;:!?')\]}»]+$/, '');
    let url;
    try {
      url = new URL(raw.startsWith('www.') ? `https://${raw}` : raw);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    parent.append(text.slice(last, match.index));
    const a = node('a', '', raw);
    a.href = url.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    a.append(node('span', 'visually-hidden', ` ${t('new_window')}`));
    parent.append(a);
    last = match.index + raw.length;
  }
  parent.append(text.slice(last));
}

// isQuote tells a line of a quotation: "> " and what is quoted, as the
// assistant quotes the page it answers from.
const isQuote = (line) => line.startsWith('> ') || line === '>';

// messageText is the text of a message, its line breaks kept. In what the
// assistant and the staff write, lines that start with "> " are a quotation.
function messageText(text, quotes) {
  const lines = text.split('\n');
  if (!quotes || !lines.some(isQuote)) {
    const p = node('p', 'dlg-msg__text');
    appendText(p, text);
    return p;
  }
  const div = node('div', 'dlg-msg__text');
  const blocks = [];
  for (const line of lines) {
    const quoted = isQuote(line);
    const last = blocks[blocks.length - 1];
    const content = quoted ? line.slice(2) : line;
    if (last && last.quoted === quoted) last.lines.push(content);
    else blocks.push({ quoted, lines: [content] });
  }
  for (const { quoted, lines: ls } of blocks) {
    // The blank lines around a quotation are the block's own margins.
    const content = ls.join('\n').replace(/^\n+|\n+$/g, '');
    if (!content) continue;
    const n = node(quoted ? 'blockquote' : 'p', quoted ? 'dlg-quote' : 'dlg-msg__para');
    appendText(n, content);
    div.append(n);
  }
  return div;
}

const timeFormat = new Intl.DateTimeFormat(cfg.lang, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(cfg.lang, {
  day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
});

function formatTime(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  return d.toDateString() === new Date().toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
}

function formatSize(bytes) {
  const n = new Intl.NumberFormat(cfg.lang, { maximumFractionDigits: 1 });
  return bytes < 1024 * 1024 ? `${n.format(Math.max(1, bytes / 1024))} kB` : `${n.format(bytes / (1024 * 1024))} MB`;
}

function renderMessage(f) {
  if (f.author === 'system') {
    const p = node('p', 'dlg-msg dlg-msg--system');
    appendText(p, f.text || '');
    p.dataset.seq = f.seq;
    return p;
  }
  const b = bubble({
    ours: f.author === 'citizen', author: f.author, name: f.author_name,
    text: f.text, files: f.attachments, at: f.at,
  });
  b.dataset.seq = f.seq;
  if (f.author === 'citizen') setDeliveryOf(b, 'sent');
  if (f.author === 'assistant' && f.text) b.append(feedbackGroup(f.conversation_id ?? state.conversation, f.seq));
  return b;
}

function bubble({ ours, author, name, text, files, at }) {
  const b = node('div', `dlg-msg ${ours ? 'dlg-msg--out' : 'dlg-msg--in'}`);
  b.dataset.author = author;
  const who = node('span', 'dlg-msg__author');
  if (ours) {
    who.textContent = t('you');
  } else if (author === 'assistant') {
    who.textContent = t('assistant');
  } else if (name) {
    who.append(name, node('span', 'dlg-msg__role', ` · ${t('operator')}`));
  } else {
    who.textContent = t('operator');
  }
  b.append(who);
  if (text) b.append(messageText(text, !ours));
  if (files && files.length) b.append(fileList(files));
  const meta = node('span', 'dlg-msg__meta');
  const time = node('time', '', formatTime(at));
  time.dateTime = at;
  meta.append(time);
  if (ours) meta.append(node('span', 'dlg-msg__state'));
  b.append(meta);
  return b;
}

function fileList(files) {
  const ul = node('ul', 'dlg-files-list');
  for (const f of files) {
    const li = node('li');
    const label = `${f.name} (${formatSize(f.size || 0)})`;
    const isImage = /^image\//.test(f.content_type || '');
    let holder = li;
    if (f.url) {
      const url = new URL(f.url, location.href);
      const ours = url.origin === location.origin;
      // The server gives a visitor its files by their token, which a link or
      // an image cannot send in a header; it never goes to another origin.
      if (ours && state.visitor && !url.searchParams.has('visitor')) url.searchParams.set('visitor', state.visitor);
      const a = node('a', 'dlg-file');
      a.href = url.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      li.append(a);
      holder = a;
      holder.append(icon(isImage ? 'it-file-image' : 'it-file-pdf'), node('span', '', label),
        node('span', 'visually-hidden', ` ${t('new_window')}`));
      if (isImage && ours) {
        const img = node('img');
        img.src = url.href;
        img.alt = '';
        img.loading = 'lazy';
        li.append(img);
      }
    } else {
      const span = node('span', 'dlg-file');
      span.append(icon(isImage ? 'it-file-image' : 'it-file-pdf'), node('span', '', t('attachment', label)));
      li.append(span);
    }
    ul.append(li);
  }
  return ul;
}

const deliveryIcons = { sending: 'it-clock', waiting: 'it-clock', sent: 'it-check', failed: 'it-warning-circle' };

function setDelivery(clientId, delivery) {
  const b = bubbles.get(clientId);
  if (b) setDeliveryOf(b, delivery);
}

function setDeliveryOf(b, delivery) {
  const st = b.querySelector('.dlg-msg__state');
  if (!st || b.dataset.delivery === delivery || b.dataset.delivery === 'sent') return;
  b.dataset.delivery = delivery;
  b.classList.toggle('dlg-msg--pending', delivery === 'sending' || delivery === 'waiting');
  b.classList.toggle('dlg-msg--failed', delivery === 'failed');
  st.replaceChildren(icon(deliveryIcons[delivery]), t(delivery));
}

function markSent(clientId, seq, at) {
  dropFromOutbox(clientId);
  sentOn.delete(clientId);
  const b = bubbles.get(clientId);
  if (!b) return;
  if (typeof seq === 'number') b.dataset.seq = seq;
  if (at) {
    const time = b.querySelector('time');
    time.dateTime = at;
    time.textContent = formatTime(at);
  }
  setDeliveryOf(b, 'sent');
  // A "wait before sending" alert is over when nothing waits any more.
  if (!state.outbox.length) clearAlert();
}

let typingHide = 0;
function showTyping(name) {
  clearTimeout(typingHide);
  if (name == null) {
    el.typing.replaceChildren();
    return;
  }
  const dots = node('span', '');
  dots.setAttribute('aria-hidden', 'true');
  for (let i = 0; i < 3; i++) dots.append(node('span', 'dlg-typing__dot'));
  el.typing.replaceChildren(name ? t('typing', name) : t('typing_operator'), dots);
  // An operator whose browser closed never says "stopped".
  typingHide = setTimeout(() => showTyping(null), 10000);
}

function showStatus(f) {
  const texts = {
    assistant: t('status_assistant'),
    queued: f.position ? t('status_position', f.position) : t('status_queued'),
    assigned: t('status_assigned'),
    resolved: t('status_resolved'),
  };
  el.convStatus.textContent = texts[f.status] || '';
  if (f.status !== state.status && f.status !== 'assistant') state.operatorAsked = false;
  state.status = f.status || 'none';
  updateOperator();
}

function showContact(contact) {
  state.verified = Boolean(contact && contact.verified);
  if (state.verified) state.loginPending = false;
  el.verified.hidden = !state.verified;
  if (state.verified) {
    el.verifiedText.textContent = contact.name ? t('verified', contact.name) : t('verified_anonymous');
  }
  updateLogin();
}

function updateLogin() {
  if (!el.login) return;
  el.login.hidden = !cfg.login || state.verified || !state.visitor;
  el.login.href = `${cfg.login_url}?${new URLSearchParams({ visitor: state.visitor })}`;
  if (framed) {
    el.login.target = '_blank';
    el.login.rel = 'opener';
  }
}

// In its own page the login is a plain link: it leaves and comes back. In the
// frame it cannot be (identity providers refuse to be framed): it opens in a
// popup, which ends on a page of Dialogo, on our origin, where the frame reads
// the outcome and closes it. If popups are blocked, the link opens a tab, and
// the chat reconnects when the citizen comes back to it.
el.login?.addEventListener('click', (e) => {
  if (!framed) return;
  state.loginPending = true;
  const popup = window.open(el.login.href, LOGIN_WINDOW, 'popup,width=520,height=720');
  if (!popup) return;
  e.preventDefault();
  const timer = setInterval(() => {
    let hash = '';
    try {
      if (popup.location.origin === location.origin) hash = popup.location.hash;
    } catch { /* at the identity provider's */ }
    const back = new URLSearchParams(hash.slice(1));
    if (back.has('login')) {
      clearInterval(timer);
      popup.close();
      state.loginPending = false;
      if (back.get('visitor')) adoptVisitor(back.get('visitor'));
      showLoginOutcome(back.get('login'));
      reconnectNow();
    } else if (popup.closed) {
      clearInterval(timer);
      returnFromLogin();
    }
  }, 250);
});
window.addEventListener('focus', returnFromLogin);

function returnFromLogin() {
  if (state.loginPending && !state.verified && conn.ready) reconnectNow();
}

function showLoginOutcome(outcome) {
  if (outcome === 'ok') say(t('login_ok'));
  else if (outcome === 'cancelled') say(t('login_cancelled'));
  else if (outcome) showAlert(t('login_failed'));
}

// adoptVisitor takes the new visitor token that a login gave this browser:
// what is on the screen was someone else's conversation.
function adoptVisitor(token) {
  state.visitor = token;
  storage.set('visitor', token);
  for (const n of [...el.log.children]) if (!n.classList.contains('dlg-msg--pending')) n.remove();
  state.seen.clear();
  switchConversation(null);
}

function showConnection(s) {
  clearTimeout(conn.bannerTimer);
  el.connection.className = 'dlg-connection';
  if (s === 'ok') {
    el.connection.replaceChildren();
    return;
  }
  if (s === 'restored') {
    el.connection.classList.add('dlg-connection--ok');
    el.connection.replaceChildren(icon('it-check-circle'), t('restored'));
    conn.bannerTimer = setTimeout(() => showConnection('ok'), 4000);
    return;
  }
  const names = { connecting: 'connecting', lost: 'lost', offline: 'offline' };
  el.connection.replaceChildren(icon(s === 'connecting' ? 'it-refresh' : 'it-warning-circle'), t(names[s]));
}

function showAlert(text) {
  el.alert.replaceChildren(node('div', 'alert alert-warning', text));
}

function clearAlert() {
  el.alert.replaceChildren();
}

function say(text) {
  el.announce.textContent = text;
}

// ---- Feedback on the assistant's answers: "Utile" or "Non utile" under each
// one. The choice is kept in localStorage (the buttons show it again after a
// reload) and sent at once; until the server has it, it is sent again after
// each reconnection. The buttons wait while the chat is offline.

const feedbackPending = new Map(); // "conversation:seq" → useful, not yet stored by the server

function feedbackStorageKey(conversation, seq) {
  return `feedback:${conversation}:${seq}`;
}

// A thumb drawn here, as Bootstrap Italia's sprite has none; down is up turned over.
function thumbIcon(down) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon icon-sm dlg-thumb');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const g = document.createElementNS(ns, 'g');
  if (down) g.setAttribute('transform', 'rotate(180 12 12)');
  const cuff = document.createElementNS(ns, 'rect');
  for (const [k, v] of Object.entries({ x: 2, y: 10, width: 4, height: 11, rx: 1 })) cuff.setAttribute(k, v);
  const hand = document.createElementNS(ns, 'path');
  hand.setAttribute('d', 'M8 21h9.3a2 2 0 0 0 1.9-1.4l2.3-7A2 2 0 0 0 19.6 10H14.5l.9-4.4A2 2 0 0 0 13.4 3h-.6L8 10z');
  g.append(cuff, hand);
  svg.append(g);
  return svg;
}

function feedbackGroup(conversation, seq) {
  const group = node('div', 'dlg-feedback');
  group.setAttribute('role', 'group');
  group.dataset.conversation = conversation;
  group.dataset.seq = seq;
  const question = node('span', 'dlg-feedback__question', t('feedback_question'));
  question.id = `dlg-feedback-${conversation}-${seq}`;
  group.setAttribute('aria-labelledby', question.id);
  group.append(question);
  const stored = storage.get(feedbackStorageKey(conversation, seq));
  for (const useful of [true, false]) {
    const b = node('button', 'dlg-feedback__button');
    b.type = 'button';
    b.dataset.useful = String(useful);
    b.title = t(useful ? 'useful' : 'not_useful');
    b.setAttribute('aria-pressed', String(stored === (useful ? 'up' : 'down')));
    b.disabled = !conn.ready;
    b.append(thumbIcon(!useful), node('span', 'visually-hidden', t(useful ? 'useful' : 'not_useful')));
    b.addEventListener('click', () => giveFeedback(group, useful));
    group.append(b);
  }
  return group;
}

function showFeedback(group, useful) {
  for (const b of group.querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(useful != null && b.dataset.useful === String(useful)));
  }
}

function giveFeedback(group, useful) {
  const conversation = Number(group.dataset.conversation);
  const seq = Number(group.dataset.seq);
  showFeedback(group, useful);
  storage.set(feedbackStorageKey(conversation, seq), useful ? 'up' : 'down');
  feedbackPending.set(`${conversation}:${seq}`, useful);
  sendFrame({ type: 'feedback', conversation_id: conversation, seq, useful });
}

function flushFeedback() {
  if (!conn.ready) return;
  for (const [key, useful] of feedbackPending) {
    const [conversation, seq] = key.split(':').map(Number);
    sendFrame({ type: 'feedback', conversation_id: conversation, seq, useful });
  }
}

function enableFeedback(on) {
  for (const b of el.log.querySelectorAll('.dlg-feedback__button')) b.disabled = !on;
}

// feedbackRefused handles an error about feedback: sent again later when the
// server could not take it now, forgotten when it can never be stored.
function feedbackRefused(f) {
  const key = `${f.conversation_id}:${f.seq}`;
  if (f.code === 'rate_limited' || f.code === 'unavailable') {
    const wait = Number(f.retry_after_ms) > 0 ? Number(f.retry_after_ms) : 3000;
    setTimeout(flushFeedback, wait + 50);
    return;
  }
  if (!feedbackPending.has(key)) return;
  feedbackPending.delete(key);
  storage.remove(feedbackStorageKey(f.conversation_id, f.seq));
  const group = el.log.querySelector(`.dlg-feedback[data-conversation="${Number(f.conversation_id)}"][data-seq="${Number(f.seq)}"]`);
  if (group) showFeedback(group, null);
  showAlert(f.message || t('error'));
}

// ---- Writing.

let typingOn = false;
let typingTimer = 0;
function typing(on) {
  clearTimeout(typingTimer);
  if (on) typingTimer = setTimeout(() => typing(false), 4000);
  if (on === typingOn) return;
  typingOn = on;
  if (conn.ready) sendFrame({ type: 'typing', on });
}

el.input.addEventListener('input', () => typing(el.input.value.trim() !== ''));

el.input.addEventListener('keydown', (e) => {
  // Enter sends, Shift+Enter goes to a new line; an input method composing a
  // word uses Enter for itself.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});

function submit() {
  const text = el.input.value.trim();
  if (!text && !state.attachments.length) return;
  if ([...text].length > state.limits.max_text) {
    showAlert(t('too_long', state.limits.max_text));
    return;
  }
  const attachments = state.attachments;
  state.attachments = [];
  showChips();
  el.input.value = '';
  typing(false);
  send(text, attachments);
  el.input.focus();
}

// send puts a message in the outbox, shows it and sends it when it can.
function send(text, attachments) {
  const m = { client_id: newClientId(), text, attachments, at: new Date().toISOString() };
  state.outbox.push(m);
  saveOutbox();
  showPending(m);
  clearAlert();
  flushOutbox();
}

// "Parla con un operatore" sends an ordinary message, which the assistant
// answers by handing the conversation off to a team's queue: the request is in
// the conversation, for the operator to see.
el.operator?.addEventListener('click', () => {
  state.operatorAsked = true;
  updateOperator();
  send(t('operator_request'), []);
  el.input.focus();
});

// The button shows while the assistant answers: in a conversation with it, or
// before the next conversation when the ente's assistant answers first.
function updateOperator() {
  if (!el.operator) return;
  const next = state.status === 'none' || state.status === 'resolved';
  el.operator.hidden = !(state.status === 'assistant' || (cfg.assistant && next));
  el.operator.disabled = state.operatorAsked;
}

function showPending(m) {
  const b = bubble({ ours: true, author: 'citizen', text: m.text, files: m.attachments, at: m.at });
  bubbles.set(m.client_id, b);
  setDeliveryOf(b, conn.ready ? 'sending' : 'waiting');
  show(b, true);
}

// ---- Attachments: uploaded at once over HTTP, sent with the next message.

el.attach.addEventListener('click', () => el.file.click());
el.file.addEventListener('change', () => {
  const file = el.file.files[0];
  el.file.value = '';
  if (file) upload(file);
});

async function upload(file) {
  if (file.size > state.limits.max_attachment_bytes) {
    showAlert(t('too_big', formatSize(state.limits.max_attachment_bytes)));
    return;
  }
  clearAlert();
  say(t('uploading', file.name));
  el.attach.disabled = true;
  try {
    const body = new FormData();
    body.append('file', file);
    const res = await fetch(cfg.attachments, {
      method: 'POST', body, headers: { Authorization: `Visitor ${state.visitor}` },
    });
    if (!res.ok) {
      showAlert((await problemDetail(res)) || t('upload_failed'));
      say('');
      return;
    }
    const a = await res.json();
    state.attachments.push({
      token: a.token, name: a.name || file.name, content_type: a.content_type, size: a.size ?? file.size,
    });
    showChips();
    say(t('uploaded', a.name || file.name));
  } catch {
    showAlert(t('upload_failed'));
    say('');
  } finally {
    el.attach.disabled = !conn.ready;
  }
}

// problemDetail returns the sentence for the citizen of an RFC 9457 problem.
async function problemDetail(res) {
  try {
    const p = await res.json();
    return typeof p.detail === 'string' ? p.detail : '';
  } catch {
    return '';
  }
}

function showChips() {
  el.files.replaceChildren(...state.attachments.map((a) => {
    const chip = node('span', 'dlg-chip');
    chip.append(icon(/^image\//.test(a.content_type || '') ? 'it-file-image' : 'it-file-pdf'),
      node('span', 'dlg-chip__name', `${a.name} (${formatSize(a.size || 0)})`));
    const remove = node('button');
    remove.type = 'button';
    remove.setAttribute('aria-label', t('remove', a.name));
    remove.append(icon('it-close', 'icon'));
    remove.addEventListener('click', () => {
      state.attachments = state.attachments.filter((x) => x !== a);
      showChips();
      el.input.focus();
    });
    chip.append(remove);
    return chip;
  }));
}

// ---- Inside the embed frame: talk to the embedding page, at its origin only.

function setUnread(n) {
  if (n === state.unread) return;
  state.unread = n;
  postParent({ type: 'dialogo:unread', count: n });
}

function postParent(msg) {
  if (framed && parentOrigin) window.parent.postMessage(msg, parentOrigin);
}

if (framed) {
  el.close.hidden = false;
  el.close.addEventListener('click', () => postParent({ type: 'dialogo:close' }));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') postParent({ type: 'dialogo:close' });
  });
  window.addEventListener('message', (e) => {
    if (e.source !== window.parent || (parentOrigin && e.origin !== parentOrigin)) return;
    const type = e.data && e.data.type;
    if (type === 'dialogo:open') {
      state.open = true;
      el.input.focus();
      setUnread(0);
      sendRead();
    } else if (type === 'dialogo:close') {
      state.open = false;
    }
  });
  // The language links keep the fragment: the identity and the parent's origin.
  for (const a of document.querySelectorAll('.dlg-langs a')) a.href = a.getAttribute('href') + location.hash;
  postParent({ type: 'dialogo:ready' });
}

// ---- Start: show what still waits to be sent, then connect.

if (isLoginWindow) {
  // The frame that opened this window is about to close it.
  show(node('p', 'dlg-msg dlg-msg--system', t(loginOutcome === 'ok' ? 'login_ok' : 'login_failed')));
} else {
  for (const m of state.outbox) showPending(m);
  showLoginOutcome(loginOutcome);
  conn.bannerTimer = setTimeout(() => { if (!conn.ready) showConnection('connecting'); }, 1000);
  connect();
}
