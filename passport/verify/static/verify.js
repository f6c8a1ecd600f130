// The verify page: checks a CCP1 passport IN THE BROWSER (WebCrypto ES256, DecompressionStream) against
// the scheme's signed trust bundle and the issuers' signed status lists, cached for offline use.
// Same rules as passport/verify/verifier.py; the token never leaves this device.
"use strict";
(() => {
  const LEEWAY = 300, MAX_TOKEN = 4096, MAX_INPUT = 2 * 4096 + 512, INFLATE_CAP = 65536, LIST_CAP = 1 << 20;
  const HEADER_MEMBERS = ["alg", "kid", "typ", "zip"];
  const LEVELS = ["observed", "supervised", "safe_unsupervised"];
  const FRAMEWORK_STANDARDS = { "2015": 15, "2025": 16 };
  const DATA_CACHE = "ccp-data-v1";
  const STATUS_MEMORY_MS = 60000;
  const main = document.getElementById("maincontent");
  const OWN_ISS = main.dataset.ownIss, OWN_NAME = main.dataset.ownName;
  const TASK_NAMES = JSON.parse(main.dataset.taskNames || "{}");
  const LEVEL_LABELS = JSON.parse(main.dataset.levelLabels || "{}");
  // The plain words for every result (passport/verify/wording.py, served in the page so they work offline).
  const WORDING = JSON.parse(main.dataset.wording || "{}");
  // Status data older than this (seconds) is not relied on: VERIFY_STATUS_MAX_AGE_HOURS.
  const STATUS_MAX_AGE = Number(main.dataset.statusMaxAge) > 0 ? Number(main.dataset.statusMaxAge) : 24 * 3600;
  const TASK_CODES = JSON.parse(main.dataset.taskCodes || "[]");
  const SUBJECT_NAMES = JSON.parse(main.dataset.subjectNames || "{}");
  const enc = new TextEncoder();

  // A refused token: ``code`` is the reason code (plain words in WORDING.reasons), the message the technical detail.
  class Refused extends Error { constructor(code, detail) { super(detail); this.code = code; } }

  // --- encoding helpers ---------------------------------------------------------------------------
  function b64uEncode(bytes) {
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function b64uDecode(text, what) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      throw new Refused("damaged_encoding", `The ${what} is damaged (not valid base64url).`);
    }
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (b64uEncode(bytes) !== text) throw new Refused("damaged_encoding", `The ${what} is damaged (not valid base64url).`);
    return bytes;
  }
  function utf8(bytes, what) {
    try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes); }
    catch (e) { throw new Refused("damaged_json", `The ${what} is damaged (not UTF-8).`); }
  }
  function parseJSON(text, what) {
    try { return JSON.parse(text); } catch (e) { throw new Refused("damaged_json", `The ${what} is damaged (not valid JSON).`); }
  }
  async function readCapped(stream, cap, tooBig) {
    const reader = stream.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) { reader.cancel().catch(() => {}); throw new Refused("data_too_large", tooBig); }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }
  async function decompress(bytes, format, cap, tooBig, damaged) {
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    writer.write(bytes).catch(() => {});
    writer.close().catch(() => {});
    try { return await readCapped(ds.readable, cap, tooBig); }
    catch (e) { if (e instanceof Refused) throw e; throw new Refused("damaged_data", damaged); }
  }
  const isInt = (v) => typeof v === "number" && Number.isInteger(v);

  // --- input --------------------------------------------------------------------------------------
  function extractToken(text) {
    if (typeof text !== "string") throw new Refused("nothing_to_check", "Nothing to check.");
    if (text.length > MAX_INPUT) throw new Refused("input_too_long", "The text is far too long to be a passport.");
    text = text.trim();
    const link = text;
    if (text.includes("#")) text = text.slice(text.indexOf("#") + 1);
    else if (text.toLowerCase().startsWith("ccp:/")) text = text.slice(5);
    if (/^[0-9]+$/.test(text)) {
      if (text.length % 2) throw new Refused("numeric_odd_length", "The numeric code has an odd number of digits.");
      let out = "";
      for (let i = 0; i < text.length; i += 2) {
        const n = parseInt(text.slice(i, i + 2), 10);
        if (n > 77) throw new Refused("numeric_out_of_range", "The numeric code contains a value out of range.");
        out += String.fromCharCode(n + 45);
      }
      text = out;
    }
    if (/^p[0-9]+$/.test(text)) return packedToJws(text.slice(1), link);
    if (!text) throw new Refused("nothing_to_check", "Nothing to check.");
    if (text.length > MAX_TOKEN) throw new Refused("token_too_long", "The token is longer than any passport (over 4 KB).");
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) {
      throw new Refused("not_a_passport_code", "This is not a passport code (it should be three base64url parts joined by dots).");
    }
    return text;
  }

  // --- the packed QR form of version-2 passports (passport/certificates/wire.py, docs/token-format.md) ----
  const PACK_DIGITS = { 3: 1, 5: 2, 8: 3, 10: 4, 13: 5, 15: 6, 17: 7 };
  const damagedCode = (why) => new Refused("damaged_data", `The passport code is damaged (${why}).`);
  function digitsToBytes(d) {
    if (d.length % 17 && !own(PACK_DIGITS, d.length % 17)) throw damagedCode("wrong number of digits");
    const out = [];
    for (let i = 0; i < d.length; i += 17) {
      const part = d.slice(i, i + 17), k = PACK_DIGITS[part.length];
      let n = BigInt(part);
      if (n >= (BigInt(1) << BigInt(8 * k))) throw damagedCode("a value is out of range");
      const chunk = [];
      for (let j = 0; j < k; j++) { chunk.unshift(Number(n & BigInt(255))); n >>= BigInt(8); }
      out.push(...chunk);
    }
    return new Uint8Array(out);
  }
  function packedToJws(digits, link) {
    const data = digitsToBytes(digits);
    let pos = 0;
    const take = (n) => {
      if (pos + n > data.length) throw damagedCode("truncated");
      pos += n;
      return data.slice(pos - n, pos);
    };
    const u = (n) => { let v = 0; for (const b of take(n)) v = v * 256 + b; return v; };
    const text = () => utf8(take(u(1)), "passport code");
    if (u(1) !== 2) throw damagedCode("unknown version");
    const kid = b64uEncode(take(32)), sig = take(64), jti = b64uEncode(take(12));
    const iat = u(4), exp = u(4), listId = u(2), index = u(3), flags = u(1);
    if (flags & ~63) throw damagedCode("unknown parts");
    const base = link.includes("#") ? link.slice(0, link.indexOf("#")) : "";
    let iss;
    if (flags & 32) iss = text();
    else if (base.endsWith("/v")) iss = base.slice(0, -2);
    else throw new Refused("damaged_data", "This passport code needs the whole link it was printed with: scan the QR code instead.");
    const c = { iss, jti, iat, exp, v: 2, n: { g: text(), f: text() } };
    if (flags & 1) {
      const fw = u(1);
      if (fw > 1) throw damagedCode("unknown Care Certificate framework");
      c.cc = { fw: ["2015", "2025"][fw], s: u(2) };
      if (flags & 2) c.cc.d = u(2);
    }
    if (flags & 4) { c.dt = []; for (let i = u(1); i > 0; i--) { const ref = u(1); c.dt.push([ref || text(), u(1), u(2)]); } }
    if (flags & 8) {
      c.ms = [];
      for (let i = u(1); i > 0; i--) { const code = u(1), done = u(2), ex = u(2); c.ms.push(ex ? [code, done, ex] : [code, done]); }
    }
    if (flags & 16) {
      const ao = text(), qn = String(u(4)).padStart(8, "0");
      c.q = [ao, `${qn.slice(0, 3)}/${qn.slice(3, 7)}/${qn.slice(7)}`, u(2)];
    }
    c.st = [listId, index];
    if (pos !== data.length) throw damagedCode("trailing data");
    const header = JSON.stringify({ alg: "ES256", kid, typ: "ccp+jwt" });
    return `${b64uEncode(enc.encode(header))}.${b64uEncode(enc.encode(JSON.stringify(c)))}.${b64uEncode(sig)}`;
  }
  const isDay = (v) => isInt(v) && v >= 0 && v < 65536;
  const fromDay = (n) => new Date(n * 86400000).toISOString().slice(0, 10);
  function checkV2(c) {
    const bad = (what) => new Refused("malformed_claims", `The passport's ${what} is malformed.`);
    if (!c.n || typeof c.n !== "object" || Array.isArray(c.n) || Object.keys(c.n).sort().join() !== "f,g") throw new Refused("malformed_claims", "The passport has no holder name.");
    str(c.n.g, "given name", 100, false);
    str(c.n.f, "family name", 100);
    if (c.cc !== undefined) {
      const total = c.cc && own(FRAMEWORK_STANDARDS, c.cc.fw) ? FRAMEWORK_STANDARDS[c.cc.fw] : 0;
      if (!total) throw new Refused("malformed_claims", "The passport's Care Certificate framework is not 2015 or 2025.");
      if (!isInt(c.cc.s) || c.cc.s < 0 || c.cc.s >= 2 ** total) throw bad("list of standards met");
      if (c.cc.d !== undefined && !isDay(c.cc.d)) throw bad("award date");
    }
    const dt = c.dt === undefined ? [] : c.dt;
    if (!Array.isArray(dt) || dt.length > 16) throw bad("competencies list");
    for (const t of dt) {
      if (!Array.isArray(t) || t.length !== 3 || !((isInt(t[0]) && t[0] >= 1 && t[0] <= 255) || (typeof t[0] === "string" && t[0].length > 0 && t[0].length <= 60))
          || ![0, 1, 2].includes(t[1]) || !isDay(t[2])) throw bad("competency");
    }
    const ms = c.ms === undefined ? [] : c.ms;
    if (!Array.isArray(ms) || ms.length > 40) throw bad("training subjects list");
    for (const m of ms) {
      if (!Array.isArray(m) || (m.length !== 2 && m.length !== 3) || !isInt(m[0]) || m[0] < 1 || m[0] > 255 || !isDay(m[1])
          || (m.length === 3 && (!isDay(m[2]) || m[2] < m[1]))) throw bad("training subject");
    }
    if (c.q !== undefined) {
      if (!Array.isArray(c.q) || c.q.length !== 3 || typeof c.q[1] !== "string" || !/^\d{3}\/\d{4}\/\d$/.test(c.q[1]) || !isDay(c.q[2])) throw bad("qualification");
      str(c.q[0], "awarding organisation", 100);
    }
    const st = c.st;
    if (!Array.isArray(st) || st.length !== 2 || !st.every((x) => isInt(x) && x >= 0 && x < 2 ** 31)) {
      throw new Refused("malformed_claims", "The passport's status pointer is missing or malformed.");
    }
    return c;
  }
  function trainingFacts(c, today) {
    const long = (iso) => formatDate(iso);
    const subjects = (c.ms || []).map((m) => {
      const expires = m.length > 2 ? fromDay(m[2]) : null, inDate = expires === null || expires >= today;
      return { code: m[0], name: own(SUBJECT_NAMES, String(m[0])) ? SUBJECT_NAMES[String(m[0])] : `Training category ${m[0]}`,
        completed_on: fromDay(m[1]), completed_text: long(fromDay(m[1])), expires_on: expires, in_date: inDate,
        wording: expires === null ? "In date, no refresher due" : inDate ? `In date until ${long(expires)}` : `Expired on ${long(expires)}` };
    });
    const q = c.q ? { title: "Level 2 Adult Social Care Certificate", awarding_organisation: c.q[0], qualification_number: c.q[1],
      achieved_on: fromDay(c.q[2]), wording: `Achieved ${long(fromDay(c.q[2]))}; a qualification does not expire` } : null;
    return [subjects, q];
  }

  function str(v, name, max, required = true) {
    if (v === undefined || v === null) { if (!required) return ""; }
    if (typeof v !== "string" || v.length > max || (required && !v.trim())) {
      throw new Refused("malformed_claims", `The passport's '${name}' is missing or malformed.`);
    }
    return v.normalize("NFC");
  }
  function isoDate(v, name) {
    if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Refused("malformed_claims", `The passport's '${name}' is not a date.`);
    const d = new Date(v + "T00:00:00Z");
    if (isNaN(d) || d.toISOString().slice(0, 10) !== v) throw new Refused("malformed_claims", `The passport's '${name}' is not a real date.`);
    return v;
  }
  function checkClaims(c) {
    if (!c || typeof c !== "object" || Array.isArray(c)) throw new Refused("malformed_claims", "The passport data is not a JSON object.");
    str(c.iss, "iss", 255);
    if (typeof c.jti !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(c.jti)) throw new Refused("malformed_claims", "The passport's identifier is missing or malformed.");
    for (const k of ["iat", "exp"]) {
      if (!isInt(c[k]) || c[k] < 0 || c[k] >= 2 ** 41) throw new Refused("malformed_claims", `The passport's '${k}' is missing or not a time.`);
    }
    if (c.exp <= c.iat) throw new Refused("malformed_claims", "The passport expires before it was issued.");
    if (c.v !== 1 && c.v !== 2) throw new Refused("unknown_version", "This passport uses a format version this verifier does not know.");
    if (c.v === 2) return checkV2(c);
    if (!c.n || typeof c.n !== "object" || Array.isArray(c.n)) throw new Refused("malformed_claims", "The passport has no holder name.");
    str(c.n.g, "given name", 100, false);
    str(c.n.f, "family name", 100);
    if (c.cc !== undefined && c.cc !== null) {
      const total = FRAMEWORK_STANDARDS[c.cc && c.cc.fw];
      if (typeof c.cc !== "object" || !total || !Object.prototype.hasOwnProperty.call(FRAMEWORK_STANDARDS, c.cc.fw)) {
        throw new Refused("malformed_claims", "The passport's Care Certificate framework is not 2015 or 2025.");
      }
      if (!isInt(c.cc.s) || c.cc.s < 0 || c.cc.s >= 2 ** total) throw new Refused("malformed_claims", "The passport's list of standards met is malformed.");
      if (c.cc.d !== undefined && c.cc.d !== null) isoDate(c.cc.d, "award date");
    }
    const dt = c.dt === undefined ? [] : c.dt;
    if (!Array.isArray(dt) || dt.length > 16) throw new Refused("malformed_claims", "The passport's competencies are malformed.");
    for (const item of dt) {
      if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== "string" || !item[0].length || item[0].length > 60 || !LEVELS.includes(item[1])) {
        throw new Refused("malformed_claims", "A competency on the passport is malformed.");
      }
      isoDate(item[2], "competency valid-until date");
    }
    const st = c.st;
    if (!Array.isArray(st) || st.length !== 2 || !st.every((x) => isInt(x) && x >= 0 && x < 2 ** 31)) {
      throw new Refused("malformed_claims", "The passport's status pointer is missing or malformed.");
    }
    return c;
  }

  async function decode(token) {
    const [h, p, s] = token.split(".");
    if (h.length > 512) throw new Refused("header_too_long", "The token header is too long.");
    const header = parseJSON(utf8(b64uDecode(h, "token header"), "token header"), "token header");
    if (!header || typeof header !== "object" || Array.isArray(header)) throw new Refused("header_not_object", "The token header is not a JSON object.");
    const extra = Object.keys(header).filter((k) => !HEADER_MEMBERS.includes(k)).sort();
    if (extra.length) throw new Refused("header_extra_members", `The token header carries ${extra.join(", ")}, which passports never use.`);
    if (header.alg !== "ES256") throw new Refused("wrong_algorithm", `The token uses the algorithm '${String(header.alg).slice(0, 20)}'; only ES256 is accepted.`);
    if (header.typ !== "ccp+jwt") throw new Refused("wrong_type", "The token is not a care passport (wrong 'typ').");
    const zipped = own(header, "zip");
    if (zipped && header.zip !== "DEF") throw new Refused("not_compressed", "The token is not compressed as passports are.");
    if (typeof header.kid !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(header.kid)) throw new Refused("bad_key_id", "The token's key identifier is malformed.");
    const body = b64uDecode(p, "passport data");
    const raw = !zipped ? body : await decompress(body, "deflate-raw", INFLATE_CAP,
      "The passport data decompresses to more than 64 KB.", "The passport data is damaged (it does not decompress).");
    const claims = checkClaims(parseJSON(utf8(raw, "passport data"), "passport data"));
    if (zipped !== (claims.v === 1)) throw new Refused("not_compressed", "The token is not compressed as passports of its version are.");
    const sig = b64uDecode(s, "signature");
    if (sig.length !== 64) throw new Refused("bad_signature_length", "The signature has the wrong length (it must be a raw 64-byte ES256 signature).");
    return { header, claims, signingInput: enc.encode(`${h}.${p}`), sig };
  }

  // --- keys and trust data ------------------------------------------------------------------------
  const keyCache = new Map();
  async function importKey(jwk) {
    const id = `${jwk.kid}|${jwk.x}|${jwk.y}`;
    if (!keyCache.has(id)) {
      keyCache.set(id, crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]));
    }
    return keyCache.get(id);
  }
  async function es256(jwk, data, sig) {
    try { return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await importKey(jwk), sig, data); }
    catch (e) { return false; }
  }
  const own = (obj, k) => Object.prototype.hasOwnProperty.call(obj, k);
  function keysOf(list) {
    const keys = Object.create(null);
    for (const k of Array.isArray(list) ? list : []) {
      if (k && k.kty === "EC" && k.crv === "P-256" && typeof k.kid === "string" && !("d" in k)) keys[k.kid] = k;
    }
    return keys;
  }
  async function verifyCompact(jws, keys, typ) {
    const parts = String(jws).trim().split(".");
    if (parts.length !== 3) throw new Refused("damaged_data", "not a JWS");
    const header = parseJSON(utf8(b64uDecode(parts[0], "header"), "header"), "header");
    const names = Object.keys(header || {}).sort().join(",");
    if (names !== "alg,kid,typ" || header.alg !== "ES256" || header.typ !== typ) throw new Refused("damaged_data", "unexpected header");
    const key = keys[header.kid];
    if (!key || key.status === "compromised") throw new Refused("unknown_key", "unknown or compromised key");
    const ok = await es256(key, enc.encode(`${parts[0]}.${parts[1]}`), b64uDecode(parts[2], "signature"));
    if (!ok) throw new Refused("bad_signature", "bad signature");
    return b64uDecode(parts[1], "payload");
  }

  async function cachedFetch(url, asText) {
    // Network first (fresh data when online), then this device's cache (offline or server down).
    let cache = null;
    try { cache = await caches.open(DATA_CACHE); } catch (e) { cache = null; }
    try {
      const resp = await fetch(url, { cache: "no-cache", credentials: "omit" });
      if (resp.ok) {
        if (cache) await cache.put(url, resp.clone()).catch(() => {});
        return { body: asText ? await resp.text() : await resp.json(), fromCache: false };
      }
      if (resp.status === 404) return null;
    } catch (e) { /* offline: fall back to the cache */ }
    const hit = cache ? await cache.match(url) : null;
    if (!hit) return null;
    return { body: asText ? await hit.text() : await hit.json(), fromCache: true };
  }

  let trustPromise = null;
  function loadTrust() {
    if (!trustPromise) trustPromise = buildTrust();
    return trustPromise;
  }
  async function buildTrust() {
    const [keyDoc, bundle, jwks] = await Promise.all([
      cachedFetch("/.well-known/ccp-trust-key.json", false).catch(() => null),
      cachedFetch("/.well-known/ccp-trust-bundle.jwt", true).catch(() => null),
      cachedFetch("/.well-known/jwks.json", false).catch(() => null),
    ]);
    const trust = { issuers: Object.create(null), endorsers: [], scheme: "", asOf: null, expires: null, offline: false };
    if (bundle && keyDoc) {
      try {
        const pinned = keysOf([keyDoc.body, ...(keyDoc.body.previous || [])]);
        const payload = parseJSON(utf8(await verifyCompact(bundle.body, pinned, "ccp-trust+jwt"), "bundle"), "bundle");
        const scheme = payload.scheme || {};
        trust.endorsers = Array.isArray(scheme.endorsers) ? scheme.endorsers.filter((e) => typeof e === "string") : [];
        const version = payload.v === undefined ? 1 : payload.v;
        for (const entry of Array.isArray(payload.issuers) ? payload.issuers : []) {
          if (!entry || typeof entry.iss !== "string") continue;
          // Endorsers belong to the issuer they are listed under (format 2). A format 1 bundle only had the
          // scheme's own partners, which endorse the bundle's own issuer and no other.
          const endorsers = version === 1 ? (entry.iss === payload.iss ? trust.endorsers.slice() : [])
            : (Array.isArray(entry.endorsers) ? entry.endorsers : [])
              .map((e) => (e && typeof e.name === "string" ? e.name.trim() : "")).filter(Boolean);
          trust.issuers[entry.iss] = { iss: entry.iss, name: String(entry.name || entry.iss), keys: keysOf(entry.keys),
            own: entry.iss === OWN_ISS, asOf: payload.iat, endorsers };
        }
        trust.scheme = String(scheme.name || "");
        trust.asOf = isInt(payload.iat) ? payload.iat : null;
        trust.expires = isInt(payload.exp) ? payload.exp : null;
        trust.offline = bundle.fromCache;
      } catch (e) { /* a bad bundle is ignored: we fall back to this site's own keys */ }
    }
    if (jwks && jwks.body) {  // this site's own keys, same origin: always trusted, freshest copy wins
      const mine = trust.issuers[OWN_ISS] || { iss: OWN_ISS, name: OWN_NAME, keys: Object.create(null), own: true, asOf: null,
        endorsers: [] };
      mine.keys = Object.assign(Object.create(null), mine.keys, keysOf(jwks.body.keys));
      trust.issuers[OWN_ISS] = mine;
      if (trust.asOf === null) trust.offline = jwks.fromCache;
    }
    return trust;
  }

  const statusMemory = new Map();
  async function statusList(issuer, listId, purpose) {
    const url = `${main.dataset.statusUrl}?iss=${encodeURIComponent(issuer.iss)}&list=${listId}&purpose=${purpose}`;
    const mem = statusMemory.get(url);
    if (mem && Date.now() - mem.at < STATUS_MEMORY_MS) return mem.snap;
    const got = await cachedFetch(url, true).catch(() => null);
    if (!got) return null;
    try {
      const payload = parseJSON(utf8(await verifyCompact(got.body, issuer.keys, "statuslist+jwt"), "status list"), "status list");
      const subject = payload.credentialSubject || {};
      if (payload.iss !== issuer.iss || subject.statusPurpose !== purpose || !String(payload.id || "").endsWith(`/${listId}/${purpose}`)) return null;
      if (!isInt(payload.iat) || !isInt(payload.exp) || typeof subject.encodedList !== "string" || subject.encodedList[0] !== "u") return null;
      const bits = await decompress(b64uDecode(subject.encodedList.slice(1), "status list"), "gzip", LIST_CAP,
        "status list too large", "status list damaged");
      if (bits.length * 8 < 131072) return null;
      const snap = { bits, iat: payload.iat, exp: payload.exp, fromCache: got.fromCache };
      statusMemory.set(url, { at: Date.now(), snap });
      return snap;
    } catch (e) { return null; }
  }
  const bitAt = (bits, i) => (i >= 0 && i < bits.length * 8 ? Boolean(bits[i >> 3] & (0x80 >> (i & 7))) : null);

  // --- the verifier -------------------------------------------------------------------------------
  const iso = (ts) => (ts === null || ts === undefined ? null : new Date(ts * 1000).toISOString().replace(".000Z", "Z"));

  function facts(c) {
    if (c.v === 2) {
      c = Object.assign({}, c, { dt: (c.dt || []).map(([t, lv, u]) => [isInt(t) && t >= 1 && t <= TASK_CODES.length ? TASK_CODES[t - 1] : String(t), LEVELS[lv], fromDay(u)]) });
      if (c.cc && c.cc.d !== undefined) c.cc = Object.assign({}, c.cc, { d: fromDay(c.cc.d) });
    }
    const n = c.n;
    const out = { id: c.jti, holder: { given_name: n.g || "", family_name: n.f, name: [n.g, n.f].filter(Boolean).join(" ") },
      issued_at: iso(c.iat), expires_at: iso(c.exp), care_certificate: null, competencies: [] };
    if (c.cc) {
      const total = FRAMEWORK_STANDARDS[c.cc.fw];
      const met = [];
      for (let i = 0; i < total; i++) if (Math.floor(c.cc.s / 2 ** i) % 2 === 1) met.push(i + 1);
      out.care_certificate = { framework: c.cc.fw, standards_met: met, standards_total: total,
        complete: met.length === total, awarded_on: c.cc.d || null };
    }
    for (const [code, level, until] of c.dt || []) {
      out.competencies.push({ task: code, name: own(TASK_NAMES, code) ? String(TASK_NAMES[code]) : code.replace(/_/g, " "), level, valid_until: until });
    }
    [out.mandatory_training, out.qualification] = trainingFacts(c.v === 2 ? c : {}, new Date().toISOString().slice(0, 10));
    return out;
  }

  function said(result, code, detail, params) {
    const template = own(WORDING.reasons || {}, code) ? WORDING.reasons[code] : (WORDING.reasons || {}).damaged_data || "";
    let reason = String(template);
    for (const [k, v] of Object.entries(params || {})) reason = reason.split(`{${k}}`).join(v);
    return { result, reason_code: code, reason, reason_detail: detail || "" };
  }

  async function verifyText(text) {
    const now = Math.floor(Date.now() / 1000);
    const trust = await loadTrust();
    const trustInfo = (issuer) => {
      const asOf = trust.asOf !== null ? trust.asOf : null;
      return { source: trust.asOf !== null ? "bundle" : "site keys", as_of: iso(asOf),
        age_seconds: asOf === null ? null : Math.max(0, now - asOf), stale: trust.expires !== null && now > trust.expires };
    };
    const base = { checked_at: iso(now), passport: null, issuer: null,
      status: { checked: false, as_of: null, stale: false }, trust: trustInfo(null) };
    let d;
    try { d = await decode(extractToken(text)); }
    catch (e) {
      if (e instanceof Refused) return Object.assign(base, said("invalid", e.code, e.message));
      throw e;
    }
    const { header, claims } = d;
    const issuer = trust.issuers[claims.iss];
    if (!issuer) {
      return Object.assign(base, { issuer: { iss: claims.iss, name: null, trusted: false } },
        said("untrusted_issuer", "untrusted_issuer", `${String(claims.iss).slice(0, 100)} is not in this page's trust data.`));
    }
    // Endorsers: the ones our trust data records for THIS issuer (never the token, never another issuer's).
    const issuerJson = { iss: issuer.iss, name: issuer.name, trusted: true, endorsers: (issuer.endorsers || []).slice(),
      scheme: issuer.own ? trust.scheme : issuer.name, key_id: header.kid };
    const key = issuer.keys[header.kid];
    if (!key) return Object.assign(base, { issuer: issuerJson }, said("invalid", "unknown_key",
      "The passport is signed with a key its issuer has not published (forged, or this page's trust data is out of date)."));
    if (key.status === "compromised") return Object.assign(base, { issuer: issuerJson }, said("invalid", "compromised_key",
      "The passport is signed with a key its issuer reported as compromised."));
    if (!(await es256(key, d.signingInput, d.sig))) return Object.assign(base, { issuer: issuerJson }, said("invalid",
      "bad_signature", "The signature does not match: the passport has been altered or forged."));
    if ((isInt(key.nbf) && claims.iat < key.nbf - LEEWAY) || (isInt(key.exp) && claims.iat > key.exp + LEEWAY)) {
      return Object.assign(base, { issuer: issuerJson }, said("invalid", "outside_key_window",
        "The passport claims an issue date outside the period its signing key was in use."));
    }
    if (claims.iat > now + LEEWAY) return Object.assign(base, { issuer: issuerJson }, said("invalid", "issued_in_future",
      "The passport says it was issued in the future."));
    const passport = Object.assign(facts(claims), { competencies_withheld: false });
    const out = Object.assign(base, { issuer: issuerJson, passport });
    const found = {};
    const snaps = [];
    await Promise.all(["revocation", "suspension", "refresh"].map(async (purpose) => {
      const snap = await statusList(issuer, claims.st[0], purpose);
      if (snap) { snaps.push(snap); found[purpose] = bitAt(snap.bits, claims.st[1]); } else found[purpose] = null;
    }));
    const asOf = snaps.length ? Math.min(...snaps.map((s) => s.iat)) : null;
    const ageSeconds = asOf === null ? null : Math.max(0, now - asOf);
    // Not relied on when past its own lifetime or older than the refresh period (VERIFY_STATUS_MAX_AGE_HOURS).
    const stale = snaps.some((s) => s.exp < now) || (ageSeconds !== null && ageSeconds > STATUS_MAX_AGE);
    out.status = { checked: snaps.length === 3 && !Object.values(found).includes(null) && !stale, as_of: iso(asOf),
      age_seconds: ageSeconds, stale, max_age_seconds: STATUS_MAX_AGE };
    let answer;
    if (found.revocation) answer = said("revoked", "revoked", "The issuer's revocation list has this passport's bit set.");
    else if (found.suspension) answer = said("suspended", "suspended", "The issuer's suspension list has this passport's bit set.");
    else if (claims.exp < now - LEEWAY) answer = said("expired", "expired", `exp ${iso(claims.exp)} is past.`,
      { expired_on: formatDate(iso(claims.exp)) });
    else if (found.refresh) answer = said("superseded", "superseded", "The issuer's refresh list has this passport's bit set.");
    else if (!out.status.checked) {
      if (asOf === null) answer = said("valid_status_unknown", "status_unavailable", "No status data on this device.");
      else if (stale) answer = said("valid_status_unknown", "status_stale", `Status data from ${iso(asOf)} is out of date.`,
        { age: age(ageSeconds), as_of: whenWords(asOf, now) });
      else answer = said("valid_status_unknown", "status_unavailable", "Some status lists could not be read.");
    } else {
      answer = said("valid", "valid", "Signature, issuer, dates and all three status lists checked.",
        { as_of: whenWords(asOf, now) });
    }
    if ((WORDING.not_current || []).includes(answer.result) && passport.competencies.length) {
      passport.competencies = [];
      passport.competencies_withheld = true;
    }
    return Object.assign(out, answer);
  }

  // --- rendering ----------------------------------------------------------------------------------
  const STATES = WORDING.states || {};
  const INVALID_VIEW = { colour: "red", icon: "✗", title: "Not valid: damaged or forged" };
  const dateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "Europe/London" });
  const dateTimeFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Europe/London" });
  function formatDate(isoDate) { return isoDate ? dateFmt.format(new Date(isoDate.length === 10 ? isoDate + "T12:00:00Z" : isoDate)) : ""; }
  function formatDateTime(ts) { return dateTimeFmt.format(new Date(ts * 1000)); }
  // Same words as passport/verify/wording.py: age_words and when_words.
  function age(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return "less than a minute";
    if (seconds < 5400) { const n = Math.max(1, Math.round(seconds / 60)); return `${n} minute${n !== 1 ? "s" : ""}`; }
    if (seconds < 172800) { const n = Math.round(seconds / 3600); return `${n} hour${n !== 1 ? "s" : ""}`; }
    return `${Math.round(seconds / 86400)} days`;
  }
  const ukDay = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "Europe/London" });
  const ukClock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Europe/London" });
  function whenWords(ts, now) {
    const day = ukDay.format(new Date(ts * 1000)), today = ukDay.format(new Date(now * 1000));
    const yesterday = new Date(Date.parse(today + "T12:00:00Z") - 86400000).toISOString().slice(0, 10);
    const clock = ukClock.format(new Date(ts * 1000));
    if (day === today) return `${clock} today`;
    if (day === yesterday) return `${clock} yesterday`;
    return `${clock} on ${formatDate(day)}`;
  }
  const $ = (id) => document.getElementById(id);
  function setText(id, text) { $(id).textContent = text || ""; }

  // Mandatory training and the qualification (version-2 passports), in their own section of the page.
  function renderTraining(p) {
    const rows = p.mandatory_training || [];
    const tbody = $("training");
    tbody.textContent = "";
    for (const m of rows) {
      const tr = document.createElement("tr");
      for (const text of [m.name, formatDate(m.completed_on)]) {
        const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
      }
      const td = document.createElement("td");
      const tag = document.createElement("span");
      tag.className = `vp-tag vp-tag--${m.in_date ? "green" : "red"}`;
      tag.textContent = m.in_date ? "In date" : "Expired";
      td.append(tag, " ", m.expires_on ? (m.in_date ? `until ${formatDate(m.expires_on)}` : `on ${formatDate(m.expires_on)}`) : "no refresher due");
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    $("training-block").hidden = !rows.length;
    const q = p.qualification;
    $("qualification-block").hidden = !q;
    setText("qualification", q ? `${q.title}: ${q.awarding_organisation}, qualification number ${q.qualification_number}, achieved ${formatDate(q.achieved_on)}.` : "");
  }

  function render(r, where) {
    const view = own(STATES, r.result) ? STATES[r.result] : INVALID_VIEW;
    const colour = view.colour, icon = view.icon, title = view.title;
    const box = $("result");
    box.className = `vp-result vp-result--${colour}`;
    box.dataset.verificationResult = r.result;
    box.dataset.reasonCode = r.reason_code || "";
    setText("result-icon", icon);
    setText("result-title", title);
    setText("result-reason", r.reason);
    const p = r.passport;
    $("result-details").hidden = !p;
    if (p) {
      setText("holder-name", p.holder.name);
      const cc = p.care_certificate;
      if (cc) {
        setText("cc-summary", cc.complete
          ? `Care Certificate (${cc.framework} standards) complete${cc.awarded_on ? ", awarded " + formatDate(cc.awarded_on) : ""}.`
          : `Care Certificate (${cc.framework} standards): ${cc.standards_met.length} of ${cc.standards_total} standards met.`);
        setText("cc-standards", cc.complete ? "" : `Standards met: ${cc.standards_met.join(", ") || "none"}.`);
      } else {
        setText("cc-summary", "No Care Certificate standards are stated.");
        setText("cc-standards", "");
      }
      const tbody = $("competencies");
      tbody.textContent = "";
      const today = new Date().toISOString().slice(0, 10);
      for (const c of p.competencies) {
        const tr = document.createElement("tr");
        for (const text of [c.name, own(LEVEL_LABELS, c.level) ? LEVEL_LABELS[c.level] : c.level]) {
          const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
        }
        const td = document.createElement("td");
        td.textContent = formatDate(c.valid_until);
        if (c.valid_until < today) {
          const tag = document.createElement("span"); tag.className = "vp-tag vp-tag--red"; tag.textContent = "Out of date";
          td.append(" ", tag);
        }
        tr.appendChild(td);
        tbody.appendChild(tr);
      }
      $("competencies-block").hidden = !p.competencies.length;
      $("tasks-withheld").hidden = !p.competencies_withheld;
      setText("tasks-withheld", p.competencies_withheld ? WORDING.tasks_withheld : "");
      setText("what-certified", (WORDING.not_current || []).includes(r.result)
        ? "What the passport stated (not current)" : "What is certified");
      renderTraining(p);
      setText("issued-at", formatDate(p.issued_at));
      setText("expires-at", formatDate(p.expires_at));
      setText("passport-id", p.id);
    }
    $("issuer-block").hidden = !(r.issuer && r.issuer.trusted);
    if (r.issuer && r.issuer.trusted) {
      setText("issuer-name", `${r.issuer.name} (${r.issuer.iss})`);
      setText("endorsers", r.issuer.endorsers && r.issuer.endorsers.length
        ? `Endorsed by ${r.issuer.endorsers.join(", ")}${r.issuer.scheme && r.issuer.scheme !== r.issuer.name ? " in the " + r.issuer.scheme : ""}.`
        : "No endorsing organisations are recorded for this issuer.");
    }
    const parts = [];
    if (r.status && r.status.as_of) {
      parts.push(`Information about withdrawn passports from ${formatDateTime(Date.parse(r.status.as_of) / 1000)}` +
        ` (${age(r.status.age_seconds)} old${r.status.stale ? ", too old to rely on" : ""}).`);
    } else if (p) parts.push("Whether the passport has been withdrawn could not be checked.");
    if (r.trust && r.trust.as_of) parts.push(`Trust data from ${formatDateTime(Date.parse(r.trust.as_of) / 1000)} (${age(r.trust.age_seconds)} old${r.trust.stale ? ", out of date" : ""}).`);
    parts.push(`Checked ${formatDateTime(Date.parse(r.checked_at) / 1000)} by this device's clock.`);
    setText("data-age", parts.join(" "));
    setText("where-checked", where === "server"
      ? "The photo was sent to the passport service to read the QR code, so this check was made and logged by the service."
      : "Checked on this device: the passport was not sent anywhere and no record of this check was kept.");
    $("checking").hidden = true;
    box.hidden = false;
    box.focus();
  }

  async function check(text, where) {
    // Never leave the previous passport's answer on screen while a new one is being checked.
    $("result").hidden = true;
    $("result").dataset.verificationResult = "";
    $("checking").hidden = false;
    const started = performance.now();
    let result;
    try { result = await verifyText(text); }
    catch (e) { result = Object.assign({ passport: null, issuer: null, checked_at: iso(Math.floor(Date.now() / 1000)),
      status: {}, trust: {} }, said("invalid", "unreadable", String(e && e.message || e))); }
    const ms = performance.now() - started;
    render(result, where);
    $("result").dataset.verifyMs = ms.toFixed(2);
    return result;
  }

  async function showTrustAge() {
    const t = await loadTrust();
    const now = Date.now() / 1000;
    if (t.asOf !== null) {
      setText("trust-age", `This page trusts passports from ${Object.values(t.issuers).map((i) => i.name).join(", ")}. ` +
        `Its trust data is from ${formatDateTime(t.asOf)} (${age(now - t.asOf)} old)${t.expires !== null && now > t.expires ? " and is out of date" : ""}.`);
    } else {
      setText("trust-age", Object.keys(t.issuers).length ? `This page trusts passports from ${OWN_NAME}.` : "No trust data is available on this device yet.");
    }
    setText("network-state", navigator.onLine ? "" : "You are offline: results use the information saved on this device.");
  }

  async function checkPhoto(file) {
    const err = $("photo-error");
    err.hidden = true;
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const codes = await new window.BarcodeDetector({ formats: ["qr_code"] }).detect(await createImageBitmap(file));
          if (codes.length) return check(codes[0].rawValue, "device");
        }
      } catch (e) { /* fall back to the server */ }
    }
    $("checking").hidden = false;
    try {
      const resp = await fetch(main.dataset.api, { method: "POST", body: file, credentials: "omit",
        headers: { "Content-Type": file.type && file.type.startsWith("image/") ? file.type : "image/png" } });
      const body = await resp.json();
      $("checking").hidden = true;
      if (!resp.ok) { err.textContent = body.message || "The photo could not be read."; err.hidden = false; return null; }
      render(body, "server");
      return body;
    } catch (e) {
      $("checking").hidden = true;
      err.textContent = "Reading a photo needs a connection on this device. Scan the code with the camera instead.";
      err.hidden = false;
      return null;
    }
  }

  // --- wiring -------------------------------------------------------------------------------------
  window.ccpVerify = async (text) => {  // used by the in-browser benchmark and tests
    const t0 = performance.now();
    const r = await verifyText(text);
    return { result: r, ms: performance.now() - t0 };
  };
  $("paste-form").addEventListener("submit", (e) => { e.preventDefault(); check($("token-input").value, "device"); });
  $("photo-input").addEventListener("change", (e) => { if (e.target.files[0]) checkPhoto(e.target.files[0]); });
  window.addEventListener("hashchange", () => { if (location.hash.length > 1) check(location.href, "device"); });
  window.addEventListener("online", showTrustAge);
  window.addEventListener("offline", showTrustAge);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(main.dataset.sw, { scope: main.dataset.scope }).catch(() => {});
  }
  showTrustAge().catch(() => {});
  if (location.hash.length > 1) check(location.href, "device");
  else document.documentElement.dataset.ready = "1";
  window.ccpReady = loadTrust().then(() => { document.documentElement.dataset.ready = "1"; });
})();
