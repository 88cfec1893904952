// The shopper app's service worker: keeps the app shell (pages, scripts, styles, icons) so the
// app opens without a network, and never touches API answers (carts, QR tokens, receipts must
// always be live). Network first, so a new release shows on the next load; the cache is the
// fallback when offline.

const CACHE = "walkout-app-shell-v1";
const SHELL = [
  "/app/",
  "/app/index.html",
  "/app/app.js",
  "/app/orders.js",
  "/app/strings.js",
  "/app/ui.js",
  "/app/app.css",
  "/app/icon.svg",
  "/app/icon-192.png",
  "/app/manifest.webmanifest",
  "/shared/api.js",
  "/shared/dom.js",
  "/shared/i18n.js",
  "/shared/base.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const shell = SHELL.includes(url.pathname) || event.request.mode === "navigate";
  if (!shell) return; // the API and anything else: straight to the network, never cached
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && SHELL.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(SHELL.includes(url.pathname) ? url.pathname : "/app/index.html")
          .then((hit) => hit ?? Response.error()),
      ),
  );
});
