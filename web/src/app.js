// The page: tabs and the expression lab; the playground is playground.js. Python runs in worker.js.
import { $, ask, draw, showError, pendingCount } from "./common.js";
import { playground, initPlayground, playgroundAddress, resetPlayground, toPixel } from "./playground.js";

// A drawing fits its box; a click shows it at its natural size (scroll), another click fits it again.
for (const box of document.querySelectorAll(".graph")) box.addEventListener("click", () => box.classList.toggle("natural"));

// --- tabs ---------------------------------------------------------------------------------------
function showPage(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.page === name);
  for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== name;
  history.replaceState(null, "", name === "playground" ? playgroundAddress() : "#lab");
  window.scrollTo(0, 0);
}
for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => showPage(tab.dataset.page);
showPage(location.hash.startsWith("#playground") ? "playground" : "lab");

// --- the expression lab ---------------------------------------------------------------------------
const lab = { frames: { forward: [], backward: [] }, step: 0, timer: null, example: "" };

// After an error the last good drawing and player stay, marked stale (greyed, with a note).
function markStale(stale) {
  for (const id of ["lab-graph", "lab-step-graph"]) {
    $(id).classList.toggle("stale", stale);
    $(id).dataset.stale = String(stale);
  }
  $("lab-stale").hidden = !stale;
  if (stale) {
    stopPlaying();
    $("lab-step-caption").textContent = "stale — fix the error and run again";
  }
}

async function runLab() {
  $("lab-run").disabled = true;
  try {
    const maxNodes = Number($("lab-max-nodes").value) || null;
    const r = await ask("lab", { source: $("lab-code").value, max_nodes: maxNodes, cluster: $("lab-cluster").checked });
    showError($("lab-error"), r.ok ? "" : r.error);
    $("lab-output").textContent = r.stdout || "";
    $("lab-output").hidden = !r.stdout;
    if (!r.ok) { markStale(true); return; }
    await draw($("lab-graph"), r.dot);
    $("lab-graph").dataset.runs = String(Number($("lab-graph").dataset.runs || 0) + 1);
    lab.frames = { forward: r.forward, backward: r.backward };
    markStale(false);
    $("lab-step-caption").textContent = r.frames_note || "";
    await showFrame(0);
  } catch (e) {
    showError($("lab-error"), e.message);
    markStale(true);
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
  if ($("lab-graph").dataset.stale !== "true") $("lab-step-caption").textContent = `step ${lab.step + 1}/${frames.length}`;
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
$("lab-max-nodes").addEventListener("change", runLab);
$("lab-cluster").addEventListener("change", runLab);
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

// The page's state for tests and users' own automation (docs/browser.md).
window.chalkgrad = { playground, toPixel, ask, pending: pendingCount };

// --- start ---------------------------------------------------------------------------------------
(async () => {
  try {
    const hello = await ask("init");
    lab.example = hello.example;
    if (!$("lab-code").value) $("lab-code").value = hello.example;
    $("lab-max-nodes").value = hello.max_nodes;
    $("lab-run").disabled = false;
    await runLab();
    initPlayground(hello);
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
