// Dialogo web chat: the embed script. A municipal website includes it with
//
//   <script src="https://dialogo.example/chat/milano/widget.js" defer></script>
//
// and gets a button, "Hai bisogno di aiuto?", in the corner of its pages; the
// button opens the chat, the page /chat/milano?embed=1 of Dialogo, in a frame.
// Optional attributes of the script tag:
//   data-lang="en"              the language (else the page's <html lang>)
//   data-identity-user="42"     a user the site knows, signed with the ente's
//   data-identity-hash="…"      secret: hex(HMAC-SHA256(secret, user id))
//   data-identity-name="Mario Rossi", data-identity-email="…"
// The identity goes to the frame in the fragment of its address, which
// browsers never send to a server, so it stays out of every log and Referer.
//
// The button and the panel live in a shadow root, so the site's styles cannot
// reach them, and they are styled with a constructed stylesheet, which the
// site's content security policy does not restrict (as it would a <style>).
(() => {
  'use strict';
  const config = /*@config*/ null;
  const script = document.currentScript;
  if (!config || !script || window.dialogoChat) return;
  window.dialogoChat = {};

  const origin = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const wanted = (data.lang || document.documentElement.lang || 'it').toLowerCase().slice(0, 2);
  const lang = config.texts[wanted] ? wanted : 'it';
  const text = config.texts[lang];

  const css = `
    :host { all: initial; }
    .launcher {
      position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000;
      display: inline-flex; align-items: center; gap: .5rem;
      min-height: 3rem; padding: .625rem 1.25rem .625rem 1rem;
      border: 2px solid #fff; border-radius: 1.5rem;
      background: #0066cc; color: #fff; cursor: pointer;
      font: 600 1rem/1.2 "Titillium Web", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
      box-shadow: 0 .25rem 1rem rgba(0, 0, 0, .3);
    }
    .launcher:hover { background: #004d99; }
    .launcher:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
    .launcher svg { width: 1.5rem; height: 1.5rem; fill: currentColor; flex: none; }
    .badge {
      min-width: 1.5rem; padding: .125rem .375rem; border-radius: .75rem;
      background: #fff; color: #1a1a1a; font-size: .875rem; text-align: center;
    }
    .badge[hidden], .panel[hidden] { display: none; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .panel {
      position: fixed; right: 1rem; bottom: 5rem; z-index: 2147483000;
      width: 24rem; height: min(40rem, calc(100vh - 7rem));
      border-radius: 8px; overflow: hidden; background: #fff;
      box-shadow: 0 .5rem 2rem rgba(0, 0, 0, .35);
    }
    iframe { display: block; width: 100%; height: 100%; border: 0; }
    @media (max-width: 575.98px) {
      .panel { inset: 0; width: auto; height: auto; border-radius: 0; }
      .open .launcher { display: none; }
    }`;

  function svg(path) {
    const ns = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', path);
    s.append(p);
    return s;
  }
  const bubbleIcon = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z';
  const downIcon = 'M5.6 8.6 12 15l6.4-6.4L19.8 10 12 17.8 4.2 10z';

  function start() {
    const host = document.createElement('div');
    host.id = 'dialogo-chat';
    const root = host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in root) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = css;
      root.append(style);
    }
    const wrapper = document.createElement('div');
    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'dialogo-chat-panel');
    const launcherIcon = svg(bubbleIcon);
    // The number of messages the citizen has not seen, for the eye, and the
    // same in words for a screen reader.
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.hidden = true;
    badge.setAttribute('aria-hidden', 'true');
    const unread = document.createElement('span');
    unread.className = 'sr';
    launcher.append(launcherIcon, document.createTextNode(text.launcher), badge, unread);

    const panel = document.createElement('div');
    panel.className = 'panel';
    panel.id = 'dialogo-chat-panel';
    panel.hidden = true;
    panel.setAttribute('role', 'region');
    panel.setAttribute('aria-label', text.title);
    wrapper.append(launcher, panel);
    root.append(wrapper);
    document.body.append(host);

    let frame = null;
    let ready = false;
    let isOpen = false;

    function post(msg) {
      if (frame && ready) frame.contentWindow.postMessage(msg, origin);
    }

    function open() {
      if (!frame) {
        // The frame is made at the first opening: a visitor who never asks
        // for help opens no connection to Dialogo.
        frame = document.createElement('iframe');
        frame.title = text.title;
        const fragment = new URLSearchParams();
        if (data.identityUser && data.identityHash) {
          fragment.set('user', data.identityUser);
          fragment.set('hash', data.identityHash);
          if (data.identityName) fragment.set('name', data.identityName);
          if (data.identityEmail) fragment.set('email', data.identityEmail);
        }
        fragment.set('origin', location.origin);
        frame.src = `${origin}${config.page}?embed=1&lang=${lang}#${fragment}`;
        panel.append(frame);
      }
      isOpen = true;
      panel.hidden = false;
      wrapper.className = 'open';
      launcher.setAttribute('aria-expanded', 'true');
      launcherIcon.firstChild.setAttribute('d', downIcon);
      if (ready) focusChat();
    }

    function focusChat() {
      frame.focus();
      post({ type: 'dialogo:open' });
    }

    function close() {
      isOpen = false;
      panel.hidden = true;
      wrapper.className = '';
      launcher.setAttribute('aria-expanded', 'false');
      launcherIcon.firstChild.setAttribute('d', bubbleIcon);
      post({ type: 'dialogo:close' });
      launcher.focus();
    }

    launcher.addEventListener('click', () => (isOpen ? close() : open()));
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && isOpen) close();
    });
    window.addEventListener('message', (e) => {
      if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
      const msg = e.data || {};
      if (msg.type === 'dialogo:ready') {
        ready = true;
        if (isOpen) focusChat();
      } else if (msg.type === 'dialogo:close') {
        if (isOpen) close();
      } else if (msg.type === 'dialogo:unread') {
        const n = Number(msg.count) || 0;
        badge.hidden = n === 0;
        badge.textContent = String(n);
        unread.textContent = n ? ' ' + text.unread.replace('%d', String(n)) : '';
      }
    });
    Object.assign(window.dialogoChat, { open, close });
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
