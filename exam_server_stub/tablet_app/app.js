// The vigie tablet: a browser exam client speaking docs/protocol.md, nothing else.
// No build step and no dependency: what a faculty's tablet loads is this file.
// Durability rule: an answer is written to IndexedDB before it is sent, and leaves
// IndexedDB only once the server acknowledged it (the server acknowledges only what
// it committed), so a reload, a lost network or a dead battery loses nothing.
"use strict";
(() => {
  const API = "/api/v1";
  const MAX_BACKOFF_S = 30;
  const FORMATS = {
    QRU: "Une seule réponse",
    QRM: "Une ou plusieurs réponses",
    QRP: "Nombre de réponses imposé",
    QRPL: "Nombre de réponses imposé, liste longue",
    ZAP: "Désignez les zones sur l'image",
    QROC: "Réponse courte (cinq mots au plus)",
    TCS: "Test de concordance de script",
  };
  const TCS_LEGEND = ["fortement infirmée", "infirmée", "inchangée", "confirmée", "fortement confirmée"];
  const MAX_WORDS = 5;
  const MAX_TEXT = 200;
  const MAX_POINTS = 10;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    node.append(...children);
    return node;
  };

  const S = {
    session: null, // {token, candidate_id, centre, heartbeat_interval_s}
    units: [],
    stored: {}, // unit_id -> question_id -> {answer, final} as the server holds it
    outbox: [], // requests not acknowledged yet, in order (IndexedDB mirror)
    unit: null, // the unit on screen
    current: 0,
    draft: null,
    paused: false,
    offset: 0, // server clock minus this tablet's clock, seconds
    ws: null,
    wsUp: false,
    wsAttempts: 0,
    httpDown: false,
    everUp: false,
    stopped: false,
    seq: 0,
    sentAt: {},
    lastAck: 0,
    applied: new Set(), // instruction ids carried out and confirmed
    shown: new Set(), // instruction ids shown (a message waits for "J'ai lu")
    messages: [],
    battery: null,
    acked: [], // receipts: what the server acknowledged (kept in IndexedDB)
    rejected: [],
    reconnects: 0,
  };
  const now = () => Date.now() / 1000;
  const serverNow = () => now() + S.offset;
  const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
  const jitter = (n) => Math.random() * Math.min(MAX_BACKOFF_S, 2 ** n);

  // --- storage -------------------------------------------------------------------
  const DB = (() => {
    let opened = null;
    const open = () => (opened = opened || new Promise((resolve, reject) => {
      const req = indexedDB.open("vigie-tablet", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("kv");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
    const run = async (mode, fn) => {
      const db = await open();
      return new Promise((resolve, reject) => {
        // "strict": the write is on disk when the transaction completes, not just queued.
        const tx = db.transaction("kv", mode, { durability: "strict" });
        const req = fn(tx.objectStore("kv"));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    };
    return {
      get: (key) => run("readonly", (s) => s.get(key)),
      put: (key, value) => run("readwrite", (s) => s.put(value, key)),
    };
  })();
  const outboxKey = () => "outbox:" + S.session.candidate_id;
  const appliedKey = () => "applied:" + S.session.candidate_id;
  const ackedKey = () => "acked:" + S.session.candidate_id;
  const saveOutbox = () => DB.put(outboxKey(), S.outbox);

  // --- HTTP ----------------------------------------------------------------------
  class Offline extends Error {}
  async function call(method, path, body) {
    const headers = {};
    if (S.session) headers.Authorization = "Bearer " + S.session.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(API + path, {
        method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (exc) {
      S.httpDown = true;
      updateLink();
      throw new Offline(String(exc));
    }
    if (S.httpDown) { S.httpDown = false; updateLink(); }
    return resp;
  }
  async function errorOf(resp) {
    try {
      const doc = await resp.json();
      if (doc && doc.error) return doc.error;
    } catch (_) { /* not the documented body: a proxy's page */ }
    return { code: "http_" + resp.status, message: resp.statusText || "HTTP " + resp.status };
  }
  const retryAfter = (resp) => {
    const value = Number(resp.headers.get("Retry-After"));
    return Number.isFinite(value) && value > 0 ? Math.min(value, 300) : 0;
  };
  // GET until it answers 2xx: network errors and 5xx wait with backoff; a 4xx is returned.
  async function getRetrying(path, stillWanted = () => true) {
    for (let n = 0; stillWanted(); n++) {
      try {
        const resp = await call("GET", path);
        if (resp.ok || (resp.status < 500 && resp.status !== 429)) return resp;
        await sleep(retryAfter(resp) + jitter(n));
      } catch (exc) {
        if (!(exc instanceof Offline)) throw exc;
        await sleep(jitter(n));
      }
    }
    return null;
  }

  // --- screens and the banner ------------------------------------------------------
  function show(name) {
    for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== "screen-" + name;
    $("top").hidden = name === "login" || name === "fatal";
    $("exam-actions").hidden = name !== "exam";
    if (name !== "exam") $("confirm-finish-panel").hidden = true;
    document.body.dataset.screen = name;
  }
  function fatal(text) {
    S.stopped = true;
    $("fatal-text").textContent = text;
    show("fatal");
  }
  function notice(text) {
    const n = $("notice");
    n.textContent = text;
    n.hidden = !text;
  }
  function updateLink() {
    const down = !navigator.onLine || S.httpDown || (S.everUp && !S.wsUp);
    $("offline-banner").hidden = !down || !S.session;
    const pending = S.outbox.filter((i) => i.op === "answer").length;
    $("pending-count").textContent = pending ? `${pending} réponse(s) en attente d'envoi.` : "";
    const link = $("link-state");
    link.className = "link " + (down ? "down" : S.wsUp ? "up" : "");
    document.body.dataset.online = down ? "no" : "yes";
    renderSaveState();
  }

  // --- login and resume --------------------------------------------------------------
  async function login(ev) {
    ev.preventDefault();
    const body = {
      candidate_id: $("login-candidate").value.trim(),
      centre: $("login-centre").value.trim(),
      access_code: $("login-code").value.trim(),
    };
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    try {
      let resp = await call("POST", "/login", body);
      // A busy server (503 + Retry-After, 429) is retried a few times before giving up.
      for (let n = 0; n < 5 && (resp.status >= 500 || resp.status === 429); n++) {
        $("login-error").textContent = "Serveur occupé : nouvel essai dans quelques secondes…";
        await sleep(retryAfter(resp) + jitter(n));
        resp = await call("POST", "/login", body);
      }
      $("login-error").textContent = "";
      if (!resp.ok) {
        const err = await errorOf(resp);
        $("login-error").textContent = err.code === "bad_credentials"
          ? "Identifiant, centre ou code d'accès incorrect."
          : `Connexion refusée : ${err.message}`;
        return;
      }
      const doc = await resp.json();
      S.session = {
        token: doc.token, candidate_id: doc.candidate_id, centre: doc.centre,
        heartbeat_interval_s: doc.heartbeat_interval_s,
      };
      sessionStorage.setItem("vigie.session", JSON.stringify(S.session));
      await enter();
    } catch (exc) {
      $("login-error").textContent = exc instanceof Offline
        ? "Le serveur est injoignable : vérifiez le réseau de la tablette."
        : `Erreur : ${exc}`;
    } finally {
      $("login-submit").disabled = false;
    }
  }
  function relogin(text) {
    S.session = null;
    sessionStorage.removeItem("vigie.session");
    if (S.ws) { S.ws.stopBeat(); S.ws.onclose = null; S.ws.close(); S.ws = null; }
    S.wsUp = false;
    show("login");
    $("login-error").textContent = text;
  }

  async function enter() {
    S.stopped = false;
    $("who").textContent = `${S.session.candidate_id} · ${S.session.centre}`;
    S.outbox = (await DB.get(outboxKey())) || [];
    S.applied = new Set((await DB.get(appliedKey())) || []);
    S.acked = (await DB.get(ackedKey())) || [];
    const me = await getRetrying("/me");
    if (me === null) return;
    if (me.status === 401) return relogin("Votre session a expiré : reconnectez-vous.");
    const doc = await me.json();
    S.units = doc.units;
    S.stored = {};
    for (const [unitId, answers] of Object.entries(doc.answers || {})) S.stored[unitId] = answers;
    updateLink();
    connect();
    flush();
    await predownload();
    await route();
  }

  // A finish still in the outbox counts: a reload must not reopen a unit handed in offline.
  const finishing = (id) => S.outbox.some((i) => i.op === "finish" && i.unit_id === id);
  async function route() {
    if (S.stopped) return;
    const live = S.units.find((u) => u.state === "launched" && !u.finished && !finishing(u.unit_id));
    if (live && (!S.unit || S.unit.id !== live.unit_id)) return startUnit(live);
    if (S.unit && !S.unit.over) return;
    // A backup unit nobody launched is not the next one: it may never be sat.
    const next = S.units.find((u) => u.state === "scheduled" && !u.backup);
    if (next) {
      $("waiting-title").textContent = S.unit
        ? "Épreuve terminée. En attente de l'épreuve suivante"
        : "En attente du lancement national";
      $("next-unit").textContent = `Prochaine épreuve : ${next.title}.`;
      show("waiting");
    } else {
      $("done-title").textContent = "Épreuves terminées";
      $("done-text").textContent = "Vous avez terminé toutes les épreuves. Merci.";
      show("done");
    }
    renderSaveState();
  }

  // --- packages: downloaded before the launch, decrypted at it -----------------------
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  async function packageOf(unit) {
    const key = "pkg:" + unit.package_sha256;
    const kept = await DB.get(key);
    if (kept) return kept;
    const resp = await getRetrying(`/units/${unit.unit_id}/package`, () => !S.stopped);
    if (resp === null || !resp.ok) throw new Error(`le sujet ${unit.unit_id} est refusé (${resp && resp.status})`);
    const body = await resp.arrayBuffer();
    const digest = hex(await crypto.subtle.digest("SHA-256", body));
    if (digest !== unit.package_sha256 || digest !== resp.headers.get("X-Vigie-Sha256")) {
      throw new Error(`le sujet ${unit.unit_id} est corrompu (empreinte ${digest.slice(0, 12)}…)`);
    }
    await DB.put(key, body);
    return body;
  }
  async function predownload() {
    const list = $("packages");
    list.replaceChildren();
    const wanted = (u) => !u.finished && u.state !== "closed" && !(u.backup && u.state === "scheduled");
    for (const unit of S.units.filter(wanted)) {
      const item = el("li", { class: "wait", text: `${unit.title} : téléchargement…`, "data-unit": unit.unit_id });
      list.append(item);
      try {
        await packageOf(unit);
        item.className = "ok";
        item.textContent = `${unit.title} : sujet chiffré prêt`;
      } catch (exc) {
        item.className = "bad";
        item.textContent = `${unit.title} : ${exc.message}`;
      }
    }
  }
  async function decrypt(unitId, body, keyB64) {
    const raw = Uint8Array.from(atob(keyB64), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: body.slice(0, 12), additionalData: new TextEncoder().encode(unitId) },
      key, body.slice(12),
    );
    return JSON.parse(new TextDecoder().decode(plain));
  }

  // --- a unit --------------------------------------------------------------------
  async function startUnit(unit) {
    const id = unit.unit_id;
    S.unit = { id, title: unit.title, deadline: unit.deadline, qs: [], over: false, timeUp: false };
    $("unit-title").textContent = unit.title;
    const body = await packageOf(unit);
    const keyResp = await getRetrying(`/units/${id}/key`, () => S.unit && S.unit.id === id);
    if (keyResp === null) return;
    if (!keyResp.ok) {
      const err = await errorOf(keyResp);
      if (err.code === "unit_not_launched") { unit.state = "scheduled"; S.unit = null; return route(); }
      S.unit.over = true;
      notice(`Épreuve indisponible : ${err.message}`);
      return route();
    }
    const key = await keyResp.json();
    S.unit.deadline = key.deadline;
    const doc = await decrypt(id, body, key.key);
    S.unit.qs = doc.questions;
    S.unit.contexts = {};
    for (const q of S.unit.qs) if (q.context && q.dossier_id) S.unit.contexts[q.dossier_id] = q.context;
    await unlockKnown();
    S.current = Math.min(Number(sessionStorage.getItem("vigie.pos." + id)) || 0, S.unit.qs.length - 1);
    S.draft = null;
    show("exam");
    renderNav();
    renderQuestion();
  }
  // The latest answer this tablet gave: a pending one wins over the stored one.
  function answerOf(qid) {
    for (let i = S.outbox.length - 1; i >= 0; i--) {
      const item = S.outbox[i];
      if (item.op === "answer" && item.body.question_id === qid) {
        return { answer: item.body.answer, final: item.body.final, pending: true };
      }
    }
    const stored = (S.stored[S.unit.id] || {})[qid];
    return stored ? { answer: stored.answer, final: stored.final, pending: false } : null;
  }
  // Dossier questions already unlocked on the server (a reload): fetch them in clear.
  async function unlockKnown() {
    for (let i = 1; i < S.unit.qs.length; i++) {
      const q = S.unit.qs[i], prev = S.unit.qs[i - 1];
      const done = answerOf(prev.id);
      if (q.locked && prev.dossier_id === q.dossier_id && done && done.final && !done.pending) {
        await fetchQuestion(q.id);
      }
    }
  }
  async function fetchQuestion(qid) {
    const unit = S.unit;
    const resp = await getRetrying(`/units/${unit.id}/questions/${qid}`, () => S.unit === unit);
    if (resp === null || !resp.ok) return;
    const q = await resp.json();
    const at = unit.qs.findIndex((x) => x.id === qid);
    if (at >= 0) unit.qs[at] = q;
    if (S.unit === unit) { renderNav(); if (S.current === at) renderQuestion(); }
  }
  const answeredCount = () => (S.unit ? S.unit.qs.filter((q) => answerOf(q.id)).length : 0);
  const frozen = () => !S.unit || S.unit.over || S.unit.timeUp || S.paused;

  // --- answering: IndexedDB first, then the server -----------------------------------
  async function enqueue(item) {
    S.outbox.push(item);
    await saveOutbox();
    updateLink();
    flush();
  }
  async function saveAnswer(q, answer, final) {
    await enqueue({
      op: "answer", unit_id: S.unit.id, path: `/units/${S.unit.id}/answers`,
      body: { action_id: crypto.randomUUID(), question_id: q.id, answer, final, client_ts: now() },
    });
  }
  let flushing = false, flushFails = 0, flushTimer = null;
  function retryFlush(seconds) {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flush, 1000 * (seconds + jitter(flushFails++)));
  }
  async function flush() {
    if (flushing || !S.session) return;
    flushing = true;
    try {
      while (S.outbox.length) {
        const item = S.outbox[0];
        let resp;
        try {
          resp = await call("POST", item.path, item.body);
        } catch (exc) {
          if (exc instanceof Offline) { retryFlush(0); return; }
          throw exc;
        }
        if (resp.status >= 500 || resp.status === 429) { retryFlush(retryAfter(resp)); return; }
        if (resp.status === 401) { relogin("Votre session a expiré : reconnectez-vous. Vos réponses sont conservées."); return; }
        const doc = resp.ok ? await resp.json() : null;
        const err = resp.ok ? null : await errorOf(resp);
        if (err && (err.code === "centre_paused" || err.code === "candidate_paused")) { setPaused(true); retryFlush(5); return; }
        // Out of the outbox first: the server holds it (or refused it for good).
        S.outbox.shift();
        await saveOutbox();
        flushFails = 0;
        if (doc) {
          settled(item, doc);
        } else {
          S.rejected.push({ ...item.body, code: err.code });
          if (item.op === "answer") notice(`Une réponse a été refusée par le serveur : ${err.message}`);
        }
      }
    } finally {
      flushing = false;
      updateLink();
    }
  }
  function settled(item, doc) {
    const b = item.body;
    if (item.op === "finish") {
      const unit = S.units.find((u) => u.unit_id === item.unit_id);
      if (unit) unit.finished = true;
      route();
      return;
    }
    S.acked.push({
      action_id: b.action_id, question_id: b.question_id, answer: b.answer, final: b.final,
      server_ts: doc.server_ts, duplicate: doc.duplicate,
    });
    DB.put(ackedKey(), S.acked); // the candidate's receipts survive a reload
    (S.stored[item.unit_id] = S.stored[item.unit_id] || {})[b.question_id] = { answer: b.answer, final: b.final };
    if (doc.unlocked && S.unit && S.unit.id === item.unit_id) fetchQuestion(doc.unlocked);
    if (S.unit && S.unit.id === item.unit_id) renderNav();
  }
  async function finishUnit(reason) {
    const unit = S.unit;
    if (!unit || unit.over) return;
    unit.over = true;
    await enqueue({
      op: "finish", unit_id: unit.id, path: `/units/${unit.id}/finish`,
      body: { action_id: crypto.randomUUID(), client_ts: now() },
    });
    $("confirm-finish-panel").hidden = true;
    $("done-title").textContent = `${unit.title} : épreuve terminée`;
    $("done-text").textContent = reason;
    show("done");
    renderSaveState();
  }

  // --- the websocket: heartbeats, pushes, instructions ---------------------------------
  function networkType() {
    if (!navigator.onLine) return "none";
    const type = navigator.connection && navigator.connection.type;
    return ["wifi", "ethernet", "cellular", "none"].includes(type) ? type : "unknown";
  }
  function connect() {
    if (S.ws || S.stopped || !S.session) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${API}/ws?token=${encodeURIComponent(S.session.token)}`);
    S.ws = ws;
    let beat = null;
    ws.stopBeat = () => { clearTimeout(beat); clearInterval(beat); };
    ws.onopen = () => {
      if (S.everUp) S.reconnects++;
      S.wsUp = S.everUp = true;
      S.wsAttempts = 0;
      S.lastAck = now();
      updateLink();
      const interval = S.session.heartbeat_interval_s;
      const tick = () => {
        if (now() - S.lastAck > 4 * interval) return drop(ws); // a dead link sends no close
        heartbeat(ws);
      };
      // A random first beat: a centre's tablets opened together do not beat in lockstep.
      beat = setTimeout(() => { tick(); beat = setInterval(tick, interval * 1000); }, Math.random() * interval * 1000);
      flush();
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (_) { return; }
      onMessage(ws, msg);
    };
    ws.onclose = (ev) => {
      ws.stopBeat();
      if (S.ws === ws) closed(ev.code);
    };
  }
  function drop(ws) {
    ws.stopBeat();
    ws.onclose = null;
    try { ws.close(); } catch (_) { /* already closing */ }
    closed(1006);
  }
  function closed(code) {
    S.ws = null;
    S.wsUp = false;
    updateLink();
    if (code === 4001) return fatal("Votre session a été ouverte sur une autre tablette. Appelez un surveillant.");
    if (code === 1008) return relogin("La connexion a été refusée : reconnectez-vous.");
    setTimeout(connect, 1000 * jitter(S.wsAttempts++));
  }
  function heartbeat(ws) {
    const unit = S.unit && !S.unit.over ? S.unit : null;
    S.seq++;
    S.sentAt[S.seq] = now();
    ws.send(JSON.stringify({
      type: "hb", seq: S.seq, unit_id: unit ? unit.id : null,
      position: unit ? S.current : 0, answered: unit ? answeredCount() : 0,
      battery: S.battery, network: networkType(), client_ts: now(),
    }));
  }
  function onMessage(ws, msg) {
    if (msg.type === "welcome") {
      S.offset = msg.server_ts - now();
      S.session.heartbeat_interval_s = msg.heartbeat_interval_s;
      mergeUnits(msg.units);
      route();
    } else if (msg.type === "hb_ack") {
      S.lastAck = now();
      const sent = S.sentAt[msg.seq];
      delete S.sentAt[msg.seq];
      if (sent) S.offset = msg.server_ts - (sent + S.lastAck) / 2;
      instructions(ws, msg.instructions || []);
    } else if (msg.type === "launch") {
      const unit = S.units.find((u) => u.unit_id === msg.unit_id);
      if (unit) Object.assign(unit, { state: "launched", launched_at: msg.launched_at, deadline: msg.deadline });
      route();
    } else if (msg.type === "close_unit") {
      const unit = S.units.find((u) => u.unit_id === msg.unit_id);
      if (unit) unit.state = "closed";
      if (S.unit && S.unit.id === msg.unit_id && !S.unit.over) {
        S.unit.over = true;
        $("done-title").textContent = `${S.unit.title} : épreuve close`;
        $("done-text").textContent = "Le jury a clos l'épreuve. Vos réponses enregistrées comptent.";
        show("done");
        setTimeout(route, 3000);
      }
    }
  }
  function mergeUnits(units) {
    for (const u of units) {
      const mine = S.units.find((x) => x.unit_id === u.unit_id);
      if (mine) Object.assign(mine, u); else S.units.push(u);
    }
  }
  function sendAck(ws, ids) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ack", ids }));
  }
  async function confirmed(ws, ids) {
    for (const id of ids) S.applied.add(id);
    await DB.put(appliedKey(), [...S.applied].slice(-500));
    sendAck(ws, ids);
  }
  function instructions(ws, list) {
    const again = list.filter((i) => S.applied.has(i.id)).map((i) => i.id);
    if (again.length) sendAck(ws, again); // our confirmation was lost: confirm again
    for (const inst of list) {
      if (S.applied.has(inst.id) || S.shown.has(inst.id)) continue;
      S.shown.add(inst.id);
      if (inst.kind === "message") { S.messages.push({ ws, inst }); showMessage(); continue; }
      apply(inst);
      confirmed(ws, [inst.id]);
    }
  }
  function apply(inst) {
    const mine = S.unit && (!inst.unit_id || inst.unit_id === S.unit.id);
    if (inst.kind === "extra_time" && mine && inst.deadline) {
      S.unit.deadline = inst.deadline;
      S.unit.timeUp = false;
      notice(`Temps supplémentaire accordé : ${Math.round(inst.seconds / 60)} min. Nouvelle fin : ${clock(inst.deadline)}.`);
    } else if (inst.kind === "pause") {
      $("pause-reason").textContent = inst.reason || "";
      setPaused(true);
    } else if (inst.kind === "resume") {
      if (mine && inst.deadline) S.unit.deadline = inst.deadline;
      setPaused(false);
      flush();
    } else if (inst.kind === "end_unit" && mine) {
      finishUnit("Le jury a mis fin à l'épreuve pour cette tablette.");
    }
  }
  function setPaused(paused) {
    if (S.paused === paused) return;
    S.paused = paused;
    $("pause-overlay").hidden = !paused;
    if (S.unit && document.body.dataset.screen === "exam") renderQuestion();
  }
  function showMessage() {
    if (!$("modal-message").hidden || !S.messages.length) return;
    $("modal-text").textContent = S.messages[0].inst.text || "";
    $("modal-message").hidden = false;
    $("modal-ok").focus();
  }
  function messageRead() {
    const { ws, inst } = S.messages.shift();
    $("modal-message").hidden = true;
    confirmed(S.ws || ws, [inst.id]);
    showMessage();
  }

  // --- rendering the question ------------------------------------------------------
  const clock = (ts) => new Date((ts - S.offset) * 1000).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
  function renderNav() {
    const nav = $("nav");
    nav.replaceChildren(...S.unit.qs.map((q, i) => {
      const given = answerOf(q.id);
      const state = q.locked ? "locked" : given ? (given.pending ? "pending" : given.final && q.dossier_id ? "final" : "answered") : "";
      const b = el("button", { type: "button", class: state + (i === S.current ? " current" : ""), text: String(i + 1), "data-question-id": q.id });
      b.onclick = () => goTo(i);
      return b;
    }));
  }
  function goTo(i) {
    if (!S.unit || i < 0 || i >= S.unit.qs.length) return;
    autosave();
    S.current = i;
    sessionStorage.setItem("vigie.pos." + S.unit.id, String(i));
    S.draft = null;
    renderNav();
    renderQuestion();
  }
  // An isolated question's answer is kept when the candidate moves on without "Enregistrer".
  function autosave() {
    const q = S.unit && S.unit.qs[S.current];
    if (!q || q.locked || q.dossier_id || frozen() || S.draft === null || !valid(q, S.draft)) return;
    const given = answerOf(q.id);
    if (!given || JSON.stringify(given.answer) !== JSON.stringify(S.draft)) saveAnswer(q, S.draft, false);
  }
  function valid(q, a) {
    if (!a) return false;
    if (q.format === "ZAP") return a.points.length >= 1 && a.points.length <= MAX_POINTS;
    if (q.format === "QROC") { const n = words(a.text); return n >= 1 && n <= MAX_WORDS && a.text.length <= MAX_TEXT; }
    if (q.format === "TCS") return Number.isInteger(a.scale);
    if (q.format === "QRU") return a.choices.length === 1;
    if (q.expected_count) return a.choices.length === q.expected_count;
    return a.choices.length >= 1;
  }
  const words = (text) => text.trim().split(/\s+/).filter(Boolean).length;

  function renderQuestion() {
    const art = $("question");
    const q = S.unit.qs[S.current];
    art.dataset.questionId = q.id;
    art.dataset.format = q.format || "";
    const head = el("div", { class: "q-head" },
      el("span", { text: `Question ${S.current + 1} / ${S.unit.qs.length}` }),
      el("span", { text: q.dossier_id ? `Dossier progressif · ${FORMATS[q.format] || ""}` : FORMATS[q.format] || "" }));
    $("prev").disabled = S.current === 0;
    $("next").disabled = S.current === S.unit.qs.length - 1;
    if (q.locked) {
      art.replaceChildren(head, el("p", { class: "readonly", text: "Cette question du dossier s'ouvrira quand la précédente sera validée." }));
      $("q-actions-slot").replaceChildren();
      renderSaveState();
      return;
    }
    const given = answerOf(q.id);
    const readOnly = frozen() || Boolean(q.dossier_id && given && given.final);
    if (S.draft === null) S.draft = given ? structuredClone(given.answer) : empty(q);
    const parts = [head];
    const context = q.context || (q.dossier_id && S.unit.contexts[q.dossier_id]);
    if (context) parts.push(el("div", { class: "context", text: context }));
    parts.push(el("p", { class: "q-text", text: q.text }));
    if (q.image && q.format !== "ZAP") parts.push(figure(q, false, readOnly));
    parts.push(inputs(q, readOnly));
    art.replaceChildren(...parts);
    $("q-actions-slot").replaceChildren(actions(q, readOnly, given));
    renderSaveState();
  }
  function empty(q) {
    if (q.format === "ZAP") return { points: [] };
    if (q.format === "QROC") return { text: "" };
    if (q.format === "TCS") return { scale: null };
    return { choices: [] };
  }
  function inputs(q, readOnly) {
    if (q.format === "ZAP") return figure(q, true, readOnly);
    if (q.format === "QROC") {
      const count = el("span", { class: "rule" });
      const input = el("input", { id: "qroc-input", maxLength: MAX_TEXT, value: S.draft.text, disabled: readOnly, autocomplete: "off" });
      const update = () => { count.textContent = `${words(input.value)} / ${MAX_WORDS} mots`; };
      input.oninput = () => { S.draft = { text: input.value }; update(); refreshActions(q); };
      update();
      return el("div", { class: "qroc" }, input, count);
    }
    if (q.format === "TCS") {
      const row = el("div", { class: "tcs", role: "radiogroup" });
      q.propositions.forEach((label, i) => {
        const value = i - 2;
        const input = el("input", { type: "radio", name: "tcs", checked: S.draft.scale === value, disabled: readOnly, "data-index": String(i) });
        input.onchange = () => { S.draft = { scale: value }; paint(row); refreshActions(q); };
        row.append(el("label", { class: S.draft.scale === value ? "checked" : "" }, input, label, el("br"), el("small", { text: TCS_LEGEND[i] || "" })));
      });
      return el("div", {}, el("p", { class: "rule", text: "L'hypothèse devient-elle plus ou moins probable ?" }), row);
    }
    const single = q.format === "QRU";
    const limit = q.expected_count || null;
    const list = el("ul", { class: "props" });
    const rule = el("p", { class: "rule" });
    const tell = () => {
      const n = S.draft.choices.length;
      rule.textContent = limit ? `Cochez exactement ${limit} proposition(s) : ${n} cochée(s).`
        : single ? "Cochez une proposition." : "Cochez une ou plusieurs propositions.";
    };
    q.propositions.forEach((text, i) => {
      const input = el("input", { type: single ? "radio" : "checkbox", name: "choice", checked: S.draft.choices.includes(i), disabled: readOnly, "data-index": String(i) });
      input.onchange = () => {
        let choices = single ? [i] : S.draft.choices.filter((c) => c !== i);
        if (!single && input.checked) {
          if (limit && choices.length >= limit) { input.checked = false; tell(); return; }
          choices = [...choices, i].sort((a, b) => a - b);
        }
        S.draft = { choices };
        paint(list); tell(); refreshActions(q);
      };
      list.append(el("li", {}, el("label", { class: input.checked ? "checked" : "" }, input, el("span", { text: `${String.fromCharCode(65 + i)}. ${text}` }))));
    });
    tell();
    return el("div", {}, rule, list);
  }
  function paint(container) {
    for (const label of container.querySelectorAll("label")) {
      const input = label.querySelector("input");
      label.classList.toggle("checked", Boolean(input && input.checked));
    }
  }
  // The image, zoomable; for ZAP each tap adds a point (fractions of the image), a tap on a point removes it.
  function figure(q, pointing, readOnly) {
    let zoom = 1;
    const img = el("img", { src: `data:${q.image.mime};base64,${q.image.data}`, alt: "Image de la question", draggable: false });
    const stage = el("div", { class: "stage" }, img);
    const box = el("div", { class: "figure", "data-zap": pointing ? "1" : "0" }, stage);
    const drawPoints = () => {
      for (const p of stage.querySelectorAll(".point")) p.remove();
      if (!pointing) return;
      S.draft.points.forEach(([x, y], k) => {
        const dot = el("span", { class: "point", "data-point": String(k) });
        dot.style.left = `${x * 100}%`;
        dot.style.top = `${y * 100}%`;
        dot.onclick = (ev) => {
          ev.stopPropagation();
          if (readOnly) return;
          S.draft = { points: S.draft.points.filter((_, j) => j !== k) };
          drawPoints(); refreshActions(q);
        };
        stage.append(dot);
      });
    };
    if (pointing) {
      img.onclick = (ev) => {
        if (readOnly || S.draft.points.length >= MAX_POINTS) return;
        const r = img.getBoundingClientRect();
        const x = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
        const y = Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height));
        S.draft = { points: [...S.draft.points, [Number(x.toFixed(4)), Number(y.toFixed(4))]] };
        drawPoints(); refreshActions(q);
      };
    }
    const setZoom = (z) => { zoom = Math.min(4, Math.max(1, z)); img.style.width = `${320 * zoom}px`; };
    const zoomIn = el("button", { type: "button", text: "＋", title: "Agrandir", class: "zoom-in" });
    const zoomOut = el("button", { type: "button", text: "－", title: "Réduire", class: "zoom-out" });
    zoomIn.onclick = () => setZoom(zoom * 1.5);
    zoomOut.onclick = () => setZoom(zoom / 1.5);
    drawPoints();
    const tools = el("div", { class: "zoom" }, zoomOut, zoomIn,
      el("span", { class: "rule", text: pointing ? `Touchez l'image pour désigner une zone (${MAX_POINTS} au plus) ; touchez un point pour l'effacer.` : "Image agrandissable" }));
    return el("div", {}, tools, box);
  }
  function actions(q, readOnly, given) {
    const row = el("div", { class: "q-actions", id: "q-actions" });
    if (readOnly) {
      row.append(el("span", { class: "readonly", text: q.dossier_id && given && given.final ? "Réponse validée : elle ne peut plus être modifiée." : S.paused ? "Épreuve en pause." : "Le temps est écoulé." }));
      return row;
    }
    const save = el("button", { id: "save", type: "button", class: "primary", text: q.dossier_id ? "Valider définitivement" : "Enregistrer la réponse" });
    const confirm = el("button", { id: "confirm-final", type: "button", class: "danger", text: "Confirmer : réponse définitive", hidden: true });
    const cancel = el("button", { id: "cancel-final", type: "button", text: "Annuler", hidden: true });
    save.onclick = () => {
      if (!valid(q, S.draft)) return;
      if (q.dossier_id) { save.hidden = true; confirm.hidden = cancel.hidden = false; return; }
      saveAnswer(q, S.draft, false).then(() => { renderNav(); renderQuestion(); });
    };
    cancel.onclick = () => { save.hidden = false; confirm.hidden = cancel.hidden = true; };
    confirm.onclick = () => {
      confirm.disabled = true;
      saveAnswer(q, S.draft, true).then(() => { S.draft = null; renderNav(); renderQuestion(); });
    };
    row.append(save, confirm, cancel);
    setTimeout(() => refreshActions(q), 0);
    return row;
  }
  function refreshActions(q) {
    const save = $("save");
    if (save) save.disabled = !valid(q, S.draft);
  }
  function renderSaveState() {
    const box = $("save-state");
    if (!box) return;
    const pending = S.outbox.filter((i) => i.op === "answer").length;
    box.textContent = pending
      ? `${pending} réponse(s) gardée(s) sur la tablette, en cours d'envoi`
      : S.acked.length ? "Toutes vos réponses sont enregistrées sur le serveur" : "";
    if (document.body.dataset.screen === "done" && S.unit) {
      const p = $("done-pending") || $("done-text").appendChild(el("span", { id: "done-pending" }));
      p.textContent = pending ? ` ${pending} réponse(s) encore en cours d'envoi : gardez la tablette allumée.` : " Toutes vos réponses sont enregistrées sur le serveur.";
    }
  }

  // --- the countdown to the candidate's own deadline -----------------------------------
  function tick() {
    const unit = S.unit;
    const cd = $("countdown");
    if (!unit || unit.over || !unit.deadline) { cd.textContent = ""; return; }
    const left = Math.max(0, unit.deadline - serverNow());
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = Math.floor(left % 60);
    cd.textContent = S.paused ? "En pause" : `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
    cd.classList.toggle("short", left < 300);
    cd.dataset.deadline = String(unit.deadline);
    if (left <= 0 && !S.paused && !unit.timeUp && unit.qs.length) {
      unit.timeUp = true;
      autosave();
      finishUnit("Le temps est écoulé. Vos réponses enregistrées comptent.");
    }
  }

  // --- start ----------------------------------------------------------------------
  function boot() {
    if (!window.isSecureContext || !window.crypto || !crypto.subtle || !window.indexedDB) {
      fatal("Cette page doit être ouverte en HTTPS (ou sur le serveur lui-même) : le déchiffrement des sujets et la conservation des réponses l'exigent. Prévenez le responsable technique du centre.");
      return;
    }
    $("login-form").onsubmit = login;
    $("prev").onclick = () => goTo(S.current - 1);
    $("next").onclick = () => goTo(S.current + 1);
    $("finish").onclick = () => {
      autosave();
      const left = S.unit.qs.filter((q) => !answerOf(q.id)).length;
      $("confirm-finish-text").textContent = left
        ? `Il reste ${left} question(s) sans réponse. Terminer définitivement l'épreuve ?`
        : "Terminer définitivement l'épreuve ?";
      $("confirm-finish-panel").hidden = false;
    };
    $("cancel-finish").onclick = () => { $("confirm-finish-panel").hidden = true; };
    $("confirm-finish").onclick = () => finishUnit("Vous avez terminé l'épreuve.");
    $("modal-ok").onclick = messageRead;
    window.addEventListener("online", () => { updateLink(); flush(); if (!S.ws) connect(); });
    window.addEventListener("offline", updateLink);
    if (navigator.getBattery) {
      navigator.getBattery().then((b) => {
        const read = () => { S.battery = Math.round(b.level * 100); };
        read();
        b.onlevelchange = read;
      }).catch(() => {});
    }
    setInterval(tick, 1000);
    const params = new URLSearchParams(location.search);
    if (params.get("centre")) $("login-centre").value = params.get("centre");
    const kept = sessionStorage.getItem("vigie.session");
    if (kept) {
      S.session = JSON.parse(kept);
      show("waiting");
      enter().catch((exc) => fatal(`Erreur au démarrage : ${exc}`));
    } else {
      show("login");
    }
  }
  // What the candidate's record and the connection test read back (nothing writable).
  window.vigieTablet = {
    snapshot: () => JSON.parse(JSON.stringify({
      screen: document.body.dataset.screen, candidate: S.session && S.session.candidate_id,
      unit: S.unit && S.unit.id, current: S.current, deadline: S.unit && S.unit.deadline,
      paused: S.paused, wsUp: S.wsUp, reconnects: S.reconnects, outbox: S.outbox.length,
      acked: S.acked, rejected: S.rejected, applied: [...S.applied], battery: S.battery,
      network: networkType(),
    })),
  };
  document.addEventListener("DOMContentLoaded", boot);
})();
