// Messages between the page (engine.js) and an engine worker (worker.js). Namespaced so they
// never collide with wasm-bindgen-rayon's own `wasm_bindgen_worker_*` messages.
export const MSG = Object.freeze({
  // page -> worker
  INIT: 'imgbatch:init', //     { flavor: 'parallel'|'single', dir, threads }
  JOB: 'imgbatch:job', //       { id, file: Blob, path, number (from 1, for {n}), zipEntry?, options }
  //                               zipEntry: the file is this ZIP entry's slice of its archive
  CALL: 'imgbatch:call', //     { request, name, args } one of the worker's CALLS, answered at once
  // worker -> page
  READY: 'imgbatch:ready', //   { info }
  INIT_FAILED: 'imgbatch:init-failed', // { message }
  DONE: 'imgbatch:done', //     { id, result, wasmBytes } (output buffers transferred)
  ANSWER: 'imgbatch:answer', // { request, value | error: {code, message} }
  CRASHED: 'imgbatch:crashed', // { id|null, message } the instance is dead; terminate it
});
