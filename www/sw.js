// The service worker that makes the page work offline. It keeps one complete build (the
// files build.json lists: the page, and the engine folders it names) in a cache of its own,
// and serves every request of the site from that build, so a page and its engine always
// come from the same deploy. Each visit first asks the network for build.json: when it names
// a new build, the whole new build is cached before the visit is served from it, and only
// then is the old one dropped. Offline, the cached build is served as it is. Cached
// responses keep the headers the server sent, COOP and COEP included, so the page stays
// cross-origin isolated and keeps its threaded engine offline.
const CURRENT = new Request('imgbatch-current-build');
const META = 'imgbatch-meta';
const cacheName = (id) => `imgbatch-build-${id}`;
const BUILD_JSON = new URL('build.json', self.registration.scope).href;

async function currentId() {
  const answer = await (await caches.open(META)).match(CURRENT);
  return answer ? answer.text() : null;
}

// Fetches build.json; caches the build it names unless that is the current one already.
// A failure leaves the current build in place: nothing is half-switched.
async function refresh() {
  const text = await (await fetch(BUILD_JSON, { cache: 'no-store' })).text();
  const build = JSON.parse(text);
  if (!build.id || !Array.isArray(build.files)) throw new Error('build.json lists no files');
  if (build.id === (await currentId())) return;
  const cache = await caches.open(cacheName(build.id));
  const urls = build.files.map((file) => new URL(file, self.registration.scope).href);
  // Every file again from the network: an HTTP cache could hold the previous deploy's.
  await Promise.all(urls.map(async (url) => {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    await cache.put(url, response);
  }));
  // The build.json read above, not a second fetch that could already name a newer build.
  await cache.put(BUILD_JSON, new Response(text, { headers: { 'Content-Type': 'application/json' } }));
  await (await caches.open(META)).put(CURRENT, new Response(build.id));
  for (const name of await caches.keys()) {
    if (name.startsWith('imgbatch-build-') && name !== cacheName(build.id)) await caches.delete(name);
  }
}

let refreshing = null;
function refreshOnce() {
  refreshing ??= refresh().finally(() => { refreshing = null; });
  return refreshing;
}

async function fromBuild(request) {
  const id = await currentId();
  if (!id) return null;
  const cache = await caches.open(cacheName(id));
  // A visit to the folder, or with ?threads=N, is a visit to index.html.
  const url = new URL(request.url);
  if (request.mode === 'navigate') url.pathname = new URL('index.html', self.registration.scope).pathname;
  url.search = '';
  return cache.match(url.href);
}

async function answer(request) {
  if (request.mode === 'navigate') await refreshOnce().catch(() => {}); // offline, or a bad deploy
  return (await fromBuild(request)) ?? fetch(request);
}

self.addEventListener('install', (event) => {
  event.waitUntil(refreshOnce().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  event.respondWith(answer(request));
});
