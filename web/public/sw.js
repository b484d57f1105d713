/*
 * Ledgerflow service worker: caches the app shell (HTML, JS, CSS, icons) so the wallet opens
 * offline. API calls (/v1, /graphql) always go to the network: balances are never served stale.
 * Navigations try the network first and fall back to the cached shell, then to the offline page.
 */
const shellCache = "ledgerflow-shell-v1";
const shellFiles = [
  "/",
  "/index.html",
  "/offline.html",
  "/manifest.webmanifest",
  "/icons/icon.svg",
  "/icons/icon-192.png",
];

/** The shell files plus the hashed scripts and styles that index.html references. */
async function cacheShell() {
  const cache = await caches.open(shellCache);
  await cache.addAll(shellFiles);
  const index = await cache.match("/index.html");
  const html = index ? await index.text() : "";
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]);
  await cache.addAll(assets);
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== shellCache).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

function isApi(url) {
  return (
    url.pathname.startsWith("/v1") ||
    url.pathname.startsWith("/graphql") ||
    url.pathname === "/openapi.json" ||
    url.pathname.startsWith("/docs") ||
    url.pathname === "/healthz" ||
    url.pathname === "/readyz" ||
    url.pathname === "/metrics"
  );
}

async function networkFirstPage(request) {
  const cache = await caches.open(shellCache);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put("/index.html", response.clone());
    return response;
  } catch {
    return (await cache.match("/index.html")) ?? (await cache.match("/offline.html")) ?? Response.error();
  }
}

/** Built assets have content hashes in their names, so a cached copy is always right. */
async function cacheFirstAsset(request) {
  const cache = await caches.open(shellCache);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isApi(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
    return;
  }
  if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/icons/")) {
    event.respondWith(cacheFirstAsset(request));
  }
});
