"""Build the exercises' JupyterLite site (docs/browser.md) into web/dist/lite/: static files, no server code.

    python web/lite.py                  # build web/dist/lite/ offline from pinned inputs
    python web/lite.py --if-stale       # only when an input changed since the last build (what the tests use)
    python web/lite.py --serve          # then serve it on http://127.0.0.1:8000/ (Ctrl+C stops)
    python web/lite.py --numpy-from-cdn # for a hosted site only: numpy fetched from Pyodide's CDN (off by default)

Inputs: Pyodide from web/package-lock.json (npm), the kernel's wheels pinned with sha256 in
web/lite-requirements.txt (PyPI), chalkgrad's own wheel built here from the working tree's autograd/ and nn/,
the exercise hand-outs made by ``python -m autograd.exercises student`` from notebooks/exercises/ (never the
masters), and the lecture notebooks that need nothing the site lacks. jupyterlite-core and
jupyterlite-pyodide-kernel (the `dev` extra) assemble the site; nothing is fetched from any CDN.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build  # noqa: E402  web/build.py: npm ci and the static server are shared

WEB = build.WEB
ROOT = build.ROOT
OUT = build.DIST / "lite"
CACHE = build.CACHE / "lite"
REQUIREMENTS = WEB / "lite-requirements.txt"
EXERCISES = ROOT / "notebooks" / "exercises"
LECTURES = ROOT / "notebooks"
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
KERNEL_SETTINGS = f"{KERNEL_EXTENSION}:kernel"
PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"
EMSCRIPTEN = {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
              "python_version": "3.14", "python_full_version": "3.14.2", "implementation_name": "cpython",
              "platform_machine": "wasm32", "extra": ""}
DRAWING = re.compile(r"\b(draw_dot|forward_frames|backward_frames|player)\(|\.draw\(")
NEEDS_NUMPY = re.compile(r"\bnn\.(fit|prepare_fit|datasets|plot|evaluate|predict)\b|\.batch\(")
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.M)
STAMP = build.STAMP
PRELOAD = ["micropip", "piplite", "ipykernel", "pyodide-kernel", "comm", "jedi", "ipython", "chalkgrad"]


# --- inputs ---------------------------------------------------------------------------------------
def inputs() -> list[Path]:
    """Every repository file the site is built from (their contents decide whether it is stale)."""
    files = [WEB / "package-lock.json", REQUIREMENTS, Path(__file__).resolve(), ROOT / "setup.cfg"]
    files += sorted(EXERCISES.glob("*.ipynb")) + sorted(LECTURES.glob("*.ipynb"))
    for pkg in (ROOT / "autograd", ROOT / "nn"):
        files += sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def fingerprint(numpy_from_cdn: bool = False) -> str:
    h = hashlib.sha256(b"numpy-from-cdn" if numpy_from_cdn else b"offline")
    for p in inputs():
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def is_stale(numpy_from_cdn: bool = False) -> bool:
    stamp = OUT / STAMP
    return not stamp.exists() or stamp.read_text().strip() != fingerprint(numpy_from_cdn)


def kernel_wheels() -> list[Path]:
    """The wheels pinned in lite-requirements.txt, downloaded for Python 3.14 (pip checks every sha256)."""
    wheels = CACHE / "wheels"
    pins = [line.split()[0] for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    found = {_normalize(p.name.split("-")[0]) + "==" + p.name.split("-")[1]: p for p in wheels.glob("*.whl")}
    if not all(_normalize(pin.split("==")[0]) + "==" + pin.split("==")[1] in found for pin in pins):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.14", "--disable-pip-version-check", "-q",
                        "-r", str(REQUIREMENTS), "-d", str(wheels)], check=True)
        found = {_normalize(p.name.split("-")[0]) + "==" + p.name.split("-")[1]: p for p in wheels.glob("*.whl")}
    return [found[_normalize(pin.split("==")[0]) + "==" + pin.split("==")[1]] for pin in pins]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def chalkgrad_wheel(dest: Path) -> Path:
    """A pure wheel of the working tree's autograd and nn (with nn's data files), byte-for-byte reproducible.

    Its metadata names no dependencies: numpy, tqdm and graphviz are not in the site (docs/browser.md)."""
    version = re.search(r'^__version__ = "([^"]+)"', (ROOT / "autograd" / "__init__.py").read_text(), re.M)
    assert version, "autograd/__init__.py names no __version__"
    name = f"chalkgrad-{version.group(1)}"
    files = {p.relative_to(ROOT).as_posix(): p.read_bytes()
             for pkg in ("autograd", "nn") for p in sorted((ROOT / pkg).rglob("*.py")) if "__pycache__" not in p.parts}
    files |= {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in sorted((ROOT / "nn" / "data").glob("*.json"))}
    files[f"{name}.dist-info/METADATA"] = (f"Metadata-Version: 2.1\nName: chalkgrad\nVersion: {version.group(1)}\n"
                                           "Summary: chalkgrad for the JupyterLite site (no dependencies)\n").encode()
    files[f"{name}.dist-info/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: web/lite.py\nRoot-Is-Purelib: true\n"
                                        b"Tag: py3-none-any\n")
    files[f"{name}.dist-info/top_level.txt"] = b"autograd\nnn\n"
    record = [f"{path},sha256={_urlsafe_sha256(data)},{len(data)}" for path, data in files.items()]
    files[f"{name}.dist-info/RECORD"] = ("\n".join([*record, f"{name}.dist-info/RECORD,,"]) + "\n").encode()
    wheel = dest / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return wheel


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# --- the Pyodide distribution: npm's core plus our wheels, with a lock that lists only those ----------
def wheel_metadata(wheel: Path) -> tuple[str, str, list[str], list[str]]:
    """(name, version, dependencies under Pyodide, top-level import names) read from a wheel."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = z.read(meta_name).decode()
        tops = sorted({n.split("/")[0].removesuffix(".py") for n in z.namelist()
                       if not n.split("/")[0].endswith((".dist-info", ".data")) and (n.endswith(".py") or "/" in n)})
    name = re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
    version = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()  # type: ignore[union-attr]
    depends = []
    for line in re.findall(r"^Requires-Dist: (.+)$", meta, re.M):
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(EMSCRIPTEN):
            depends.append(_normalize(req.name))
    return name, version, depends, tops


