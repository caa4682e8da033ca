// The Python side of the page: Pyodide in a web worker, so training never freezes the page.
// Messages in:  {id, cmd, ...args}; out: {id, ok, result | error} and, while training, {event: "frame", frame}.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const base = new URL("./", import.meta.url).href;
let py = null;
let api = null;           // the chalkweb.bridge module
let training = false;
let generation = 0;      // a Pause or Reset ends the running loop, even if Train is pressed again at once
let model = 0;           // which Reset a frame belongs to (the page drops stale ones)
let sent = 0;            // epochs whose losses the page has been sent
let speed = 30;          // epochs per second; 0 = as fast as Python goes
const selection = { sample: null, neuron: null };  // redrawn live while training
const SLICE_MS = 50;      // at full speed: train at most this long, then send a frame and let messages in
const FRAME_MS = 100;     // a new frame at most this often (at 10 epochs/s or slower: every epoch)
const GRAPH_MS = 400;     // while training, the open graphs are redrawn at most this often

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

// One frame: what the page draws for the latest epoch (or the recorded epoch `view`).
function frame(view = null, graphs = true) {
  const f = call("pg_frame", JSON.stringify({ since: sent, view, graphs, ...selection }));
  sent = f.since + f.losses.length;
  f.model = model;
  return f;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function trainLoop(gen) {
  const going = () => training && gen === generation;
  let due = performance.now();   // when the next epoch is due (speed > 0)
  let lastGraphs = 0, lastFrame = 0, steps = 0, trained = 0;
  while (going()) {
    const t0 = performance.now();
    try {
      if (speed > 0) {
        while (going() && performance.now() >= due && performance.now() - t0 < SLICE_MS) {
          call("pg_step");
          steps++;
          due += 1000 / speed;
        }
        if (performance.now() - due > 250) due = performance.now();  // cannot keep up: do not catch up later
      } else {
        do { call("pg_step"); steps++; } while (going() && performance.now() - t0 < SLICE_MS);
      }
      trained += performance.now() - t0;
      if (steps && going() && (speed > 0 && speed <= 10 || performance.now() - lastFrame >= FRAME_MS)) {
        const graphs = performance.now() - lastGraphs > GRAPH_MS;
        if (graphs) lastGraphs = performance.now();
        const f = frame(null, graphs);
        f.ms_per_step = trained / steps;
        lastFrame = performance.now();
        steps = trained = 0;
        postMessage({ event: "frame", frame: f });
      }
    } catch (e) {  // e.g. a learning rate so large that the update overflows: the optimiser's message
      training = false;
      postMessage({ event: "error", error: String(e.message || e) });
      break;
    }
    await sleep(speed > 0 ? Math.max(0, due - performance.now()) : 0);
  }
}

function stop() {
  training = false;
  generation++;
}

const handlers = {
  init: () => init(),
  lab: ({ source, max_nodes, cluster }) => call("lab_run", source, max_nodes, cluster),
  reset: ({ config }) => {
    stop();
    const r = call("pg_reset", JSON.stringify(config));
    sent = 0;
    r.model = ++model;
    r.frame = frame(null, false);
    return r;
  },
  set_lr: ({ lr }) => call("pg_set_lr", lr),
  set_speed: ({ value }) => { speed = Number(value); return speed; },
  select: ({ sample, neuron }) => { Object.assign(selection, { sample, neuron }); return true; },
  step: () => {
    stop();
    const t0 = performance.now();
    call("pg_step");
    const ms = performance.now() - t0;
    const f = frame();
    f.ms_per_step = ms;
    return f;
  },
  train: () => { if (!training) { training = true; trainLoop(++generation); } return true; },
  pause: () => { stop(); return frame(); },
  view: ({ epoch }) => { stop(); return frame(epoch); },
  refresh: ({ epoch }) => frame(epoch),  // the open graphs, without stopping the training
  export: ({ config, url }) => call("pg_export", JSON.stringify(config), url),
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
