/* impbot web chat widget: <script src="https://BOT/widget.js" async></script>
   Plain JavaScript, no framework, no third-party requests. The bot's replies
   arrive as HTML rendered (and made safe) on the server; everything the user
   typed is inserted as text. */
(function () {
  'use strict';
  if (window.__impbotWidget) return;
  window.__impbotWidget = true;

  var me = document.currentScript;
  var origin = new URL(me && me.src ? me.src : '/widget.js', location.href).origin;
  var P = 'impbot:';
  function load(k, d) { try { var v = localStorage.getItem(P + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } }
  function save(k, v) { try { localStorage.setItem(P + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }

  var T = {
    en: {
      open: 'Open the chat: questions about work permits', close: 'Close the chat', title: 'IMP work permit assistant',
      greeting: 'Hello! I answer questions about Canada\'s International Mobility Program (LMIA-exempt work permits). Ask in your own words, or check your eligibility.',
      placeholder: 'Type your question…', input: 'Your message', send: 'Send', typing: 'The assistant is writing…',
      del: 'Delete my conversation', lang: 'Français', langShort: 'FR', elig: 'Check my eligibility', back: '↩ Back',
      person: 'Talk to a person', name: 'Your name', email: 'Your e-mail', question: 'Your question', sendTeam: 'Send to our team',
      cancel: 'Cancel', offline: 'Connection lost: your messages will be sent when it is back.', sending: 'sending…',
      you: 'You', bot: 'Assistant', staff: 'Our team', log: 'Conversation', fill: 'Please fill in every field.', unread: 'new message'
    },
    fr: {
      open: 'Ouvrir le clavardage : questions sur les permis de travail', close: 'Fermer le clavardage', title: 'Assistant permis de travail (PMI)',
      greeting: 'Bonjour ! Je réponds aux questions sur le Programme de mobilité internationale du Canada (permis de travail dispensés d\'EIMT). Posez votre question, ou vérifiez votre admissibilité.',
      placeholder: 'Écrivez votre question…', input: 'Votre message', send: 'Envoyer', typing: 'L\'assistant écrit…',
      del: 'Effacer ma conversation', lang: 'English', langShort: 'EN', elig: 'Vérifier mon admissibilité', back: '↩ Retour',
      person: 'Parler à une personne', name: 'Votre nom', email: 'Votre courriel', question: 'Votre question', sendTeam: 'Envoyer à notre équipe',
      cancel: 'Annuler', offline: 'Connexion perdue : vos messages partiront dès son retour.', sending: 'envoi…',
      you: 'Vous', bot: 'Assistant', staff: 'Notre équipe', log: 'Conversation', fill: 'Remplissez tous les champs.', unread: 'nouveau message'
    }
  };
  function pick(l) { return /^fr/i.test(l || '') ? 'fr' : 'en'; }
  var lang = load('lang', null) || pick(document.documentElement.lang || navigator.language);
  function t(k) { return T[lang][k]; }

  var sid = load('sid', '');
  var outbox = load('outbox', []);
  var entries = [];          // from the server, in seq order
  var cfg = {};              // title, greeting, theme, staff
  var ws = null, mode = 'ws', wsFails = 0, attempt = 0, timer = 0, connected = false, inflight = {};
  var lastUser = '';

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function newID() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return 'm' + Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // ---- the DOM ----
  document.head.appendChild(el('link', { rel: 'stylesheet', href: origin + '/widget.css' }));
  var root = el('div', { 'class': 'impbot', id: 'impbot' });
  var launcher = el('button', { type: 'button', 'class': 'impbot-launcher', 'aria-expanded': 'false', 'aria-controls': 'impbot-panel' });
  var titleEl = el('h2', { 'class': 'impbot-title', id: 'impbot-title' });
  var langBtn = el('button', { type: 'button', 'class': 'impbot-lang' });
  var closeBtn = el('button', { type: 'button', 'class': 'impbot-close', text: '×' });
  var log = el('div', { 'class': 'impbot-log', role: 'log', 'aria-live': 'polite', tabindex: '0' });
  var typing = el('div', { 'class': 'impbot-typing', hidden: '' }, [el('span'), el('span'), el('span'), el('em', { 'class': 'impbot-sr' })]);
  var status = el('div', { 'class': 'impbot-status', role: 'status', 'aria-live': 'polite' });
  var input = el('textarea', { 'class': 'impbot-input', rows: '1', maxlength: '2000', id: 'impbot-input' });
  var inputLabel = el('label', { 'class': 'impbot-sr', 'for': 'impbot-input' });
  var sendBtn = el('button', { type: 'submit', 'class': 'impbot-send' });
  var form = el('form', { 'class': 'impbot-form' }, [inputLabel, input, sendBtn]);
  var delBtn = el('button', { type: 'button', 'class': 'impbot-del' });
  var hoName = el('input', { id: 'impbot-ho-name', autocomplete: 'name', maxlength: '100' });
  var hoEmail = el('input', { id: 'impbot-ho-email', type: 'email', autocomplete: 'email', maxlength: '254' });
  var hoQ = el('textarea', { id: 'impbot-ho-q', rows: '3', maxlength: '2000' });
  var hoSend = el('button', { type: 'submit', 'class': 'impbot-primary' });
  var hoCancel = el('button', { type: 'button' });
  var hoLabels = [el('label', { 'for': 'impbot-ho-name' }), el('label', { 'for': 'impbot-ho-email' }), el('label', { 'for': 'impbot-ho-q' })];
  var hoForm = el('form', { 'class': 'impbot-handoff', hidden: '' },
    [hoLabels[0], hoName, hoLabels[1], hoEmail, hoLabels[2], hoQ, el('div', { 'class': 'impbot-row' }, [hoSend, hoCancel])]);
  var panel = el('div', { 'class': 'impbot-panel', id: 'impbot-panel', role: 'dialog', 'aria-labelledby': 'impbot-title', hidden: '' }, [
    el('div', { 'class': 'impbot-head' }, [titleEl, langBtn, closeBtn]),
    log, typing, status, hoForm, form,
    el('div', { 'class': 'impbot-foot' }, [delBtn])
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  function labels() {
    root.setAttribute('lang', lang);
    launcher.setAttribute('aria-label', t('open'));
    launcher.textContent = '';
    launcher.appendChild(el('span', { 'aria-hidden': 'true', text: '💬' }));
    titleEl.textContent = cfg.title || t('title');
    langBtn.textContent = t('langShort');
    langBtn.setAttribute('aria-label', t('lang'));
    langBtn.setAttribute('lang', lang === 'en' ? 'fr' : 'en');
    closeBtn.setAttribute('aria-label', t('close'));
    log.setAttribute('aria-label', t('log'));
    typing.lastChild.textContent = t('typing');
    inputLabel.textContent = t('input');
    input.setAttribute('placeholder', t('placeholder'));
    sendBtn.textContent = t('send');
    delBtn.textContent = t('del');
    hoLabels[0].textContent = t('name'); hoLabels[1].textContent = t('email'); hoLabels[2].textContent = t('question');
    hoSend.textContent = t('sendTeam'); hoCancel.textContent = t('cancel');
  }

  // ---- rendering ----
  function bubble(cls, who, body) {
    return el('div', { 'class': 'impbot-msg impbot-' + cls }, [el('span', { 'class': 'impbot-sr', text: who + ': ' }), body]);
  }
  function html(s) {
    // Server-rendered, sanitized Markdown (goldmark, raw HTML off).
    var d = document.createElement('div');
    d.innerHTML = s;
    return d;
  }
  function buttons(bs) {
    var row = el('div', { 'class': 'impbot-buttons' });
    var fb = el('div', { 'class': 'impbot-feedback' });
    bs.forEach(function (b) {
      var a = b.action || '';
      var btn = el('button', { type: 'button', 'data-action': a, text: b.label, onclick: function () { press(b); } });
      if (a.slice(0, 2) === 'f:') { btn.className = 'impbot-fb'; fb.appendChild(btn); } else row.appendChild(btn);
    });
    var box = el('div');
    box.appendChild(row);
    if (fb.firstChild) box.appendChild(fb);
    return box;
  }
  function entryNode(e) {
    var n = el('div', { 'class': 'impbot-entry', 'data-seq': String(e.seq) });
    if (e.from === 'user') n.appendChild(bubble('user', t('you'), el('p', { text: e.text || '' })));
    else if (e.from === 'staff') n.appendChild(bubble('staff', t('staff'), html(e.html)));
    else (e.replies || []).forEach(function (r) {
      var b = bubble('bot', t('bot'), html(r.html));
      if (r.topic) b.setAttribute('data-topic', r.topic);
      b.appendChild(buttons(r.buttons || []));
      n.appendChild(b);
    });
    return n;
  }
  // The log only grows (screen readers announce what is added); a reset or
  // a language switch rebuilds it.
  var greet = el('div'), list = el('div'), pend = el('div'), shown = {}, wantFocus = false;
  log.appendChild(greet); log.appendChild(list); log.appendChild(pend);
  function rebuild() {
    greet.textContent = '';
    var g = el('div', { 'class': 'impbot-msg impbot-bot' }, [el('p', { text: cfg.greeting || t('greeting') })]);
    g.appendChild(buttons([{ label: t('elig'), action: 'c:eligibility' }, { label: t('person'), action: 'h:' }]));
    greet.appendChild(g);
    list.textContent = ''; shown = {};
    render();
  }
  function render() {
    var added = null;
    entries.forEach(function (e) {
      if (shown[e.seq]) return;
      var n = entryNode(e), after = null;
      for (var c = list.firstChild; c; c = c.nextSibling) if (+c.getAttribute('data-seq') > e.seq) { after = c; break; }
      list.insertBefore(n, after);
      shown[e.seq] = n;
      if (e.from !== 'user') added = n;
    });
    for (var k in shown) if (!entries.some(function (e) { return String(e.seq) === k; })) { list.removeChild(shown[k]); delete shown[k]; }
    // /back goes with the question being asked: only on the last answer.
    Array.prototype.forEach.call(list.querySelectorAll('.impbot-back'), function (b) { b.parentNode.removeChild(b); });
    var last = null;
    entries.forEach(function (e) { if (e.from === 'bot') last = e; });
    if (last && last.dialogue && last.dialogue.ask) {
      var rows = shown[last.seq].querySelectorAll('.impbot-buttons');
      rows[rows.length - 1].appendChild(el('button', { type: 'button', 'class': 'impbot-back', 'data-action': 'back', text: t('back'), onclick: function () { send({ text: '/back' }, t('back')); } }));
    }
    pend.textContent = '';
    outbox.forEach(function (m) {
      var b = bubble('user impbot-pending', t('you'), el('p', { text: m.label || m.text || m.question || '' }));
      b.appendChild(el('small', { text: t('sending') }));
      pend.appendChild(b);
    });
    typing.hidden = !(outbox.length && connected);
    log.scrollTop = log.scrollHeight;
    unread();
    if (added && wantFocus) {
      wantFocus = false;
      var first = added.querySelector('button');
      if (first) first.focus(); else input.focus();
    }
  }
  // A badge on the launcher when an answer (a staff reply) arrived while
  // the panel was closed.
  function unread() {
    var top = 0;
    entries.forEach(function (e) { if (e.from !== 'user') top = Math.max(top, e.seq); });
    if (!panel.hidden) save('seen', top);
    var n = !panel.hidden ? 0 : entries.filter(function (e) { return e.from !== 'user' && e.seq > load('seen', 0); }).length;
    root.classList.toggle('impbot-unread', n > 0);
    launcher.setAttribute('aria-label', t('open') + (n ? ' (' + t('unread') + ')' : ''));
  }
  function merge(list, reset) {
    if (reset) entries = [];
    var have = {};
    entries.forEach(function (e) { have[e.seq] = true; });
    (list || []).forEach(function (e) {
      if (!have[e.seq]) { entries.push(e); have[e.seq] = true; }
      if (e.id && e.from === 'bot') done(e.id);
    });
    entries.sort(function (a, b) { return a.seq - b.seq; });
    if (entries.length > 200) entries = entries.slice(-200);
  }
  function done(id) {
    outbox = outbox.filter(function (m) { return m.id !== id; });
    delete inflight[id];
    save('outbox', outbox);
  }

  // ---- sending: every message waits in the outbox (kept in localStorage)
  // until its answer arrives; the server answers a resent id only once. ----
  function send(msg, label) {
    msg.id = newID();
    msg.type = msg.type || 'msg';
    msg.label = label || msg.text;
    if (msg.text && msg.text.charAt(0) !== '/') lastUser = msg.text;
    outbox.push(msg);
    save('outbox', outbox);
    render();
    flush();
  }
  function press(b) {
    var a = b.action || '';
    if (a.slice(0, 2) === 'h:' && cfg.staff) { openHandoff(); return; }
    wantFocus = true;
    send({ action: a }, b.label);
  }
  function payload(m) {
    return { type: m.type, sid: sid, id: m.id, text: m.text, action: m.action, label: m.label, lang: lang, name: m.name, email: m.email, question: m.question };
  }
  function flush() {
    if (!connected) return;
    if (mode === 'ws') {
      outbox.forEach(function (m) {
        if (inflight[m.id]) return;
        inflight[m.id] = true;
        try { ws.send(JSON.stringify(payload(m))); } catch (e) { delete inflight[m.id]; }
      });
    } else if (outbox.length && !inflight.http) {
      var m = outbox[0];
      inflight.http = true;
      post('/chat/send', payload(m)).then(function (o) { inflight.http = false; onOut(o); if (o.type === 'entries') flush(); })
        .catch(function () { inflight.http = false; lost(); });
    }
  }

  function onOut(o) {
    if (o.type === 'hello') {
      sid = o.sid; save('sid', sid);
      cfg = { title: o.title, greeting: o.greeting, theme: o.theme, staff: o.staff };
      if (/^#[0-9a-fA-F]{3,6}$/.test(o.theme || '')) root.style.setProperty('--impbot-theme', o.theme);
      attempt = 0; connected = true; inflight = {};
      merge(o.entries, true);
      labels(); rebuild(); setStatus('');
      flush();
    } else if (o.type === 'entries') {
      merge(o.entries, o.reset); render();
    } else if (o.type === 'slow') {
      if (o.id) delete inflight[o.id];
      setStatus(o.text);
      clearTimeout(timer);
      timer = setTimeout(function () {
        setStatus('');
        if (connected) flush();
        else if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: 'hello', sid: sid, lang: lang }));
        else hello();
      }, o.retry_ms || 3000);
    } else if (o.type === 'error' && o.text === 'unknown session') {
      connected = false; hello();
    } else if (o.type === 'error' && o.id) {
      done(o.id); render();
    }
  }
  function setStatus(s) { status.textContent = s || ''; }

  // ---- the connection: a WebSocket, reconnecting with backoff; after two
  // WebSockets that never opened, plain HTTP POST. ----
  function post(path, body) {
    return fetch(origin + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit', mode: 'cors' })
      .then(function (r) { if (!r.ok && r.status !== 400) throw new Error('http ' + r.status); return r.json(); });
  }
  function lost() {
    connected = false;
    if (outbox.length) setStatus(t('offline'));
    render();
    clearTimeout(timer);
    var d = Math.min(30000, 500 * Math.pow(2, attempt++));
    timer = setTimeout(hello, d / 2 + Math.random() * d / 2);
  }
  function hello() {
    if (mode === 'http') {
      post('/chat/hello', { type: 'hello', sid: sid, lang: lang }).then(onOut).catch(lost);
      return;
    }
    if (ws) return;
    var opened = false, s;
    try { s = new WebSocket(origin.replace(/^http/, 'ws') + '/chat/ws'); } catch (e) { mode = 'http'; hello(); return; }
    ws = s;
    s.onopen = function () { opened = true; wsFails = 0; s.send(JSON.stringify({ type: 'hello', sid: sid, lang: lang })); };
    s.onmessage = function (ev) { try { onOut(JSON.parse(ev.data)); } catch (e) { /* ignore a bad frame */ } };
    s.onclose = function () {
      if (ws !== s) return;
      ws = null;
      if (!opened && ++wsFails >= 2) mode = 'http';
      lost();
    };
  }
  // In HTTP mode, look for staff answers now and then while the panel is open.
  setInterval(function () { if (mode === 'http' && !panel.hidden && connected && !outbox.length) post('/chat/hello', { type: 'hello', sid: sid, lang: lang }).then(onOut).catch(function () {}); }, 20000);
  window.addEventListener('online', function () { if (!connected) { attempt = 0; clearTimeout(timer); hello(); } });

  // ---- opening, closing, keyboard ----
  function openPanel(focus) {
    panel.hidden = false;
    root.classList.add('impbot-open');
    launcher.setAttribute('aria-expanded', 'true');
    save('open', true);
    if (!connected && !ws) hello();
    rebuild();
    if (focus !== false) input.focus();
  }
  function closePanel() {
    unread();
    panel.hidden = true;
    root.classList.remove('impbot-open');
    launcher.setAttribute('aria-expanded', 'false');
    save('open', false);
    launcher.focus();
  }
  function openHandoff() {
    hoForm.hidden = false; form.hidden = true;
    if (!hoQ.value) hoQ.value = lastUser;
    hoName.focus();
  }
  function closeHandoff() { hoForm.hidden = true; form.hidden = false; input.focus(); }

  launcher.addEventListener('click', function () { if (panel.hidden) openPanel(); else closePanel(); });
  closeBtn.addEventListener('click', closePanel);
  langBtn.addEventListener('click', function () { lang = lang === 'en' ? 'fr' : 'en'; save('lang', lang); labels(); rebuild(); langBtn.focus(); });
  delBtn.addEventListener('click', function () { send({ text: '/forget' }, t('del')); });
  hoCancel.addEventListener('click', closeHandoff);
  hoForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!hoName.value.trim() || !hoEmail.value.trim() || !hoQ.value.trim()) { setStatus(t('fill')); return; }
    send({ type: 'handoff', name: hoName.value.trim(), email: hoEmail.value.trim(), question: hoQ.value.trim() }, hoQ.value.trim());
    hoQ.value = '';
    closeHandoff();
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var v = input.value.trim();
    if (!v) return;
    input.value = '';
    send({ text: v });
  });
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit')); }
  });
  panel.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); closePanel(); } });
  document.addEventListener('click', function (ev) {
    var o = ev.target && ev.target.closest && ev.target.closest('[data-impbot-open]');
    if (o) { ev.preventDefault(); openPanel(); }
  });

  labels();
  rebuild();
  function start() {
    document.body.appendChild(root);
    // A returning visitor connects at once, so a staff answer shows on the
    // launcher even before the panel is opened.
    if (load('open', false)) openPanel(false);
    else if (sid || outbox.length) hello();
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
