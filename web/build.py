"""Build chalkgrad's browser site (docs/browser.md) into web/dist/: one static folder, no server code.

    python web/build.py            # npm ci (pinned pyodide, @viz-js/viz), pip download graphviz, copy, zip
    python web/build.py --if-stale # only when an input changed since the last build (what the tests use)
    python web/build.py --serve    # then serve web/dist on http://127.0.0.1:8000/ (Ctrl+C stops)

Inputs: web/package.json + package-lock.json (npm registry), web/requirements.txt (PyPI, with hash),
web/src/ (the page), web/py/chalkweb/ (its Python), and the working tree's autograd/ and nn/.
The built page fetches only files inside its own folder.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
DIST = WEB / "dist"
CACHE = WEB / ".cache"
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
VIZ_FILE = "viz-global.js"
STAMP = ".build-stamp"
MIME = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
        ".zip": "application/zip", ".whl": "application/zip", ".json": "application/json"}


def inputs() -> list[Path]:
    """Every file the build reads from the repository (their contents decide whether it is stale)."""
    files = [WEB / "package.json", WEB / "package-lock.json", WEB / "requirements.txt", Path(__file__).resolve()]
    files += sorted(p for p in (WEB / "src").rglob("*") if p.is_file())
    for pkg in (ROOT / "autograd", ROOT / "nn", WEB / "py" / "chalkweb"):
        files += sorted(p for p in pkg.rglob("*.py") if "__pycache__" not in p.parts)
    return files


def fingerprint() -> str:
    h = hashlib.sha256()
    for p in inputs():
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def is_stale() -> bool:
    stamp = DIST / STAMP
    return not stamp.exists() or stamp.read_text().strip() != fingerprint()


def npm_ci() -> None:
    """node_modules exactly as package-lock.json says (skipped when npm's own record matches the lock)."""
    record = WEB / "node_modules" / ".package-lock.json"
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]
    if record.exists() and json.loads(record.read_text())["packages"].keys() == {k for k in lock if k}:
        installed = json.loads(record.read_text())["packages"]
        if all(installed[k].get("version") == v.get("version") for k, v in lock.items() if k):
            return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("build.py: npm not found; install Node.js and npm (Debian: apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True)


def graphviz_wheel() -> Path:
    """The pinned graphviz wheel from PyPI (pip checks the hash in requirements.txt)."""
    wheels = CACHE / "wheels"
    pin = next(line.split()[0] for line in (WEB / "requirements.txt").read_text().splitlines()
               if line.startswith("graphviz=="))
    name = f"graphviz-{pin.split('==')[1]}-py3-none-any.whl"
    if not (wheels / name).exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "-q", "-r", str(WEB / "requirements.txt"),
                        "-d", str(wheels)], check=True)
    return wheels / name


def python_zip(dest: Path) -> None:
    """autograd, nn (from the working tree) and chalkweb, as one zip unpacked into Pyodide's file system."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for base, pkg in ((ROOT, "autograd"), (ROOT, "nn"), (WEB / "py", "chalkweb")):
            for p in sorted((base / pkg).rglob("*.py")):
                if "__pycache__" not in p.parts:
                    z.write(p, p.relative_to(base).as_posix())


def build() -> None:
    npm_ci()
    wheel = graphviz_wheel()
    modules = WEB / "node_modules"
    for old in DIST.glob("*") if DIST.exists() else []:
        if old.name != "lite":  # web/dist/lite/ is web/lite.py's, rebuilt on its own
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    (DIST / "pyodide").mkdir(parents=True)
    (DIST / "vendor").mkdir()
    (DIST / "py").mkdir()
    for f in PYODIDE_FILES:
        shutil.copy2(modules / "pyodide" / f, DIST / "pyodide" / f)
    shutil.copy2(modules / "@viz-js" / "viz" / "dist" / VIZ_FILE, DIST / "vendor" / VIZ_FILE)
    shutil.copytree(WEB / "src", DIST, dirs_exist_ok=True)
    python_zip(DIST / "py" / "chalkgrad.zip")
    shutil.copy2(wheel, DIST / "py" / "graphviz.whl")
    versions = {name: json.loads((modules / name / "package.json").read_text())["version"]
                for name in ("pyodide", "@viz-js/viz")}
    versions["graphviz"] = wheel.name.split("-")[1]
    (DIST / "versions.json").write_text(json.dumps(versions, indent=1) + "\n")
    (DIST / STAMP).write_text(fingerprint() + "\n")
    print(f"built {DIST.relative_to(ROOT)}/ (pyodide {versions['pyodide']}, @viz-js/viz {versions['@viz-js/viz']}, "
          f"graphviz {versions['graphviz']})")


class Handler(http.server.SimpleHTTPRequestHandler):
    """A static file server that names module scripts and wasm by their types on any Python."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}

    def log_message(self, *args: object) -> None:  # quiet: one line per file would drown the terminal
        pass


def serve(port: int) -> None:
    handler = functools.partial(Handler, directory=str(DIST))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {DIST} on http://127.0.0.1:{port}/ (Ctrl+C stops)")
        httpd.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--if-stale", action="store_true", help="build only when an input changed")
    parser.add_argument("--serve", action="store_true", help="serve web/dist/ after building")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if not args.if_stale or is_stale():
        build()
    if args.serve:
        serve(args.port)


if __name__ == "__main__":
    main()