def site_lock(upstream: dict[str, Any], wheels: list[Path], chalkgrad: Path, numpy_from_cdn: bool,
              pyodide_version: str) -> dict[str, Any]:
    """pyodide-lock.json for the site: an entry per shipped wheel (sha256 of the file shipped), nothing else.

    Entries the npm lock has keep its import names and must have its version; comm and
    ipython-pygments-lexers, which it lacks, are added. chalkgrad has no dependencies."""
    packages: dict[str, Any] = {}
    for wheel in wheels:
        name, version, depends, tops = wheel_metadata(wheel)
        key = _normalize(name)
        entry = dict(upstream["packages"].get(key) or {"name": name, "imports": tops, "install_dir": "site",
                                                         "package_type": "package", "unvendored_tests": False,
                                                         "tool": {}})
        if entry.get("version", version) != version:
            sys.exit(f"lite.py: {REQUIREMENTS.name} pins {name}=={version} but pyodide {pyodide_version}'s lock "
                     f"has {entry['version']}; pin the lock's version")
        entry.update(version=version, file_name=wheel.name, sha256=_sha256(wheel), depends=depends)
        packages[key] = entry
    missing = {d for e in packages.values() for d in e["depends"]} - set(packages)
    if missing:
        sys.exit(f"lite.py: {REQUIREMENTS.name} lacks {', '.join(sorted(missing))} (needed by the pinned wheels)")
    packages["chalkgrad"] = {"name": "chalkgrad", "version": wheel_metadata(chalkgrad)[1], "file_name": chalkgrad.name,
                             "sha256": _sha256(chalkgrad), "depends": [], "imports": ["autograd", "nn"],
                             "install_dir": "site", "package_type": "package", "unvendored_tests": False, "tool": {}}
    if numpy_from_cdn:
        numpy = dict(upstream["packages"]["numpy"])
        numpy["file_name"] = PYODIDE_CDN.format(version=pyodide_version) + numpy["file_name"]
        packages["numpy"] = numpy
    return {"info": upstream["info"], "packages": dict(sorted(packages.items()))}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_pyodide(dest: Path, numpy_from_cdn: bool) -> dict[str, str]:
    """Pyodide's core (npm), the pinned wheels, the kernel's own (piplite, pyodide-kernel, ipykernel, from
    jupyterlite-pyodide-kernel) and chalkgrad's wheel in ``dest``; returns the versions."""
    npm = WEB / "node_modules" / "pyodide"
    pyodide_version = json.loads((npm / "package.json").read_text())["version"]
    dest.mkdir(parents=True)
    for f in build.PYODIDE_FILES:
        if f != "pyodide-lock.json":
            shutil.copy2(npm / f, dest / f)
    wheels = kernel_wheels() + sorted((kernel_extension() / "static" / "pypi").glob("*.whl"))
    wheels = [w for w in wheels if not w.name.startswith("widgetsnbextension")]  # no widgets in the site
    for w in wheels:
        shutil.copy2(w, dest / w.name)
    chalkgrad = chalkgrad_wheel(dest)
    lock = site_lock(json.loads((npm / "pyodide-lock.json").read_text()), wheels, chalkgrad, numpy_from_cdn,
                     pyodide_version)
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n")
    return {"pyodide": pyodide_version, **{k: v["version"] for k, v in lock["packages"].items()}}


