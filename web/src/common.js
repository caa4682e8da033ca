// What every part of the page shares: the worker (Python), Graphviz (viz.js), small DOM helpers.
export const $ = (id) => document.getElementById(id);

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 0;
export const listeners = { frame: [], error: [] };

worker.onmessage = ({ data }) => {
  if (data.event) { listeners[data.event].forEach((f) => f(data)); return; }
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (!data.ok) { p.reject(new Error(data.error)); return; }
  const r = data.result;
  if (r && typeof r === "object" && "__error__" in r) p.reject(new Error(r.__error__));
  else p.resolve(r);
};

export function ask(cmd, args = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, ...args });
  });
}

export const pendingCount = () => pending.size;

const vizReady = Viz.instance();

export async function draw(container, dot) {
  const viz = await vizReady;
  container.replaceChildren(viz.renderSVGElement(dot));
}

export function showError(el, message) {
  el.textContent = message || "";
  el.hidden = !message;
}
