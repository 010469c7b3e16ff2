// The Monday connection test (docs/connection-test.md): log in with the centre's test code,
// download a package of a real unit's size and check its sha256, time ~20 websocket round
// trips at the exam's heartbeat pace, and report what was measured. Vanilla ES2020, no build.
"use strict";

const API = "/api/v1/connection-test";
const $ = (id) => document.getElementById(id);

function setStatus(state, text) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = text;
}

function show(id, text) {
  $(id).textContent = text;
}

async function call(method, path, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const resp = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  const doc = await resp.json().catch(() => null);
  if (!resp.ok) {
    const code = doc && doc.error ? doc.error.code : "http_" + resp.status;
    const err = new Error(doc && doc.error ? doc.error.message : "HTTP " + resp.status);
    err.code = code;
    throw err;
  }
  return doc;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function download(token) {
  const started = performance.now();
  const resp = await fetch(API + "/package", {
    headers: { Authorization: "Bearer " + token }, cache: "no-store",
  });
  if (!resp.ok) throw new Error("téléchargement refusé (HTTP " + resp.status + ")");
  const body = await resp.arrayBuffer();
  const ms = performance.now() - started;
  // WebCrypto exists only in a secure context (https, or the server's own machine).
  const sha256 = crypto.subtle ? hex(await crypto.subtle.digest("SHA-256", body)) : "";
  return { bytes: body.byteLength, ms, sha256, header: resp.headers.get("X-Vigie-Sha256") || "" };
}

// Probes at a fixed pace; a probe that finds the socket down counts as sent and lost, and the
// socket is reopened (each reopening is a reconnect). Echoes still missing 5 s after the last
// probe are lost.
function probe(token, count, intervalMs, onProgress) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + location.host + API + "/ws?token=" + encodeURIComponent(token);
  return new Promise((resolve) => {
    const rtts = [];
    const pending = new Map();
    let sent = 0;
    let reconnects = 0;
    let ws = null;
    let done = false;
    let timer = null;

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
      resolve({ rtts, sent, reconnects });
    };
    const open = () => {
      ws = new WebSocket(url);
      ws.onmessage = (event) => {
        let msg = null;
        try { msg = JSON.parse(event.data); } catch (e) { return; }
        if (msg.type !== "probe_echo" || !pending.has(msg.seq)) return;
        rtts.push(performance.now() - pending.get(msg.seq));
        pending.delete(msg.seq);
        onProgress(sent, rtts.length);
        if (sent >= count && pending.size === 0) finish();
      };
      ws.onclose = () => {
        pending.clear(); // what was in flight on that socket will never come back
        if (done) return;
        reconnects += 1;
        setTimeout(() => { if (!done) open(); }, Math.min(5000, 500 * reconnects));
      };
    };
    const tick = () => {
      if (sent >= count) {
        timer = setTimeout(finish, 5000);
        return;
      }
      const seq = sent;
      sent += 1;
      if (ws && ws.readyState === WebSocket.OPEN) {
        pending.set(seq, performance.now());
        ws.send(JSON.stringify({ type: "probe", seq, client_ts: Date.now() / 1000 }));
      }
      onProgress(sent, rtts.length);
      timer = setTimeout(tick, intervalMs);
    };
    open();
    ws.addEventListener("open", () => { if (sent === 0) tick(); }, { once: true });
    setTimeout(() => { if (sent === 0 && !done) tick(); }, 10000); // never opened: go on, lost
  });
}

async function browserFacts() {
  const c = navigator.connection || null;
  let battery = null;
  if (navigator.getBattery) {
    try {
      const b = await Promise.race([
        navigator.getBattery(), new Promise((_, no) => setTimeout(no, 2000)),
      ]);
      battery = Math.round(b.level * 100);
    } catch (e) { battery = null; }
  }
  return {
    user_agent: navigator.userAgent.slice(0, 512),
    network: c ? String(c.type || c.effectiveType || "").slice(0, 16) || null : null,
    battery,
  };
}

function quantile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (v) => (v === null ? "—" : Math.round(v) + " ms");