# --- the notebooks ------------------------------------------------------------------------------------
def _code(nb: dict[str, Any]) -> str:
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in nb["cells"] if c["cell_type"] == "code")


def imported_modules(code: str) -> set[str]:
    """Top-level modules a notebook's code imports (``import a, b.c`` and ``from a.b import c``)."""
    names = set(re.findall(r"^\s*from\s+([A-Za-z_]\w*)", code, re.M))
    for group in re.findall(r"^\s*import\s+([\w., ]+)", code, re.M):
        names |= {part.split()[0].split(".")[0] for part in group.split(",") if part.strip()}
    return names


def verdict(path: Path, available: set[str]) -> str | None:
    """None when the notebook at ``path`` runs in the site, else why it is left out."""
    code = _code(json.loads(path.read_text(encoding="utf-8")))
    reasons = []
    missing = sorted(imported_modules(code) - available)
    if missing:
        reasons.append(f"imports {', '.join(missing)}, which the site does not have")
    elif NEEDS_NUMPY.search(code) and "numpy" not in available:
        reasons.append("uses nn's numpy-based parts (fit, datasets, evaluate, predict, plot or the batched tape)")
    if DRAWING.search(code):
        reasons.append("draws graphs with Graphviz, whose dot program does not run in the browser")
    return "; ".join(reasons) or None


def lecture_verdicts(available: set[str]) -> dict[str, str | None]:
    """Each lecture notebook's file name -> None when it runs in the site, else why it is left out."""
    return {path.name: verdict(path, available) for path in sorted(LECTURES.glob("*.ipynb"))}


def stage_contents(dest: Path, available: set[str]) -> tuple[list[Path], dict[str, str | None]]:
    """exercises/ (student versions, made by the project's own command) and lectures/ in ``dest``."""
    exercises = dest / "exercises"
    subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(EXERCISES), str(exercises)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=_with_root_on_path())
    handouts = sorted(exercises.glob("*.ipynb"))
    for p in handouts:  # the masters must never reach the site
        if "### BEGIN SOLUTION" in p.read_text(encoding="utf-8"):
            sys.exit(f"lite.py: {p.name} still holds a solution; refusing to publish it")
    verdicts = {f"exercises/{p.name}": verdict(p, available) for p in handouts}
    for p in handouts:
        if verdicts[f"exercises/{p.name}"]:
            p.unlink()
    handouts = [p for p in handouts if p.exists()]
    verdicts = {n: r for n, r in verdicts.items() if r} | lecture_verdicts(available)
    (dest / "lectures").mkdir()
    for name, reason in verdicts.items():
        if reason is None:
            shutil.copy2(LECTURES / name, dest / "lectures" / name)
    return handouts, verdicts


