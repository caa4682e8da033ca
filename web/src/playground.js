// The training playground: settings (kept in the address), training at a chosen speed, the timeline,
// the network drawing, and the graphs of a clicked sample or neuron.  Python (worker.js) does the maths.
import { $, ask, draw, listeners, showError } from "./common.js";
import { CLASS_COLOURS, axes, lossCurves, paintGrid, plotArea, pointColour } from "./plots.js";

export const playground = {
  points: [], labels: [], test: [], bounds: [-1, 1, -1, 1], box: [-1, 1, -1, 1], task: "binary", classes: 1,
  grid: null, nodes: [], weights: [], losses: [], testLosses: [], epoch: 0, shown: 0, training: false,
  selected: -1, neuron: null, gridUpdates: 0, config: {}, extra: [], model: 0, tasks: {}, losses_by_task: {},
};
const pg = playground;
const SETTINGS = ["pg-dataset", "pg-noise", "pg-test", "pg-hidden", "pg-activation", "pg-loss", "pg-optimizer",
  "pg-l2", "pg-batch", "pg-seed", "pg-compiled"];
const NOISE = { xor: 0.02, moons: 0.1, circles: 0.05, spirals: 0.02, blobs3: 0.25, sine: 0.1, custom: 0 };

function features() {
  return [...document.querySelectorAll("#pg-features input:checked")].map((e) => e.value);
}

function config() {
  return {
    dataset: $("pg-dataset").value, noise: Number($("pg-noise").value), test: Number($("pg-test").value),
    features: features().join(","), hidden: $("pg-hidden").value, activation: $("pg-activation").value,
    loss: $("pg-loss").value, optimizer: $("pg-optimizer").value, lr: Number($("pg-lr").value),
    l2: Number($("pg-l2").value), batch_size: Number($("pg-batch").value), seed: Number($("pg-seed").value),
    compiled: $("pg-compiled").checked, points: pg.extra,
  };
}

// --- the configuration in the address: #playground?dataset=…&points=x1:x2:label;… ---------------
function toHash(cfg) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(cfg)) {
    if (k === "points") { if (v.length) q.set(k, v.map((p) => p.join(":")).join(";")); } else q.set(k, String(v));
  }
  q.set("speed", $("pg-speed").value);
  return "#playground?" + q.toString();
}

// The playground's address: its configuration once a model exists, else what the address already says.
export function playgroundAddress() {
  if (pg.config.dataset) return toHash(pg.config);
  return location.hash.startsWith("#playground") ? location.hash : "#playground";
}

function syncAddress() {  // only while the playground is the page shown: the lab keeps "#lab"
  if (!$("playground").hidden) history.replaceState(null, "", playgroundAddress());
}

function fromHash() {
  const [page, query] = location.hash.split("?");
  if (page !== "#playground" || !query) return;
  const q = new URLSearchParams(query);
  const ids = { dataset: "pg-dataset", noise: "pg-noise", test: "pg-test", hidden: "pg-hidden", activation: "pg-activation",
    loss: "pg-loss", optimizer: "pg-optimizer", lr: "pg-lr", l2: "pg-l2", batch_size: "pg-batch", seed: "pg-seed",
    speed: "pg-speed" };
  for (const [k, id] of Object.entries(ids)) if (q.has(k)) $(id).value = q.get(k);
  if (q.has("compiled")) $("pg-compiled").checked = q.get("compiled") === "true";
  if (q.has("features")) {
    const on = q.get("features").split(",");
    for (const box of document.querySelectorAll("#pg-features input")) box.checked = on.includes(box.value);
  }
  pg.extra = q.has("points") ? q.get("points").split(";").map((p) => p.split(":").map(Number)) : [];
}

// --- settings that depend on the data set's task ------------------------------------------------
function fitLossToTask() {
  const task = $("pg-dataset").value === "custom" ? null : pg.tasks[$("pg-dataset").value];
  const allowed = task ? pg.losses_by_task[task] : Object.values(pg.losses_by_task).flat();
  for (const opt of $("pg-loss").options) opt.hidden = !allowed.includes(opt.value);
  if (!allowed.includes($("pg-loss").value)) $("pg-loss").value = allowed[0];
}

