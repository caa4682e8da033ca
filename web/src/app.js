// The page: tabs, the expression lab, the training playground. Python runs in worker.js.
const $ = (id) => document.getElementById(id);

// --- talking to the worker ------------------------------------------------------------------------
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 0;
const listeners = { train: [], error: [] };

worker.onmessage = ({ data }) => {
  if (data.event) { listeners[data.event].forEach((f) => f(data)); return; }
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (!data.ok) { p.reject(new Error(data.error)); return; }
  const r = data.result;
  if (r && typeof r === "object" && "__error__" in r) p.reject(new Error(r.__error__));
  else p.resolve(r);
};

function ask(cmd, args = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, ...args });
  });
}

// --- Graphviz (viz.js) ----------------------------------------------------------------------------
const vizReady = Viz.instance();

async function draw(container, dot) {
  const viz = await vizReady;
  container.replaceChildren(viz.renderSVGElement(dot));
}

// A drawing fits its box; a click shows it at its natural size (scroll), another click fits it again.
for (const box of document.querySelectorAll(".graph")) box.addEventListener("click", () => box.classList.toggle("natural"));

function showError(el, message) {
  el.textContent = message || "";
  el.hidden = !message;
}

// --- tabs ---------------------------------------------------------------------------------------
function showPage(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.page === name);
  for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== name;
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
}
for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => showPage(tab.dataset.page);
showPage(location.hash === "#playground" ? "playground" : "lab");

// --- the expression lab ---------------------------------------------------------------------------
const lab = { frames: { forward: [], backward: [] }, step: 0, timer: null, example: "" };

async function runLab() {
  $("lab-run").disabled = true;
  try {
    const r = await ask("lab", { source: $("lab-code").value });
    showError($("lab-error"), r.ok ? "" : r.error);
    $("lab-output").textContent = r.stdout || "";
    $("lab-output").hidden = !r.stdout;
    if (!r.ok) return;
    await draw($("lab-graph"), r.dot);
    $("lab-graph").dataset.runs = String(Number($("lab-graph").dataset.runs || 0) + 1);
    lab.frames = { forward: r.forward, backward: r.backward };
    $("lab-step-caption").textContent = r.frames_note || "";
    await showFrame(0);
  } catch (e) {
    showError($("lab-error"), e.message);
  } finally {
    $("lab-run").disabled = false;
  }
}

function currentFrames() { return lab.frames[$("lab-step-mode").value] || []; }

async function showFrame(k) {
  const frames = currentFrames();
  const slider = $("lab-step-slider");
  slider.max = Math.max(frames.length - 1, 0);
  if (!frames.length) { $("lab-step-graph").replaceChildren(); return; }
  lab.step = Math.min(Math.max(k, 0), frames.length - 1);
  slider.value = lab.step;
  await draw($("lab-step-graph"), frames[lab.step]);
  $("lab-step-caption").textContent = `step ${lab.step + 1}/${frames.length}`;
  $("lab-step-graph").dataset.step = String(lab.step);
}

function stopPlaying() {
  clearInterval(lab.timer);
  lab.timer = null;
  $("lab-step-play").textContent = "Play";
}

$("lab-run").onclick = runLab;
$("lab-example").onclick = () => { $("lab-code").value = lab.example; };
$("lab-code").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runLab(); }
});
$("lab-step-prev").onclick = () => { stopPlaying(); showFrame(lab.step - 1); };
$("lab-step-next").onclick = () => { stopPlaying(); showFrame(lab.step + 1); };
$("lab-step-slider").oninput = (e) => { stopPlaying(); showFrame(Number(e.target.value)); };
$("lab-step-mode").onchange = () => { stopPlaying(); showFrame(0); };
$("lab-step-play").onclick = () => {
  if (lab.timer) { stopPlaying(); return; }
  if (lab.step >= currentFrames().length - 1) showFrame(0);
  $("lab-step-play").textContent = "Stop";
  lab.timer = setInterval(() => {
    if (lab.step >= currentFrames().length - 1) stopPlaying();
    else showFrame(lab.step + 1);
  }, 800);
};