async function run(centre, testCode, tablet) {
  $("start").disabled = true;
  $("again").hidden = true;
  $("results").hidden = false;
  const bar = $("progress");
  bar.hidden = false;
  bar.value = 0;
  setStatus("running", "Connexion au serveur…");
  let login;
  try {
    login = await call("POST", "/login", null, { centre, test_code: testCode, tablet });
  } catch (err) {
    $("start").disabled = false;
    bar.hidden = true;
    const text = err.code === "bad_credentials" ? "Centre ou code de test incorrect."
      : err.code === "invalid_request" ? "Vérifiez la saisie (place : 1 à 32 caractères)."
        : "Serveur injoignable : " + err.message;
    setStatus("error", text);
    return;
  }
  setStatus("running", "Téléchargement d'un sujet de taille réelle…");
  let dl;
  try {
    dl = await download(login.token);
  } catch (err) {
    dl = { bytes: 0, ms: 0, sha256: "", header: "" };
    show("result-download", "échec : " + err.message);
  }
  if (dl.bytes) {
    const mbps = dl.ms > 0 ? (dl.bytes * 8) / 1e6 / (dl.ms / 1000) : 0;
    show("result-download", (dl.bytes / 1024).toFixed(0) + " Kio en " + (dl.ms / 1000).toFixed(2)
      + " s (" + mbps.toFixed(1) + " Mbit/s)");
  }
  const intact = dl.sha256 !== "" && dl.sha256 === dl.header && dl.sha256 === login.package_sha256;
  show("result-sha", intact ? "conforme" : crypto.subtle ? "NON CONFORME"
    : "non vérifiable (ouvrir la page en https)");
  bar.value = 20;
  setStatus("running", "Mesure de l'aller-retour avec le serveur…");
  const probes = await probe(login.token, login.probes, login.probe_interval_s * 1000,
    (sent, answered) => {
      bar.value = 20 + (70 * sent) / login.probes;
      show("result-rtt", answered + " réponses sur " + sent + " sondes…");
    });
  show("result-rtt", ms(quantile(probes.rtts, 50)) + " / " + ms(quantile(probes.rtts, 95))
    + " / " + ms(probes.rtts.length ? Math.max(...probes.rtts) : null));
  show("result-lost", String(probes.sent - probes.rtts.length) + " sur " + probes.sent);
  show("result-reconnects", String(probes.reconnects));
  const facts = await browserFacts();
  show("result-browser", [facts.network ? "réseau " + facts.network : "réseau inconnu",
    facts.battery === null ? "batterie inconnue" : "batterie " + facts.battery + " %"].join(", "));
  setStatus("running", "Envoi du rapport au jury…");
  try {
    const ack = await call("POST", "/report", login.token, {
      download_bytes: dl.bytes,
      download_ms: Math.round(dl.ms * 1000) / 1000,
      package_sha256: dl.sha256,
      rtt_ms: probes.rtts.map((v) => Math.round(v * 1000) / 1000),
      probes_sent: probes.sent,
      reconnects: probes.reconnects,
      ...facts,
      client_ts: Date.now() / 1000,
    });
    bar.value = 100;
    show("result-ready", ack.ready ? "prête pour l'épreuve" : "à revoir (voir le jury)");
    setStatus(ack.ready ? "done" : "warning", ack.ready
      ? "Rapport envoyé au jury : tablette prête."
      : "Rapport envoyé au jury : tablette à revoir.");
  } catch (err) {
    setStatus("error", "Le rapport n'a pas été enregistré : " + err.message + ". Refaites le test.");
  }
  $("start").disabled = false;
  $("again").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(location.search);
  for (const [param, id] of [["centre", "centre"], ["tablet", "tablet"]]) {
    if (params.get(param)) $(id).value = params.get(param);
  }
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run($("centre").value.trim().toUpperCase(), $("test-code").value.trim().toUpperCase(),
      $("tablet").value.trim());
  });
  $("again").addEventListener("click", () => $("login-form").requestSubmit());
});
