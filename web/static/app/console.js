/*
 * Dialogo's operator console: live updates and quicker actions on top of
 * pages that work without it.
 *
 * - A websocket on /console/ws brings the ente's events (see web/console/ws.go);
 *   on each, the page fetches the fragment that changed (the message list, the
 *   head of the conversation, the inbox, the supervisor's figures). When the
 *   socket opens, and after a "resync", it catches up on what it missed.
 * - Forms marked data-fetch are posted with fetch instead of reloading the
 *   page; the server answers JSON to requests carrying X-Dialogo-Fetch.
 * - While the operator writes a reply, typing frames go to the citizen.
 *
 * No framework, no inline script: the content security policy allows only
 * scripts from our own origin. Texts come from the page, in its language.
 */
(() => {
  "use strict";

  const body = document.body;
  // Read by the Designers Italia validator; the fonts come from a stylesheet
  // of the console rather than from bootstrap.loadFonts().
  window.BOOTSTRAP_ITALIA_VERSION = body.dataset.biVersion || "";

  const textsEl = document.getElementById("dlg-texts");
  const T = textsEl ? JSON.parse(textsEl.textContent) : {};
  const fmt = (s, ...args) => {
    let i = 0;
    return String(s || "").replace(/%[sd]/g, () => String(args[i++]));
  };
  const pageKind = body.dataset.page;
  const staffId = Number(body.dataset.staffId || 0);
  const csrfInput = document.querySelector('input[name="csrf"]');
  const csrf = csrfInput ? csrfInput.value : "";

  // --- Small helpers ---------------------------------------------------------

  function announce(message) {
    const el = document.getElementById("dlg-announcer");
    if (!el || !message) return;
    el.textContent = "";
    setTimeout(() => { el.textContent = message; }, 50);
  }

  // throttle runs fn at most once every ms; calls in between are folded into
  // the next run, which sees the latest state.
  function throttle(fn, ms) {
    let timer = null;
    let last = 0;
    return () => {
      if (timer) return;
      const wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        // A failed refresh is retried by the next event or catch-up.
        Promise.resolve().then(fn).catch((e) => console.warn("dialogo: refresh failed", e));
      }, wait);
    };
  }

  function signedOut() {
    location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  async function request(url, options = {}) {
    const headers = Object.assign({ "X-Dialogo-Fetch": "1" }, options.headers || {});
    const res = await fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers }));
    if (res.status === 401) {
      signedOut();
      throw new Error("signed out");
    }
    return res;
  }

  async function getText(url) {
    const res = await request(url);
    if (!res.ok) throw new Error("HTTP " + res.status);
    return res.text();
  }

  async function getJSON(url) {
    const res = await request(url);
    if (!res.ok) throw new Error("HTTP " + res.status);
    return res.json();
  }

  function fragment(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content;
  }

  // swap replaces the element with the same id as the fragment's root. While
  // the operator is using a control inside it, the swap waits until they
  // leave it, so that nothing is taken from under their hands.
  function swap(id, html) {
    const old = document.getElementById(id);
    const fresh = fragment(html).firstElementChild;
    if (!old || !fresh) return;
    const active = document.activeElement;
    if (active && old.contains(active) && active.matches("input, select, textarea")) {
      old.addEventListener("focusout", () => setTimeout(() => {
        if (!old.contains(document.activeElement)) swap(id, html);
      }, 0), { once: true });
      return;
    }
    const openDetails = Array.from(old.querySelectorAll("details[open]"), (d) => d.className);
    const focusedId = active && old.contains(active) ? active.id : "";
    old.replaceWith(fresh);
    for (const cls of openDetails) {
      const d = fresh.querySelector("details" + (cls ? "." + cls.split(" ").join(".") : ""));
      if (d) d.open = true;
    }
    if (focusedId) {
      const el = document.getElementById(focusedId);
      if (el) el.focus();
    }
    enhance(fresh);
  }

  function notify(message, kind) {
    if (!message) return;
    const main = document.getElementById("main");
    if (!main) return;
    const old = main.querySelector(".dlg-flash");
    if (old) old.remove();
    const el = document.createElement("div");
    el.className = "alert alert-" + (kind === "error" ? "danger" : "success") + " dlg-flash";
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = message;
    main.prepend(el);
    if (kind !== "error") setTimeout(() => el.remove(), 6000);
  }

  // Waiting times grow while the page is open.
  function since(iso) {
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.floor(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 172800) {
      const m = Math.floor(s / 60) % 60;
      return Math.floor(s / 3600) + " h " + String(m).padStart(2, "0") + " min";
    }
    return Math.floor(s / 86400) + " " + (T.day || "d");
  }

  setInterval(() => {
    document.querySelectorAll("time[data-since]").forEach((el) => {
      el.textContent = since(el.dataset.since);
    });
  }, 15000);

  // --- Forms posted with fetch ----------------------------------------------

  const formHandlers = {};

  async function post(form) {
    const res = await request(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    });
    let data = {};
    try { data = await res.json(); } catch (e) { /* an empty or HTML answer */ }
    if (!res.ok) throw new Error(data.error || T.error);
    return data;
  }

  function enhance(root) {
    root.querySelectorAll("form[data-fetch]").forEach((form) => {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.addEventListener("submit", async (ev) => {
        const handler = formHandlers[form.dataset.fetch];
        if (!handler) return;
        ev.preventDefault();
        const button = form.querySelector('[type="submit"]');
        if (button) button.disabled = true;
        try {
          await handler(form);
        } finally {
          if (button && button.isConnected) button.disabled = false;
        }
      });
    });
  }

  formHandlers.availability = async (form) => {
    try {
      const data = await post(form);
      const button = form.querySelector('[role="switch"]');
      button.setAttribute("aria-checked", data.available ? "true" : "false");
      form.querySelector(".dlg-switch__state").textContent = data.state;
      form.querySelector('input[name="availability"]').value = data.available ? "away" : "available";
      announce(data.state);
    } catch (e) {
      notify(e.message, "error");
    }
  };

  // The "more actions" disclosure closes with Escape or a click elsewhere, as
  // a menu would.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    const open = ev.target.closest && ev.target.closest("details.dlg-more[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
  document.addEventListener("click", (ev) => {
    document.querySelectorAll("details.dlg-more[open]").forEach((d) => {
      if (!d.contains(ev.target)) d.open = false;
    });
  });

  // --- The live connection --------------------------------------------------

  const live = {
    onEvent: () => {},
    onCatchUp: () => {},
    socket: null,
    retry: 500,
    downSince: 0,
    bannerTimer: null,
  };

  function showConnection(up) {
    const el = document.getElementById("dlg-connection");
    if (!el) return;
    clearTimeout(live.bannerTimer);
    if (!up) {
      // A blip of a second is not worth a banner.
      live.bannerTimer = setTimeout(() => {
        el.className = "dlg-connection";
        el.textContent = T.offline;
        el.hidden = false;
      }, 2000);
      return;
    }
    if (!el.hidden) {
      el.className = "dlg-connection dlg-connection--ok";
      el.textContent = T.online;
      live.bannerTimer = setTimeout(() => { el.hidden = true; }, 3000);
    }
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws");
    live.socket = ws;
    ws.addEventListener("open", () => {
      live.retry = 500;
      showConnection(true);
      live.onCatchUp();
    });
    ws.addEventListener("message", (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      if (e.k === "hello") return;
      if (e.k === "resync") {
        live.onCatchUp();
        return;
      }
      live.onEvent(e);
    });
    ws.addEventListener("close", () => {
      if (live.socket === ws) live.socket = null;
      showConnection(false);
      const wait = live.retry + Math.random() * 250;
      live.retry = Math.min(live.retry * 2, 15000);
      setTimeout(connect, wait);
    });
  }

  function send(frame) {
    if (live.socket && live.socket.readyState === WebSocket.OPEN) live.socket.send(JSON.stringify(frame));
  }

  // --- The inbox --------------------------------------------------------------

  function updateCounts(counts) {
    document.querySelectorAll("[data-count]").forEach((el) => {
      const key = el.dataset.count;
      const n = counts[key] || 0;
      const before = Number(el.textContent) || 0;
      if (key === "unassigned" && n > before) announce(fmt(T.new_in_queue, n));
      el.textContent = String(n);
    });
  }

  function inboxPage() {
    const refresh = throttle(async () => {
      const [counts, html] = await Promise.all([
        getJSON("/console/inbox/counts"),
        getText("/console/inbox/list" + location.search),
      ]);
      updateCounts(counts);
      swap("dlg-inbox-list", html);
    }, 1000);
    live.onEvent = (e) => {
      if (e.k === "message" || e.k === "conversation") refresh();
    };
    live.onCatchUp = refresh;
  }

  // --- The conversation ------------------------------------------------------

  function conversationPage() {
    const grid = document.querySelector("[data-conversation-id]");
    const log = document.getElementById("dlg-log");
    if (!grid || !log) return;
    const convId = Number(grid.dataset.conversationId);
    const contactId = Number(grid.dataset.contactId);
    const base = "/console/conversations/" + convId;
    log.scrollTop = log.scrollHeight;

    // What the log shows: the highest sequence number per conversation.
    function cursor() {
      const seen = {};
      log.querySelectorAll("[data-seq]").forEach((el) => {
        const c = el.dataset.conv;
        seen[c] = Math.max(seen[c] || 0, Number(el.dataset.seq));
      });
      return Object.entries(seen).map(([c, s]) => c + ":" + s).join(",");
    }

    function lastConv() {
      const all = log.querySelectorAll("[data-conv]");
      return all.length ? all[all.length - 1].dataset.conv : "";
    }

    function append(html) {
      const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
      const frag = fragment(html);
      const items = Array.from(frag.children);
      if (!items.length) return;
      const empty = log.querySelector(".dlg-empty");
      if (empty) empty.remove();
      let mine = false;
      for (const el of items) {
        if (el.id && document.getElementById(el.id)) continue; // shown already
        if (el.classList.contains("dlg-sep") && el.dataset.conv === lastConv()) continue;
        log.appendChild(el);
        if (el.classList.contains("dlg-msg--out") || el.classList.contains("dlg-msg--note")) mine = true;
      }
      if (nearBottom || mine) log.scrollTop = log.scrollHeight;
    }

    // Fetches run one after the other, so that messages are appended in
    // order and each fetch asks for what the previous one did not bring.
    let queue = Promise.resolve();
    function loadMessages(only) {
      queue = queue.then(async () => {
        let url = base + "/messages?after=" + encodeURIComponent(cursor()) + "&last=" + lastConv();
        if (only) url += "&only=" + only;
        append(await getText(url));
      }).catch(() => {});
      return queue;
    }

    const refreshSummary = throttle(async () => swap("dlg-summary", await getText(base + "/summary")), 500);
    const refreshList = throttle(async () => {
      swap("dlg-compact-list", await getText("/console/inbox/list?view=compact&current=" + convId));
    }, 1500);

    async function refreshTicks(conv) {
      const list = await getJSON(base + "/deliveries?conversation=" + conv);
      for (const d of list) {
        const msg = document.getElementById("m-" + d.c + "-" + d.s);
        const ticks = msg && msg.querySelector("[data-ticks]");
        if (!ticks) continue;
        const marks = { pending: "◷", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "⚠" }[d.status] || "";
        ticks.className = "dlg-ticks dlg-ticks--" + d.status;
        ticks.textContent = " " + d.label;
        const mark = document.createElement("span");
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = marks;
        ticks.prepend(mark);
      }
    }

    // Typing, of the citizen or of a colleague.
    const typing = document.getElementById("dlg-typing");
    let typingTimer = null;
    function showTyping(e) {
      clearTimeout(typingTimer);
      if (!e.on) {
        typing.textContent = "";
        return;
      }
      typing.textContent = e.a === "citizen" ? T["typing.citizen"] : fmt(T["typing.operator"], e.n || "");
      typingTimer = setTimeout(() => { typing.textContent = ""; }, 6000);
    }

    live.onEvent = (e) => {
      switch (e.k) {
        case "message":
          if (e.ct === contactId || e.c === convId) {
            loadMessages(e.c);
            if (e.c === convId) showTyping({ on: false });
          }
          refreshList();
          break;
        case "conversation":
          if (e.c === convId && e.ct && e.ct !== contactId && !document.getElementById("dlg-reply-text").value) {
            // The citizen has just identified themselves (their contact changed):
            // the whole page, citizen panel included, is now about another contact.
            location.reload();
            return;
          }
          if (e.c === convId) refreshSummary();
          refreshList();
          break;
        case "typing":
          if (e.c === convId && !(e.a === "operator" && e.st === staffId)) showTyping(e);
          break;
        case "delivery":
          if (e.ct === contactId || e.c === convId) refreshTicks(e.c).catch(() => {});
          break;
      }
    };
    live.onCatchUp = () => {
      loadMessages();
      refreshSummary();
      refreshList();
      refreshTicks(convId).catch(() => {});
    };

    // The reply box.
    const form = document.getElementById("dlg-reply");
    const text = document.getElementById("dlg-reply-text");
    const error = form.querySelector(".dlg-reply__error");
    const sendLabel = form.querySelector(".dlg-reply__send");
    const isNote = () => form.querySelector("#dlg-kind-note").checked;
    const newClientId = () => "c-" + (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));

    form.querySelectorAll('input[name="kind"]').forEach((r) => r.addEventListener("change", () => {
      sendLabel.textContent = isNote() ? T["reply.send_note"] : T["reply.send"];
      if (isNote()) stopTyping();
    }));

    let typingOn = false;
    let typingSent = 0;
    let idle = null;
    function stopTyping() {
      clearTimeout(idle);
      if (typingOn) send({ type: "typing", c: convId, on: false });
      typingOn = false;
    }
    text.addEventListener("input", () => {
      if (isNote()) return; // a note is not for the citizen's eyes
      if (!text.value.trim()) {
        stopTyping();
        return;
      }
      if (!typingOn || Date.now() - typingSent > 2500) {
        send({ type: "typing", c: convId, on: true });
        typingOn = true;
        typingSent = Date.now();
      }
      clearTimeout(idle);
      idle = setTimeout(stopTyping, 4000);
    });
    text.addEventListener("blur", stopTyping);
    text.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });

    formHandlers.reply = async () => {
      if (!text.value.trim()) return;
      error.textContent = "";
      try {
        // The client id stays the same until the server has the message, so
        // that a retry after a network error does not store it twice.
        await post(form);
        stopTyping();
        text.value = "";
        form.querySelector('input[name="client_id"]').value = newClientId();
        await loadMessages(convId);
        text.focus();
      } catch (e) {
        error.textContent = e.message;
      }
    };

    formHandlers.summary = async (f) => {
      try {
        const data = await post(f);
        announce(data.message);
        notify(data.message, "ok");
        refreshSummary();
        refreshList();
        loadMessages(convId);
      } catch (e) {
        notify(e.message, "error");
      }
    };

    // The fascicolo, fetched (and audited) when the operator asks for it.
    document.addEventListener("click", async (ev) => {
      const link = ev.target.closest("a[data-fascicolo]");
      if (!link) return;
      ev.preventDefault();
      const box = document.getElementById("dlg-fascicolo");
      link.setAttribute("aria-busy", "true");
      try {
        box.innerHTML = "";
        box.appendChild(fragment(await getText(link.dataset.fascicolo)));
        const first = document.getElementById("dlg-fascicolo-body");
        if (first) first.focus();
      } catch (e) {
        location.href = link.href;
      }
    });
  }

  // --- The supervisor's view ---------------------------------------------------

  function supervisorPage() {
    const refresh = throttle(async () => swap("dlg-stats", await getText("/console/supervisor/stats")), 2000);
    live.onEvent = (e) => {
      if (e.k === "conversation" || e.k === "presence" || e.k === "message") refresh();
    };
    live.onCatchUp = refresh;
    // Waiting times and presence that expires without an event.
    setInterval(refresh, 30000);
  }

  // --- Start ---------------------------------------------------------------------

  enhance(document);
  switch (pageKind) {
    case "inbox": inboxPage(); break;
    case "conversation": conversationPage(); break;
    case "supervisor": supervisorPage(); break;
    default: return; // login and error pages have nothing live
  }
  connect();
})();
