// One peer in one module worker. Every WebAssembly.Memory the peer creates or imports is
// recorded, so the page can report the peak wasm memory of every peer the same way.
const memories = new Set();
let peakWasm = 0;
const note = (object) => { for (const v of Object.values(object ?? {})) if (v instanceof WebAssembly.Memory) memories.add(v); };
const noteImports = (imports) => { for (const m of Object.values(imports ?? {})) note(m); };
const wasmBytes = () => [...memories].reduce((s, m) => s + m.buffer.byteLength, 0);
for (const name of ['instantiate', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  WebAssembly[name] = async function (source, imports, ...rest) {
    noteImports(imports);
    const result = await original.call(this, source, imports, ...rest);
    note((result.instance ?? result).exports);
    return result;
  };
}
const OriginalInstance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  noteImports(imports);
  const instance = new OriginalInstance(module, imports);
  note(instance.exports);
  return instance;
};

const params = new URL(self.location.href).searchParams;
const loading = import(`./${params.get('peer')}.js`); // onmessage is set before any await: no message is lost

self.onmessage = async ({ data }) => {
  try {
    const peer = await loading;
    if (data.init) {
      await peer.init(Number(params.get('threads')));
      return self.postMessage({ ready: true });
    }
    if (data.memory) return self.postMessage({ memory: Math.max(peakWasm, wasmBytes()) });
    const start = performance.now();
    const out = await peer.convert(data.blob, data.task, data.target);
    peakWasm = Math.max(peakWasm, wasmBytes());
    self.postMessage({ data: out, ms: performance.now() - start }, [out.buffer]);
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
