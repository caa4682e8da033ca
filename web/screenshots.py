"""Take the README's screenshots of the built site: ``python web/screenshots.py`` -> docs/images/browser_*.png.

Builds web/dist/ if stale, serves it on 127.0.0.1, and drives the system's Chromium with Playwright
(every request outside the local server is blocked, as in tests/system/test_browser.py).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import build

OUT = build.ROOT / "docs" / "images"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(chromium: str = "/usr/bin/chromium") -> list[Path]:
    from playwright.sync_api import sync_playwright

    if build.is_stale():
        build.build()
    handler = functools.partial(build.Handler, directory=str(build.DIST))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
        page.goto(url + "#lab")
        page.wait_for_function("document.getElementById('status').dataset.ready === 'true'", timeout=180_000)
        for _ in range(4):  # a backward step in the middle: some gradients known (red), the rest not yet
            page.click("#lab-step-next")
        page.wait_for_function("document.getElementById('lab-step-caption').textContent === 'step 5/10'")
        shots.append(OUT / "browser_lab.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        page.click("#tab-playground")
        page.select_option("#pg-speed", "0")  # full speed: the spiral learns in seconds instead of a minute
        page.click("#pg-train")
        page.wait_for_function("Number(document.getElementById('pg-accuracy').dataset.value) >= 0.97", timeout=180_000)
        page.click("#pg-pause")
        page.wait_for_function("chalkgrad.pending() === 0")
        # the point nearest the boundary: its loss, and so its gradients, are not zero
        scores = page.evaluate("chalkgrad.ask('scores')")
        k = min(range(len(scores)), key=lambda i: abs(scores[i]))
        x, y = page.evaluate(f"chalkgrad.toPixel(chalkgrad.playground.points[{k}])")
        page.click("#pg-heatmap", position={"x": x, "y": y})
        page.wait_for_function(f"document.getElementById('pg-sample-graph').dataset.index === '{k}'")
        page.click("#pg-node-1-3")  # a hidden neuron: its graph and its formula with this sample's numbers
        page.wait_for_function("document.getElementById('pg-neuron').dataset.neuron === '1,3'")
        page.wait_for_function("chalkgrad.pending() === 0")
        shots.append(OUT / "browser_playground.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        browser.close()
    server.shutdown()
    return shots


if __name__ == "__main__":
    for shot in main():
        print(shot.relative_to(build.ROOT))