function fillClickModes() {
  const modes = pg.task === "binary" ? [["1", "adds a blue point (+1)"], ["-1", "adds an orange point (−1)"]]
    : pg.task === "multiclass" ? [...Array(pg.classes).keys()].map((k) => [String(k), `adds a point of class ${k}`])
      : [["y", "adds a point (x₁, y)"]];
  const keep = $("pg-click").value;
  $("pg-click").replaceChildren(...[["inspect", "shows a point's graph"], ...modes].map(([v, text]) => new Option(text, v)));
  if ([...$("pg-click").options].some((o) => o.value === keep)) $("pg-click").value = keep;
}

function legend() {
  const dot = (c, ring = false) => `<span class="swatch${ring ? " ring" : ""}" style="${ring ? "border-color" : "background"}:${c}"></span>`;
  let items;
  if (pg.task === "binary") {
    items = [`${dot(CLASS_COLOURS[1])} class +1 (blue region: score &gt; 0)`, `${dot(CLASS_COLOURS[0])} class −1 (orange: score &lt; 0)`,
      "white: the decision boundary (score 0)"];
  } else if (pg.task === "multiclass") {
    items = [...Array(pg.classes).keys()].map((k) => `${dot(CLASS_COLOURS[k])} class ${k}`);
    items.push("region: the most likely class, paler where the model is unsure");
  } else {
    items = [`${dot("#333")} data (x₁, y)`, "<b style='color:#b71c1c'>—</b> the network's prediction"];
  }
  if (pg.test.length) items.push(`${dot("#777", true)} ring: a test point (not trained on)`);
  $("pg-legend").innerHTML = items.map((t) => `<span>${t}</span>`).join("");
}

// --- training state -----------------------------------------------------------------------------
function setTraining(on) {
  pg.training = on;
  $("pg-train").disabled = on;
  $("pg-pause").disabled = !on;
}

const fmt = (x, digits = 4) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");

function showFrame(f) {
  f.losses.forEach((v, k) => { pg.losses[f.since + k] = v; });  // index: epoch - 1
  f.test_losses.forEach((v, k) => { pg.testLosses[f.since + k] = v; });
  Object.assign(pg, { epoch: f.epoch, shown: f.shown, nodes: f.nodes, weights: f.weights, grid: f.grid });
  pg.gridUpdates++;
  $("pg-epoch").textContent = f.epoch;
  $("pg-loss-value").textContent = fmt(pg.losses[f.shown - 1]);
  $("pg-test-loss").textContent = fmt(pg.testLosses[f.shown - 1]);
  $("pg-accuracy").textContent = pct(f.train_accuracy);
  $("pg-accuracy").dataset.value = String(f.train_accuracy);
  $("pg-test-accuracy").textContent = pct(f.test_accuracy);
  if (f.ms_per_step !== undefined) $("pg-step-time").textContent = f.ms_per_step.toFixed(1) + " ms";
  const slider = $("pg-timeline");
  slider.max = f.epoch;
  slider.value = f.shown;
  const rec = f.recording;
  $("pg-timeline-label").textContent = `showing epoch ${f.shown} of ${f.epoch}` +
    ` · recorded ${rec.kept} epochs${rec.stride > 1 ? ` (every ${rec.stride}th)` : ""}, ` +
    `${(rec.bytes / 1024).toFixed(0)} kB of the ${(rec.budget / 1048576).toFixed(0)} MB budget`;
  $("pg-timeline-label").dataset.shown = String(f.shown);
  drawHeatmap();
  lossCurves($("pg-loss-curve"), pg.losses, pg.testLosses, f.shown);
  drawNetwork();
  if (f.sample) showSample(f.sample);
  if (f.neuron) showNeuron(f.neuron);
}

export async function resetPlayground() {
  setTraining(false);
  const cfg = config();
  try {
    const r = await ask("reset", { config: cfg });
    cfg.loss = r.loss;  // pasted points decide their task, and so the loss
    pg.config = cfg;
    pg.model = r.model;
    syncAddress();
    showError($("pg-error"), "");
    Object.assign(pg, { points: r.points, labels: r.labels, test: r.test, bounds: r.bounds, box: r.box, task: r.task,
      classes: r.classes, sizes: r.sizes, featureNames: r.features, losses: [], testLosses: [], selected: -1, neuron: null });
    await ask("select", { sample: null, neuron: null });
    $("pg-sample-graph").replaceChildren();
    $("pg-sample-why").hidden = true;
    $("pg-neuron").hidden = true;
    $("pg-sample-info").textContent = `click a data point (${r.n_params} parameters)`;
    $("pg-step-time").textContent = "–";
    for (const opt of $("pg-loss").options) opt.hidden = !pg.losses_by_task[r.task].includes(opt.value);
    $("pg-loss").value = r.loss;
    fillClickModes();
    legend();
    buildNetwork();
    showFrame(r.frame);
    for (const id of ["pg-train", "pg-step", "pg-reset", "pg-export"]) $(id).disabled = false;
  } catch (e) {
    showError($("pg-error"), e.message);
    for (const id of ["pg-train", "pg-step", "pg-export"]) $(id).disabled = true;
  }
}

