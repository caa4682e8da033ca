// The playground's pictures on canvases: the data with the model's heatmap (or curve), the loss curves,
// and the small heatmaps of the network drawing.  Pure drawing: the numbers come from Python.
export const CLASS_COLOURS = ["#e0700a", "#1f5fa0", "#2e7d32"];  // class 0 / -1: orange, 1 / +1: blue, 2: green
const TINT = [[230, 120, 20], [33, 113, 181], [46, 125, 50]];
export const PLOT = { left: 38, right: 8, top: 8, bottom: 32 };  // the heatmap's margins (axes and labels)

// blue for a positive value, orange for a negative one, white at 0
export function colour(v) {
  const t = Math.tanh(v ?? 0) * 0.6;
  const c = t > 0 ? TINT[1] : TINT[0];
  const a = Math.abs(t);
  return c.map((x) => Math.round(255 + (x - 255) * a));
}

// the most likely class's colour, paler the less sure the model is (softmax of the scores)
function classColour(scores) {
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const k = scores.indexOf(m);
  const a = Math.min(1, (e[k] / sum - 1 / scores.length) / (1 - 1 / scores.length)) * 0.6;
  return TINT[k].map((x) => Math.round(255 + (x - 255) * a));
}

export function pointColour(task, label) {
  if (task === "regression") return "#333";
  if (task === "binary") return label > 0 ? CLASS_COLOURS[1] : CLASS_COLOURS[0];
  return CLASS_COLOURS[label] || "#555";
}

const scratch = document.createElement("canvas");  // one pixel per grid cell, scaled up smoothly

export function paintGrid(ctx, values, x, y, w, h, multi = false) {
  const res = Math.round(Math.sqrt(values.length));
  scratch.width = scratch.height = res;
  const g = scratch.getContext("2d");
  const img = g.createImageData(res, res);
  values.forEach((v, k) => img.data.set([...(multi ? classColour(v) : colour(v)), 255], 4 * k));
  g.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, x, y, w, h);
}

export function plotArea(canvas) {
  return { x: PLOT.left, y: PLOT.top, w: canvas.width - PLOT.left - PLOT.right, h: canvas.height - PLOT.top - PLOT.bottom };
}

function ticks(lo, hi) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 2 || 1)));
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toFixed(6)));
  return out.length > 7 ? out.filter((_, k) => k % 2 === 0) : out;
}

// axes with ticks: x from x0 to x1, y from y0 to y1 mapped onto the area
export function axes(ctx, area, [x0, x1, y0, y1], xName, yName) {
  ctx.strokeStyle = "#888";
  ctx.fillStyle = "#444";
  ctx.lineWidth = 1;
  ctx.font = "11px sans-serif";
  ctx.strokeRect(area.x, area.y, area.w, area.h);
  ctx.textAlign = "center";
  for (const t of ticks(x0, x1)) {
    const px = area.x + (t - x0) / (x1 - x0) * area.w;
    ctx.beginPath(); ctx.moveTo(px, area.y + area.h); ctx.lineTo(px, area.y + area.h + 4); ctx.stroke();
    ctx.fillText(String(t), px, area.y + area.h + 15);
  }
  ctx.fillText(xName, area.x + area.w / 2, area.y + area.h + 28);
  ctx.textAlign = "right";
  for (const t of ticks(y0, y1)) {
    const py = area.y + area.h - (t - y0) / (y1 - y0) * area.h;
    ctx.beginPath(); ctx.moveTo(area.x - 4, py); ctx.lineTo(area.x, py); ctx.stroke();
    ctx.fillText(String(t), area.x - 6, py + 4);
  }
  ctx.save();
  ctx.translate(10, area.y + area.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText(yName, 0, 0);
  ctx.restore();
  ctx.textAlign = "left";
}

// training (solid red) and test (dashed blue) loss per epoch, and the shown epoch as a grey line
export function lossCurves(canvas, train, test, shown) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const area = { x: 48, y: 22, w: canvas.width - 58, h: canvas.height - 56 };
  const all = [...train, ...test].filter((v) => v !== null && Number.isFinite(v));
  const n = Math.max(train.length, 1);
  const max = all.length ? Math.max(...all) : 1;
  axes(ctx, area, [0, n, 0, max || 1], "epoch", "loss");
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#b71c1c"; ctx.fillText("— training loss", area.x + 4, 14);
  if (test.length) { ctx.fillStyle = "#1f5fa0"; ctx.fillText("- - test loss", area.x + 110, 14); }
  const line = (values, colourName, dash) => {
    ctx.strokeStyle = colourName;
    ctx.setLineDash(dash);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = area.x + ((i + 1) / n) * area.w;
      const y = area.y + area.h - (v / (max || 1)) * area.h;
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.setLineDash([]);
  };
  line(train, "#b71c1c", []);
  line(test, "#1f5fa0", [5, 4]);
  if (shown < train.length) {
    const x = area.x + (shown / n) * area.w;
    ctx.strokeStyle = "#777";
    ctx.beginPath(); ctx.moveTo(x, area.y); ctx.lineTo(x, area.y + area.h); ctx.stroke();
  }
}
