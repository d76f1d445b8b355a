// ppsgate console: progressive enhancement only; every page works without this file.
// Verifies an audit entry's inclusion proof in the browser (RFC 6962 / RFC 9162 with
// WebCrypto SHA-256) and the checkpoint's Ed25519 signature (C2SP signed-note), so a
// privacy officer need not trust the gateway's own "verified".
"use strict";
(function () {
  const enc = new TextEncoder();

  function b64decode(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64encode(bytes) {
    let bin = "";
    bytes.forEach(function (b) { bin += String.fromCharCode(b); });
    return btoa(bin);
  }
  function concat() {
    const parts = Array.prototype.slice.call(arguments);
    const out = new Uint8Array(parts.reduce(function (n, p) { return n + p.length; }, 0));
    let at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function same(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  const leafHash = function (entry) { return sha256(concat(new Uint8Array([0]), entry)); };
  const nodeHash = function (l, r) { return sha256(concat(new Uint8Array([1]), l, r)); };

  // RFC 9162 section 2.1.3.2: the root an audit path leads to.
  async function rootFromPath(leaf, index, size, path) {
    if (index >= size) throw new Error("leaf index outside the tree");
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) throw new Error("audit path too long");
      if ((fn & 1) === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    if (sn !== 0) throw new Error("audit path too short");
    return r;
  }

  // C2SP signed-note: text up to the blank line, then "— <name> <base64(keyid || sig)>".
  function parseNote(note) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Error("checkpoint has no signature block");
    const text = note.slice(0, split + 1);
    const lines = text.split("\n");
    const sigs = note.slice(split + 2).split("\n").filter(Boolean).map(function (line) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error("malformed signature line");
      return { name: m[1], raw: b64decode(m[2]) };
    });
    return { text: text, origin: lines[0], size: Number(lines[1]), root: b64decode(lines[2]), sigs: sigs };
  }

  async function checkSignature(note, vkey) {
    // <name>+<hex key id>+<base64(type || key)>; base64 may itself contain "+".
    const first = vkey.indexOf("+");
    const second = vkey.indexOf("+", first + 1);
    if (first < 1 || second < 0) throw new Error("malformed verifier key");
    const parts = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
    const keyId = parts[1].toLowerCase();
    const raw = b64decode(parts[2]);
    if (raw[0] !== 1 || raw.length !== 33) throw new Error("verifier key is not Ed25519");
    const sig = note.sigs.find(function (s) {
      const id = Array.from(s.raw.slice(0, 4)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
      return s.name === parts[0] && id === keyId;
    });
    if (!sig) throw new Error("checkpoint is not signed by the log key");
    const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, sig.raw.slice(4), enc.encode(note.text));
    if (!ok) throw new Error("checkpoint signature is invalid");
  }

  // The problem in the page's language: the entry page maps each English message (or the
  // start of one that carries a value, such as the root found) to its translation.
  function problemText(box, message) {
    let problems = {};
    try { problems = JSON.parse(box.dataset.problems || "{}"); } catch (e) { problems = {}; }
    if (problems[message]) return problems[message];
    const prefix = Object.keys(problems).find(function (key) { return message.startsWith(key); });
    return prefix ? problems[prefix] + message.slice(prefix.length) : message;
  }

  async function verifyProof(box) {
    const status = document.getElementById("proof-status");
    const noteEl = document.getElementById("checkpoint-note");
    const index = Number(box.dataset.index);
    const size = Number(box.dataset.size);
    try {
      if (!window.crypto || !crypto.subtle) throw new Error("WebCrypto is not available");
      const note = parseNote(noteEl.textContent);
      if (note.size !== size) throw new Error("the checkpoint is for another tree size");
      await checkSignature(note, box.dataset.vkey);
      const path = box.dataset.path ? box.dataset.path.split(" ").map(b64decode) : [];
      const leaf = await leafHash(b64decode(box.dataset.entry));
      const root = await rootFromPath(leaf, index, size, path);
      if (!same(root, note.root)) throw new Error("the audit path leads to another root (" + b64encode(root) + ")");
      status.textContent = box.dataset.ok.replace("{index}", String(index)).replace("{size}", String(size));
      status.className = "proof-status ok";
      status.dataset.verified = "true";
    } catch (err) {
      status.textContent = box.dataset.bad.replace("{problem}", problemText(box, err.message));
      status.className = "proof-status bad";
      status.dataset.verified = "false";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("proof");
    if (box) verifyProof(box);
    // Confirmation for buttons that carry data-confirm (no inline handlers under the CSP).
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  });
})();