// --- the training playground ----------------------------------------------------------------------
const pg = { points: [], labels: [], bounds: [-1, 1, -1, 1], grid: null, losses: [], training: false, selected: -1,
  gridUpdates: 0, config: {} };

function config() {
  return {
    dataset: $("pg-dataset").value,
    hidden: $("pg-hidden").value,
    activation: $("pg-activation").value,
    loss: $("pg-loss").value,
    optimizer: $("pg-optimizer").value,
    lr: Number($("pg-lr").value),
    l2: Number($("pg-l2").value),
    batch_size: Number($("pg-batch").value),
    seed: Number($("pg-seed").value),
    compiled: $("pg-compiled").checked,
  };
}

function setTraining(on) {
  pg.training = on;
  $("pg-train").disabled = on;
  $("pg-pause").disabled = !on;
  $("pg-step").disabled = on;
}

function fmt(x, digits = 4) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }

function showStatus(s) {
  $("pg-epoch").textContent = s.epoch;
  $("pg-loss-value").textContent = fmt(s.loss);
  $("pg-accuracy").textContent = s.accuracy === undefined ? "–" : (100 * s.accuracy).toFixed(1) + " %";
  $("pg-accuracy").dataset.value = String(s.accuracy);
  if (s.ms_per_step !== undefined) $("pg-step-time").textContent = s.ms_per_step.toFixed(1) + " ms";
  const losses = s.losses || (s.epoch > 0 ? [s.loss] : []);
  losses.forEach((v, k) => { pg.losses[s.epoch - losses.length + k] = v; });  // indexed by epoch - 1
  if (s.grid) { pg.grid = s.grid; pg.gridUpdates++; }
  drawHeatmap();
  drawLossCurve();
}

async function resetPlayground() {
  setTraining(false);
  const cfg = config();
  try {
    const r = await ask("reset", { config: cfg });
    pg.config = cfg;
    pg.model = r.model;
    showError($("pg-error"), "");
    Object.assign(pg, { points: r.points, labels: r.labels, bounds: r.bounds, grid: r.grid, losses: [], selected: -1 });
    $("pg-sample-graph").replaceChildren();
    $("pg-sample-info").textContent = `click a data point (${r.n_params} parameters)`;
    $("pg-step-time").textContent = "–";
    showStatus(r);
    for (const id of ["pg-train", "pg-step", "pg-reset"]) $(id).disabled = false;
  } catch (e) {
    showError($("pg-error"), e.message);
    for (const id of ["pg-train", "pg-step"]) $(id).disabled = true;
  }
}

const canvas = $("pg-heatmap");

function toPixel([x, y]) {
  const [x0, x1, y0, y1] = pg.bounds;
  return [(x - x0) / (x1 - x0) * canvas.width, (y1 - y) / (y1 - y0) * canvas.height];
}

// blue for class +1, orange for -1, white on the decision boundary (score 0)
function colour(score) {
  const t = Math.tanh(score ?? 0) * 0.6;
  const c = t > 0 ? [33, 113, 181] : [230, 120, 20];
  const a = Math.abs(t);
  return c.map((v) => Math.round(255 + (v - 255) * a));
}

const grid = document.createElement("canvas");  // one pixel per grid cell, scaled up smoothly

