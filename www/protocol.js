// Messages between the page (engine.js) and an engine worker (worker.js). Namespaced so they
// never collide with wasm-bindgen-rayon's own `wasm_bindgen_worker_*` messages.
export const MSG = Object.freeze({
  // page -> worker
  INIT: 'imgbatch:init', //     { flavor: 'parallel'|'single', dir, threads, memoryBudget }
  JOB: 'imgbatch:job', //       { id, file: Blob, path, number (from 1, for {n}), options }
  READ_PRESET: 'imgbatch:read-preset', // { request, json } a preset file to check
  // worker -> page
  READY: 'imgbatch:ready', //   { info }
  INIT_FAILED: 'imgbatch:init-failed', // { message }
  DONE: 'imgbatch:done', //     { id, result, wasmBytes } (output buffers transferred)
  PRESET: 'imgbatch:preset', //  { request, preset | error: {code, message} }
  CRASHED: 'imgbatch:crashed', // { id|null, message } the instance is dead; terminate it
});