def _with_root_on_path() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _title(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = re.search(r"^#\s+(.+)$", text, re.M)
        if cell["cell_type"] == "markdown" and heading:
            return heading.group(1).strip()
    return path.stem


def landing_page(handouts: list[Path], verdicts: dict[str, str | None], versions: dict[str, str],
                 numpy_from_cdn: bool) -> str:
    """The site's index.html: the hand-outs, the lecture notebooks in it and those left out, and why.

    It replaces JupyterLite's root page, a redirect, and keeps that page's (empty) config script, which
    every app page reads from the root."""
    def link(folder: str, p: Path) -> str:
        return (f'<li><a href="notebooks/index.html?path={folder}/{p.name}">{html.escape(_title(p))}</a> '
                f"<code>{folder}/{p.name}</code></li>")

    lectures = [LECTURES / n for n, r in verdicts.items() if r is None]
    left_out = "".join(f"<li><code>{n}</code>: {html.escape(r)}</li>" for n, r in verdicts.items() if r)
    numpy_note = ("This build fetches numpy from Pyodide's CDN (<code>--numpy-from-cdn</code>)." if numpy_from_cdn
                  else "numpy is not in this site: Pyodide's npm package, the site's only source of Python, "
                       "does not include it, and the site fetches nothing from other hosts.")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>chalkgrad exercises in the browser</title>
<script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">{{}}</script>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}}
code{{font-size:.9em;color:#555}} li{{margin:.3rem 0}}</style></head>
<body>
<h1>chalkgrad exercises in the browser</h1>
<p>Each notebook opens in JupyterLite: Python (Pyodide {html.escape(versions['pyodide'])}) and chalkgrad run in this
page, nothing to install. The first start loads about 25 MB and takes 10&ndash;30 s; later starts come from the
browser's cache. Run a cell with Shift+Enter; each exercise's check cell prints &#10003; when your code is right and
one line saying what is wrong when it is not.</p>
<p><b>Your work stays in this browser</b> (its local storage, until you clear it). To hand in, use
<i>File &#9656; Download</i> in the notebook and send the <code>.ipynb</code> file: the grading information in it
is kept, so your instructor's nbgrader grades it as it is.</p>
<h2>Exercises</h2>
<ul>{''.join(link('exercises', p) for p in handouts)}</ul>
<h2>Lecture notebooks</h2>
<ul>{''.join(link('lectures', p) for p in lectures) or '<li>none in this build</li>'}</ul>
<p>Left out, because they need what the browser site does not have:</p>
<ul>{left_out or '<li>none</li>'}</ul>
<p>{numpy_note} Without numpy, <code>nn</code> builds and trains models (modules, losses, optimisers);
<code>nn.fit</code>, <code>nn.datasets</code> and the batched tape need it. Run those notebooks in a local
install (<code>pip install chalkgrad</code>, see the README).</p>
<p><a href="lab/index.html">All files in JupyterLab</a> &middot; <a href="../">chalkgrad's expression lab and
training playground</a></p>
</body></html>
"""


# --- JupyterLite ------------------------------------------------------------------------------------
def kernel_extension() -> Path:
    """The Pyodide kernel's prebuilt JupyterLab extension, installed with jupyterlite-pyodide-kernel."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("labextensions"):
        if (Path(base) / KERNEL_EXTENSION / "package.json").exists():
            return Path(base) / KERNEL_EXTENSION
    sys.exit("lite.py: jupyterlite-pyodide-kernel is not installed (pip install -e '.[dev]')")


def jupyter_lite_build(lite_dir: Path, contents: Path, numpy_from_cdn: bool) -> None:
    """``jupyter lite build`` with only the Pyodide kernel's extension (nothing else installed leaks in)."""
    # everything the kernel installs at its start, loaded at once with Pyodide (not one by one by piplite)
    packages = [*PRELOAD, "numpy"] if numpy_from_cdn else PRELOAD
    config = {"jupyter-lite-schema-version": 0, "jupyter-config-data": {
        "appName": "chalkgrad exercises", "exposeAppInBrowser": True,  # window.jupyterapp, for automation
        "litePluginSettings": {KERNEL_SETTINGS: {"loadPyodideOptions": {"packages": packages},
                                                 "disablePyPIFallback": True}}}}
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=1) + "\n")
    (lite_dir / "jupyter_lite_config.json").write_text(json.dumps({"LiteBuildConfig": {
        "contents": [str(contents)], "output_dir": str(OUT), "no_sourcemaps": True, "ignore_sys_prefix": True,
        "federated_extensions": [str(kernel_extension())], "apps": ["lab", "notebooks", "tree"],
        "no_unused_shared_packages": True}}, indent=1) + "\n")
    subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite_dir)],
                   check=True, cwd=lite_dir)


def site_build(numpy_from_cdn: bool = False) -> None:
    build.npm_ci()
    if CACHE.exists():
        shutil.rmtree(CACHE / "stage", ignore_errors=True)
    lite_dir = CACHE / "stage"
    versions = stage_pyodide(lite_dir / "static" / "pyodide", numpy_from_cdn)
    lock = json.loads((lite_dir / "static" / "pyodide" / "pyodide-lock.json").read_text())
    available = set(sys.stdlib_module_names) | {i for e in lock["packages"].values() for i in e["imports"]}
    handouts, verdicts = stage_contents(lite_dir / "content", available)
    if OUT.exists():
        shutil.rmtree(OUT)
    jupyter_lite_build(lite_dir, lite_dir / "content", numpy_from_cdn)
    (OUT / "index.html").write_text(landing_page(handouts, verdicts, versions, numpy_from_cdn), encoding="utf-8")
    (OUT / "versions.json").write_text(json.dumps(versions, indent=1) + "\n")
    (OUT / STAMP).write_text(fingerprint(numpy_from_cdn) + "\n")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    left = sum(r is not None for r in verdicts.values())
    print(f"built {OUT.relative_to(ROOT)}/ ({size / 1e6:.1f} MB; pyodide {versions['pyodide']}; "
          f"{len(handouts)} exercise hand-outs, {len(verdicts) - left} lecture notebooks, {left} left out)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--if-stale", action="store_true", help="build only when an input changed")
    parser.add_argument("--serve", action="store_true", help="serve web/dist/lite/ after building")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--numpy-from-cdn", action="store_true",
                        help="hosted sites only: let notebooks import numpy, fetched from Pyodide's CDN")
    args = parser.parse_args(argv)
    if not args.if_stale or is_stale(args.numpy_from_cdn):
        site_build(args.numpy_from_cdn)
    if args.serve:
        handler = functools.partial(build.Handler, directory=str(OUT))
        with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as httpd:
            print(f"serving {OUT} on http://127.0.0.1:{args.port}/ (Ctrl+C stops)")
            httpd.serve_forever()


if __name__ == "__main__":
    main()