// --- the data plot ------------------------------------------------------------------------------
const canvas = $("pg-heatmap");

export function toPixel([x, y], label) {
  const a = plotArea(canvas);
  const [x0, x1, y0, y1] = pg.bounds;
  const v = pg.task === "regression" ? (label ?? y) : y;
  return [a.x + (x - x0) / (x1 - x0) * a.w, a.y + (y1 - v) / (y1 - y0) * a.h];
}

function fromPixel(px, py) {
  const a = plotArea(canvas);
  const [x0, x1, y0, y1] = pg.bounds;
  return [x0 + (px - a.x) / a.w * (x1 - x0), y1 - (py - a.y) / a.h * (y1 - y0)];
}

function drawHeatmap() {
  const ctx = canvas.getContext("2d");
  const a = plotArea(canvas);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (pg.task === "regression") {
    if (pg.grid) {
      const [x0, x1] = pg.box;
      ctx.save();
      ctx.beginPath();
      ctx.rect(a.x, a.y, a.w, a.h);
      ctx.clip();  // the curve may leave the plot
      ctx.strokeStyle = "#b71c1c";
      ctx.lineWidth = 2;
      ctx.beginPath();
      pg.grid.forEach((v, k) => {
        const [px, py] = toPixel([x0 + (x1 - x0) * k / (pg.grid.length - 1), 0], v);
        if (k) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      });
      ctx.stroke();
      ctx.restore();
    }
  } else if (pg.grid) {
    paintGrid(ctx, pg.grid, a.x, a.y, a.w, a.h, pg.task === "multiclass");
  }
  axes(ctx, a, pg.bounds, "x₁", pg.task === "regression" ? "y" : "x₂");
  const test = new Set(pg.test);
  pg.points.forEach((p, k) => {
    const [px, py] = toPixel(p, pg.labels[k]);
    const c = pointColour(pg.task, pg.labels[k]);
    ctx.beginPath();
    ctx.arc(px, py, k === pg.selected ? 7 : 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = test.has(k) ? "#fff" : c;
    ctx.fill();
    ctx.lineWidth = k === pg.selected ? 3 : test.has(k) ? 2 : 1;
    ctx.strokeStyle = k === pg.selected ? "#000" : test.has(k) ? c : "#fff";
    ctx.stroke();
  });
}

canvas.addEventListener("click", (e) => {
  const rect = canvas.getBoundingClientRect();
  const mx = (e.clientX - rect.left) * (canvas.width / rect.width);
  const my = (e.clientY - rect.top) * (canvas.height / rect.height);
  const mode = $("pg-click").value;
  if (mode !== "inspect") {
    const [x, y] = fromPixel(mx, my).map((v) => Math.round(v * 1000) / 1000);
    pg.extra = [...pg.extra, pg.task === "regression" ? [x, 0, y] : [x, y, Number(mode)]];
    resetPlayground();
    return;
  }
  let best = -1, bestD = 12 * 12;
  pg.points.forEach((p, k) => {
    const [px, py] = toPixel(p, pg.labels[k]);
    const d = (px - mx) ** 2 + (py - my) ** 2;
    if (d < bestD) { best = k; bestD = d; }
  });
  if (best >= 0) select(best, pg.neuron);
});

// A new selection: the worker redraws it with every frame while training; now, one frame at the shown epoch.
async function select(sample, neuron) {
  pg.selected = sample;
  pg.neuron = neuron;
  drawHeatmap();
  if (sample >= 0) $("pg-sample-info").textContent = `sample ${sample}: computing…`;
  try {
    await ask("select", { sample: sample >= 0 ? sample : null, neuron });
    const f = await ask("refresh", { epoch: pg.shown < pg.epoch ? pg.shown : null });
    if (f.model === pg.model) showFrame(f);
  } catch (e) {
    showError($("pg-error"), e.message);
  }
}

async function showSample(s) {
  await draw($("pg-sample-graph"), s.dot);
  const label = pg.task === "binary" ? (s.label > 0 ? "+1" : "−1") : pg.task === "multiclass" ? `class ${s.label}` : `y = ${fmt(s.label, 2)}`;
  $("pg-sample-info").textContent =
    `sample ${s.index}${s.test ? " (a test point)" : ""}: x = (${fmt(s.x[0], 2)}, ${fmt(s.x[1], 2)}), ${label}, ` +
    `loss ${fmt(s.loss)} at epoch ${s.epoch}; ${s.nodes} values, gradients of this sample's loss`;
  $("pg-sample-why").textContent = s.why;
  $("pg-sample-why").hidden = !s.why;
  $("pg-sample-graph").dataset.index = String(s.index);
  $("pg-sample-graph").dataset.epoch = String(s.epoch);
}

async function showNeuron(n) {
  $("pg-neuron").hidden = false;
  const last = n.layer === pg.sizes.length - 1;
  $("pg-neuron-info").textContent = `${last ? "Output" : "Neuron"} ${n.index + 1} of layer ${n.layer}` +
    ` on sample ${n.sample} (epoch ${n.epoch}): its graph and its numbers (L = that sample's loss)`;
  $("pg-neuron-formula").textContent = n.formula.join("\n");
  await draw($("pg-neuron-graph"), n.dot);
  $("pg-neuron").dataset.epoch = String(n.epoch);
  $("pg-neuron").dataset.neuron = `${n.layer},${n.index}`;
}

// --- the network drawing: a small heatmap per node, a line per weight --------------------------
const NODE = 40, GAP_X = 78, GAP_Y = 10;
const SVG = "http://www.w3.org/2000/svg";

function nodePosition(layer, j) {
  const tallest = Math.max(...pg.sizes);
  const offset = (tallest - pg.sizes[layer]) * (NODE + GAP_Y) / 2;
  return [10 + layer * (NODE + GAP_X), 18 + offset + j * (NODE + GAP_Y)];
}

function buildNetwork() {
  const box = $("pg-network");
  const tallest = Math.max(...pg.sizes);
  const width = 20 + pg.sizes.length * (NODE + GAP_X) - GAP_X;
  const height = 24 + tallest * (NODE + GAP_Y);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.id = "pg-network-lines";
  const children = [svg];
  pg.sizes.forEach((size, layer) => {
    const title = document.createElement("span");
    title.className = "layer-title";
    title.textContent = layer === 0 ? "inputs" : layer === pg.sizes.length - 1 ? "output" : `layer ${layer}`;
    title.style.left = `${nodePosition(layer, 0)[0]}px`;
    children.push(title);
    for (let j = 0; j < size; j++) {
      if (layer > 0) {
        for (let k = 0; k < pg.sizes[layer - 1]; k++) {
          const line = document.createElementNS(SVG, "line");
          const [x1, y1] = nodePosition(layer - 1, k);
          const [x2, y2] = nodePosition(layer, j);
          Object.entries({ x1: x1 + NODE, y1: y1 + NODE / 2, x2, y2: y2 + NODE / 2 }).forEach(([a, v]) => line.setAttribute(a, v));
          line.classList.add("weight");
          line.id = `pg-weight-${layer}-${j}-${k}`;
          line.append(document.createElementNS(SVG, "title"));
          svg.append(line);
        }
      }
      const c = document.createElement("canvas");
      c.width = c.height = NODE;
      c.id = `pg-node-${layer}-${j}`;
      c.className = "node" + (layer > 0 ? " neuron" : "");
      const [x, y] = nodePosition(layer, j);
      Object.assign(c.style, { left: `${x}px`, top: `${y}px` });
      c.dataset.layer = layer;
      c.dataset.index = j;
      c.title = layer === 0 ? `input ${pg.featureNames[j]}` : "click: this neuron's graph and formula";
      if (layer > 0) c.onclick = () => select(pg.selected >= 0 ? pg.selected : 0, [layer, j]);
      children.push(c);
      if (layer === 0) {
        const name = document.createElement("span");
        name.className = "node-name";
        name.textContent = pg.featureNames[j];
        Object.assign(name.style, { left: `${x - 4}px`, top: `${y + NODE - 12}px` });
        children.push(name);
      }
    }
  });
  box.style.height = `${height}px`;
  box.style.width = `${width}px`;
  box.replaceChildren(...children);
}

function drawNetwork() {
  if (!pg.sizes) return;
  pg.nodes.forEach((layer, l) => layer.forEach((values, j) => {
    const c = $(`pg-node-${l}-${j}`);
    if (!c) return;
    paintGrid(c.getContext("2d"), values, 0, 0, NODE, NODE);
    c.classList.toggle("selected", !!pg.neuron && pg.neuron[0] === l && pg.neuron[1] === j);
  }));
  const all = pg.weights.flat().flatMap((n) => n.w.map(Math.abs));
  const biggest = Math.max(1e-12, ...all);
  pg.weights.forEach((layer, l) => layer.forEach((neuron, j) => neuron.w.forEach((w, k) => {
    const line = $(`pg-weight-${l + 1}-${j}-${k}`);
    if (!line) return;
    line.setAttribute("stroke", w >= 0 ? CLASS_COLOURS[1] : CLASS_COLOURS[0]);
    line.setAttribute("stroke-width", (0.5 + 5 * Math.abs(w) / biggest).toFixed(2));
    line.dataset.value = String(w);
    line.firstChild.textContent = `${neuron.names[k]} = ${neuron.text[k]}`;
  })));
}

// --- buttons ------------------------------------------------------------------------------------
async function view(epoch) {
  setTraining(false);
  try {
    const f = await ask("view", { epoch: epoch >= pg.epoch ? null : epoch });
    if (f.model === pg.model) showFrame(f);
  } catch (e) { showError($("pg-error"), e.message); }
}

function download(name, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/x-python" }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

function parseCsv(text) {
  const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const points = rows.map((l) => l.split(/[,;\s]+/).map(Number)).filter((p) => p.length === 3 && p.every(Number.isFinite));
  if (points.length < 2) throw new Error(`CSV: need at least 2 lines "x1, x2, label"; found ${points.length} such line(s)`);
  return points;
}

export function initPlayground(hello) {
  pg.tasks = hello.tasks;
  pg.losses_by_task = hello.losses;
  fromHash();
  fitLossToTask();
  listeners.frame.push(({ frame }) => { if (frame.model === pg.model) showFrame(frame); });
  listeners.error.push(({ error }) => { setTraining(false); showError($("pg-error"), error); });
  $("pg-train").onclick = async () => {
    showError($("pg-error"), "");
    setTraining(true);
    await ask("set_speed", { value: Number($("pg-speed").value) });
    await ask("train");
  };
  $("pg-pause").onclick = async () => { setTraining(false); showFrame(await ask("pause")); };
  $("pg-step").onclick = async () => {
    setTraining(false);
    try { showFrame(await ask("step")); } catch (e) { showError($("pg-error"), e.message); }
  };
  $("pg-reset").onclick = resetPlayground;
  $("pg-timeline").oninput = (e) => view(Number(e.target.value));
  $("pg-speed").onchange = () => {
    ask("set_speed", { value: Number($("pg-speed").value) });
    syncAddress();
  };
  $("pg-dataset").addEventListener("change", () => {
    $("pg-noise").value = NOISE[$("pg-dataset").value];
    if (pg.tasks[$("pg-dataset").value] === "regression") {  // 1-D data: x2 is 0, so only features of x1
      for (const box of document.querySelectorAll("#pg-features input")) box.checked = box.value === "x1";
    }
    if ($("pg-dataset").value !== "custom") pg.extra = [];
    fitLossToTask();
  });
  for (const id of SETTINGS) $(id).addEventListener("change", resetPlayground);
  for (const box of document.querySelectorAll("#pg-features input")) box.addEventListener("change", resetPlayground);
  $("pg-lr").addEventListener("change", async () => {
    try {
      await ask("set_lr", { lr: Number($("pg-lr").value) });
      pg.config.lr = Number($("pg-lr").value);
      syncAddress();
      showError($("pg-error"), "");
    } catch (e) { showError($("pg-error"), e.message); }
  });
  $("pg-csv-load").onclick = () => {
    try {
      pg.extra = parseCsv($("pg-csv").value);
      $("pg-dataset").value = "custom";
      fitLossToTask();
      resetPlayground();
    } catch (e) { showError($("pg-error"), e.message); }
  };
  $("pg-export").onclick = async () => {
    try {
      const text = await ask("export", { config: pg.config, url: location.href });
      download(`${pg.config.dataset}_playground.py`, text);
    } catch (e) { showError($("pg-error"), e.message); }
  };
  $("pg-link").onclick = () => {
    history.replaceState(null, "", playgroundAddress());
    $("pg-link-text").value = location.href;
    $("pg-link-text").hidden = false;
    $("pg-link-text").select();
    navigator.clipboard?.writeText(location.href).catch(() => {});
  };
}
