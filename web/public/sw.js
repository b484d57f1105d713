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

/*
 * Web Push (Hey Blue!): the server wakes a closed app with {title, body, url, tag}. Shown only when
 * no window of the app is visible: an open app already heard it over its socket.
 */
async function showPush(payload) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  if (windows.some((client) => client.visibilityState === "visible")) return;
  await self.registration.showNotification(payload.title, {
    body: payload.body,
    tag: payload.tag,
    icon: "/icons/icon-192.png",
    data: { url: payload.url ?? "/" },
  });
}

self.addEventListener("push", (event) => {
  let payload;
  try {
    payload = event.data ? event.data.json() : undefined;
  } catch {
    payload = undefined;
  }
  if (!payload || typeof payload.title !== "string") return;
  event.waitUntil(showPush(payload));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = event.notification.data?.url ?? "/";
  // Only a page of this app: a payload cannot send the user elsewhere ("//host" is another origin).
  const asked = new URL(path, self.location.origin);
  const target = asked.origin === self.location.origin ? asked.href : new URL("/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => {
      const open = windows.find((client) => client.url.startsWith(self.location.origin));
      return open ? open.navigate(target).then((client) => client?.focus()) : self.clients.openWindow(target);
    }),
  );
});
