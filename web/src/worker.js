// The Python side of the page: Pyodide in a web worker, so training never freezes the page.
// Messages in:  {id, cmd, ...args}; out: {id, ok, result | error} and, while training, {event: "train", ...}.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const base = new URL("./", import.meta.url).href;
let py = null;
let api = null;           // the chalkweb.bridge module
let training = false;
let generation = 0;      // a Pause or Reset ends the running loop, even if Train is pressed again at once
let model = 0;           // which Reset a training event belongs to (the page drops stale ones)
const SLICE_MS = 50;      // train at most this long (and at most SLICE_STEPS epochs), then let messages in
const SLICE_STEPS = 5;    // and send a new decision boundary: the heatmap is redrawn every 5 epochs or more often

async function init() {
  const t0 = performance.now();
  py = await loadPyodide({ indexURL: base + "pyodide/" });
  console.log(`pyodide loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  for (const file of ["py/chalkgrad.zip", "py/graphviz.whl"]) {
    const buf = await (await fetch(base + file)).arrayBuffer();
    py.unpackArchive(buf, "zip", { extractDir: "/home/pyodide/lib" });
  }
  py.runPython("import sys; sys.path.insert(0, '/home/pyodide/lib')");
  api = py.pyimport("chalkweb.bridge");
  return JSON.parse(api.hello());
}

function call(name, ...args) {
  const r = JSON.parse(api[name](...args));
  if (r && typeof r === "object" && "__error__" in r) throw new Error(r.__error__);  // one Python line
  return r;
}

async function trainLoop(gen) {
  const going = () => training && gen === generation;
  while (going()) {
    const t0 = performance.now();
    let status = null;
    let steps = 0;
    const losses = [];
    try {
      do {
        status = call("pg_step");
        losses.push(status.loss);
        steps++;
      } while (going() && steps < SLICE_STEPS && performance.now() - t0 < SLICE_MS);
      status.ms_per_step = (performance.now() - t0) / steps;
      status.grid = call("pg_grid");
    } catch (e) {  // e.g. a learning rate so large that the update overflows: the optimiser's message
      training = false;
      postMessage({ event: "error", error: String(e.message || e) });
      break;
    }
    status.losses = losses;
    status.model = model;
    postMessage({ event: "train", status });
    await new Promise((r) => setTimeout(r, 0));
  }
}

function stop() {
  training = false;
  generation++;
}

const handlers = {
  init: () => init(),
  lab: ({ source }) => call("lab_run", source),
  reset: ({ config }) => {
    stop();
    const r = call("pg_reset", JSON.stringify(config));
    r.model = ++model;
    return r;
  },
  set_lr: ({ lr }) => call("pg_set_lr", lr),
  step: () => {
    stop();
    const t0 = performance.now();
    const status = call("pg_step");
    status.ms_per_step = performance.now() - t0;
    status.grid = call("pg_grid");
    return status;
  },
  train: () => { if (!training) { training = true; trainLoop(++generation); } return true; },
  pause: () => { stop(); return call("pg_status"); },
  graph: ({ index }) => call("pg_graph", index),
  scores: () => call("pg_scores"),
  bench: ({ steps }) => call("pg_bench", steps),
};

self.onmessage = async (msg) => {
  const { id, cmd } = msg.data;
  try {
    const result = await handlers[cmd](msg.data);
    postMessage({ id, ok: true, result });
  } catch (e) {
    postMessage({ id, ok: false, error: String(e.message || e) });
  }
};
