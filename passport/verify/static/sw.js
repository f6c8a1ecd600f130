// Service worker for the verify page (scope /v): keeps the page, its code, the trust bundle, the trust key,
// the JWKS, every status list it has fetched and the partners' logos the trust bundle names, so a passport can be checked with no signal.
// Page and code: network first with a short timeout, then the cache. Trust data and status lists: network
// first, then the cache (the page shows how old they are). Nothing else is touched.
"use strict";
const VERSION = new URL(self.location.href).searchParams.get("v") || "0";
const SHELL = `ccp-shell-${VERSION}`;
const DATA = "ccp-data-v1";
const SHELL_URLS = ["/v", `/verify/static/verify.js?v=${VERSION}`, `/verify/static/verify.css?v=${VERSION}`,
  "/verify/static/icon.svg", "/v/manifest.webmanifest"];
const DATA_URLS = ["/.well-known/ccp-trust-bundle.jwt", "/.well-known/ccp-trust-key.json", "/.well-known/jwks.json"];
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(SHELL_URLS);
    const data = await caches.open(DATA);
    await Promise.all(DATA_URLS.map((u) => fetch(u, { cache: "no-cache" })
      .then((r) => (r.ok ? data.put(u, r) : null)).catch(() => null)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("ccp-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

async function networkFirst(request, cacheName, key, timeout) {
  const cache = await caches.open(cacheName);
  try {
    const resp = await withTimeout(fetch(request), timeout);
    if (resp.ok) await cache.put(key, resp.clone());
    if (resp.ok || resp.status === 404) return resp;
  } catch (e) { /* offline or slow: use the cache */ }
  const hit = await cache.match(key);
  return hit || Response.error();
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/v" && req.mode === "navigate") {
    event.respondWith(networkFirst(req, SHELL, "/v", NETWORK_TIMEOUT_MS));
  } else if (url.pathname.startsWith("/verify/static/") || url.pathname === "/v/manifest.webmanifest") {
    event.respondWith(caches.match(req).then((hit) => hit || networkFirst(req, SHELL, req, NETWORK_TIMEOUT_MS)));
  } else if (url.pathname.startsWith("/v/logo/")) {
    // partners' logos are addressed by their SHA-256 (the page checks it): once kept, kept with the trust data
    event.respondWith(caches.open(DATA).then((c) => c.match(url.pathname).then((hit) => hit
      || networkFirst(req, DATA, url.pathname, 10000))));
  } else if (DATA_URLS.includes(url.pathname) || url.pathname === "/v/status-list") {
    event.respondWith(networkFirst(req, DATA, url.pathname + url.search, 10000));
  }
});