function drawHeatmap() {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (pg.grid) {
    const res = Math.round(Math.sqrt(pg.grid.length));
    grid.width = grid.height = res;
    const g = grid.getContext("2d");
    const img = g.createImageData(res, res);
    pg.grid.forEach((score, k) => {
      img.data.set([...colour(score), 255], 4 * k);
    });
    g.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(grid, 0, 0, canvas.width, canvas.height);
  }
  pg.points.forEach((p, k) => {
    const [px, py] = toPixel(p);
    ctx.beginPath();
    ctx.arc(px, py, k === pg.selected ? 7 : 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = pg.labels[k] > 0 ? "#1f5fa0" : "#e0700a";
    ctx.fill();
    ctx.lineWidth = k === pg.selected ? 3 : 1;
    ctx.strokeStyle = k === pg.selected ? "#000" : "#fff";
    ctx.stroke();
  });
}

function drawLossCurve() {
  const c = $("pg-loss-curve");
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#555";
  ctx.font = "11px sans-serif";
  ctx.fillText("loss per epoch", 6, 13);
  const ls = pg.losses.filter((v) => v !== null && Number.isFinite(v));
  if (ls.length < 2) return;
  const max = Math.max(...ls), min = Math.min(0, ...ls);
  ctx.strokeStyle = "#b71c1c";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ls.forEach((v, i) => {
    const x = 4 + (i / (ls.length - 1)) * (c.width - 8);
    const y = c.height - 4 - ((v - min) / (max - min || 1)) * (c.height - 22);
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillText(`${fmt(ls[ls.length - 1])} (max ${fmt(max, 3)})`, c.width - 150, 13);
}

async function showSample(k) {
  pg.selected = k;
  drawHeatmap();
  $("pg-sample-info").textContent = `sample ${k}: computing…`;
  try {
    const r = await ask("graph", { index: k });
    await draw($("pg-sample-graph"), r.dot);
    $("pg-sample-info").textContent =
      `sample ${k}: x = (${fmt(r.x[0], 2)}, ${fmt(r.x[1], 2)}), label ${r.label > 0 ? "+1" : "−1"}, ` +
      `loss ${fmt(r.loss)}; ${r.nodes} values, gradients of this sample's loss`;
    $("pg-sample-graph").dataset.index = String(k);
  } catch (e) {
    showError($("pg-error"), e.message);
  }
}

canvas.addEventListener("click", (e) => {
  const rect = canvas.getBoundingClientRect();
  const mx = (e.clientX - rect.left) * (canvas.width / rect.width);
  const my = (e.clientY - rect.top) * (canvas.height / rect.height);
  let best = -1, bestD = 12 * 12;
  pg.points.forEach((p, k) => {
    const [px, py] = toPixel(p);
    const d = (px - mx) ** 2 + (py - my) ** 2;
    if (d < bestD) { best = k; bestD = d; }
  });
  if (best >= 0) showSample(best);
});

listeners.train.push(({ status }) => { if (status.model === pg.model) showStatus(status); });
listeners.error.push(({ error }) => { setTraining(false); showError($("pg-error"), error); });

$("pg-train").onclick = async () => { showError($("pg-error"), ""); setTraining(true); await ask("train"); };
$("pg-pause").onclick = async () => { setTraining(false); showStatus(await ask("pause")); };
$("pg-step").onclick = async () => {
  try { showStatus(await ask("step")); } catch (e) { showError($("pg-error"), e.message); }
};
$("pg-reset").onclick = resetPlayground;
for (const id of ["pg-dataset", "pg-hidden", "pg-activation", "pg-loss", "pg-optimizer", "pg-l2", "pg-batch",
  "pg-seed", "pg-compiled"]) {
  $(id).addEventListener("change", resetPlayground);
}
$("pg-lr").addEventListener("change", async () => {
  try { await ask("set_lr", { lr: Number($("pg-lr").value) }); showError($("pg-error"), ""); } catch (e) {
    showError($("pg-error"), e.message);
  }
});

// The page's state for tests and users' own automation (docs/browser.md).
window.chalkgrad = { playground: pg, toPixel, ask, pending: () => pending.size };

// --- start ---------------------------------------------------------------------------------------
(async () => {
  try {
    const hello = await ask("init");
    lab.example = hello.example;
    if (!$("lab-code").value) $("lab-code").value = hello.example;
    $("lab-run").disabled = false;
    await runLab();
    await resetPlayground();
    $("status").textContent = `Python ${hello.python} ready`;
    $("status").dataset.ready = "true";
    fetch("versions.json").then((r) => r.json()).then((v) => {
      $("versions").textContent = `Pyodide ${v.pyodide}, viz.js ${v["@viz-js/viz"]}, graphviz ${v.graphviz}.`;
    });
  } catch (e) {
    $("status").textContent = "Python failed to load: " + e.message;
    $("status").dataset.ready = "error";
  }
})();
