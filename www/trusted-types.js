// Trusted Types: the CSP (headers.json) lets no string become a script URL, markup or code
// unless a policy allows it. This site's only such strings are the URLs of its own scripts
// (its workers) and the blob: copies wasm-bindgen-rayon makes of its worker script; this
// default policy passes exactly those and refuses everything else. Imported first by the
// page and by each engine worker, before either starts a worker.
const origin = self.location.origin;

if (self.trustedTypes?.createPolicy && !self.trustedTypes.defaultPolicy) {
  self.trustedTypes.createPolicy('default', {
    createScriptURL(url) {
      const parsed = new URL(url, self.location.href);
      if (parsed.origin === origin || parsed.href.startsWith(`blob:${origin}/`)) return parsed.href;
      throw new TypeError(`refused to load a script from ${parsed.href}`);
    },
  });
}
