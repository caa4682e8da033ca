"""Fixtures the system tests share: a built folder served on a local port, and a page of the system's headless
Chromium (Playwright, never a downloaded browser) in which every request that is not to that server is blocked."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHALKGRAD_CHROMIUM", "/usr/bin/chromium")
# every host name fails to resolve in the browser, service workers included; the route below also records
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="module")
def serve():
    """``serve(folder, handler)`` -> the URL of ``folder`` served from a local thread by ``handler`` (web/build.py's
    Handler: the types Pyodide needs), until the module's tests are done."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder, handler) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def built_site(serve):
    """``built_site(script, stale, folder, handler, timeout)`` -> the URL of ``folder`` served (see ``serve``),
    after ``python script --if-stale`` when ``stale``; skips, saying so, when it is stale and Node.js/npm (which
    the build needs) is missing."""

    def build_and_serve(script: Path, stale: bool, folder: Path, handler, timeout: float) -> str:
        if stale and not (shutil.which("npm") and shutil.which("node")):
            pytest.skip(f"{folder.relative_to(ROOT).as_posix()}/ needs building and Node.js/npm is missing "
                        "(Debian: apt-get install nodejs npm)")
        if stale:
            subprocess.run([sys.executable, str(script), "--if-stale"], check=True, timeout=timeout)
        return serve(folder, handler)

    return build_and_serve


@pytest.fixture(scope="module")
def offline_page():
    """``offline_page(site, **context_options)`` -> {"context", "page", "outside", "local", "errors"}: a new page
    of one headless Chromium for the module, whose requests outside ``site`` are blocked and listed in
    ``outside`` (those to it in ``local``), and whose uncaught errors are listed in ``errors``.  Skips, saying
    why, where playwright or Chromium is missing."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright (PyPI) is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def open_page(site: str, **context_options) -> dict:
            outside: list[str] = []
            local: list[str] = []
            errors: list[str] = []

            def route(r):
                if r.request.url.startswith(site):
                    local.append(r.request.url)
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            context = chromium.new_context(**context_options)
            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            return {"context": context, "page": page, "outside": outside, "local": local, "errors": errors}

        yield open_page
        chromium.close()
