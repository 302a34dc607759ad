"""Drive notebooks the way a reader meets them: JupyterLab or Voila in headless Chromium.

`check_page` runs a loaded notebook page's sliders one step each and reports
every problem it sees (a slider that does not render, one whose output does
not change, a traceback anywhere on the page). Servers are started on
127.0.0.1 on a free port and always stopped, with their kernels.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
SLIDER_CALL = re.compile(r"\b\w*Slider\(")

# Text, image sources and canvas pixels of every Output and HTML widget (where views draw; the
# sliders' own readouts are outside them): what "the output changed" compares.
SNAPSHOT_JS = """() => Array.from(document.querySelectorAll('.widget-output, .widget-html')).map(el => {
  const imgs = Array.from(el.querySelectorAll('img')).map(i => i.src.length + ':' + i.src.slice(-200));
  const canvases = Array.from(el.querySelectorAll('canvas')).map(c => {
    try { return c.toDataURL().slice(-200); } catch (e) { return 'canvas'; } });
  return el.innerText + '|' + imgs.join(',') + '|' + canvases.join(',');
}).join('\\n')"""


def expected_sliders(notebook: Path) -> int:
    """How many sliders the notebook's code constructs (one per `...Slider(` call)."""
    cells = json.loads(notebook.read_text())["cells"]
    return sum(len(SLIDER_CALL.findall("".join(c["source"]))) for c in cells if c["cell_type"] == "code")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


def lab_settings(root: Path) -> dict:
    """Environment for a JupyterLab that fetches no news, renders every cell, never autosaves."""
    settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for name, value in settings.items():
        path = root / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    (root / "workspaces").mkdir(exist_ok=True)
    return {
        "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
    }


@contextlib.contextmanager
def server(kind: str, root_dir: Path):
    """Start `jupyter lab` or `voila` serving root_dir on 127.0.0.1; yield its base URL; stop it."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **lab_settings(Path(tmp))}
        if kind == "lab":
            cmd = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", f"--port={port}",
                   "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
                   "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root_dir}"]
            probe = f"http://127.0.0.1:{port}/api/status"
        else:
            cmd = [str(BIN / "voila"), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                   "--VoilaConfiguration.multi_kernel_manager_class="
                   "jupyter_server.services.kernels.kernelmanager.MappingKernelManager",
                   f"--Voila.root_dir={root_dir}", str(root_dir)]
            probe = f"http://127.0.0.1:{port}/voila/static/voila.js"
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
        try:
            wait_http(probe, timeout=60)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def delete_sessions(base: str) -> None:
    """Stop every kernel the page started: closing a page leaves its kernel running."""
    with urllib.request.urlopen(f"{base}/api/sessions") as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(request).close()


def wait_stable_snapshot(page, before: str, timeout: float = 15.0) -> str:
    """Wait until the outputs differ from `before` and hold still for 0.5 s; return them."""
    deadline = time.monotonic() + timeout
    last, since = page.evaluate(SNAPSHOT_JS), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = page.evaluate(SNAPSHOT_JS)
        if now != last:
            last, since = now, time.monotonic()
        elif last != before and time.monotonic() - since > 0.5:
            return last
    return last


def move_sliders(page, expected: int, label: str, render_timeout: float = 30.0) -> list[str]:
    """Wait up to render_timeout seconds for the expected sliders, move every slider one step; return the
    problems seen."""
    problems = []
    sliders = page.locator(".widget-slider")
    try:
        page.wait_for_function(
            f"document.querySelectorAll('.widget-slider').length >= {expected}", timeout=render_timeout * 1000
        )
    except Exception:  # Playwright's TimeoutError: reported below with the count
        pass
    count = sliders.count()
    if count < expected:
        problems.append(f"{label}: {count} sliders rendered, {expected} expected")
    for i in range(count):
        slider = sliders.nth(i)
        slider.scroll_into_view_if_needed()
        name = slider.locator(".widget-label").first.inner_text().strip() or f"slider {i}"
        readout = slider.locator(".widget-readout").first
        value_before = readout.inner_text() if readout.count() else ""
        handle = slider.locator(".noUi-handle").first
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        before = page.evaluate(SNAPSHOT_JS)
        handle.focus()
        # Two tries: right after a Voila page loads, the first change is now and then not
        # echoed into its Output widget; a slider that is really dead fails both.
        for _ in range(2):
            page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
            after = wait_stable_snapshot(page, before, timeout=12.0)
            if after != before:
                break
        if readout.count() and readout.inner_text() == value_before:
            problems.append(f"{label}: slider '{name}' did not move")
        elif after == before:
            problems.append(f"{label}: slider '{name}' moved but its output did not change")
    return problems


def tracebacks(page, label: str) -> list[str]:
    text = page.locator("body").inner_text()
    return [f"{label}: a traceback is shown on the page"] if "Traceback" in text else []


def check_lab(context, base: str, notebook: Path, rel: str, shots: Path) -> list[str]:
    """Open the notebook in JupyterLab, run all cells, move every slider; return problems."""
    page = context.new_page()
    label = f"lab/{notebook.parent.name}/{notebook.stem}"  # the folder tells the editions apart
    try:
        page.goto(f"{base}/lab/tree/{rel}?reset")
        page.wait_for_function(
            "() => { const s = document.querySelector('#jp-main-statusbar');"
            " return s && /\\| Idle/.test(s.innerText) && !/No Kernel/.test(s.innerText); }",
            timeout=90_000,
        )
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
        page.wait_for_function(
            "() => { const p = Array.from(document.querySelectorAll('.jp-InputArea-prompt'));"
            " const s = document.querySelector('#jp-main-statusbar');"
            " return p.length && p.every(e => !e.innerText.includes('*'))"
            " && /\\| Idle/.test(s.innerText); }",
            timeout=180_000,
        )
        page.screenshot(path=str(shots / f"{label.replace('/', '_')}_before.png"), full_page=True)
        problems = move_sliders(page, expected_sliders(notebook), label)
        page.screenshot(path=str(shots / f"{label.replace('/', '_')}_after.png"), full_page=True)
        return problems + tracebacks(page, label)
    finally:
        page.close()
        delete_sessions(base)


def check_voila(context, base: str, notebook: Path, rel: str, shots: Path) -> list[str]:
    """Render the notebook as a Voila app (code hidden), move every slider; return problems.

    A page whose sliders all moved but some output did not change is loaded once more, with a kernel of
    its own, and only the second load's problems count; the first load's are a warning (pytest lists it
    at the end of the run). Now and then a Voila page echoes none of its slider changes (twice at stop 19
    with two test files side by side, once in a run one test at a time on a 2-core Intel Xeon; the same
    page passed when loaded again), as a reader who reloads would see too. A slider that does not move,
    one that never renders, a traceback and a slider whose callback changes nothing on either load still
    fail.
    """
    problems = _voila_page(context, base, notebook, rel, shots)
    if problems and all(p.endswith("its output did not change") for p in problems):
        warnings.warn(f"voila/{rel}: first load: {problems}; loaded the page again", stacklevel=2)
        problems = _voila_page(context, base, notebook, rel, shots)
    return problems


def _voila_page(context, base: str, notebook: Path, rel: str, shots: Path) -> list[str]:
    page = context.new_page()
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    label = f"voila/{notebook.parent.name}/{notebook.stem}"
    try:
        page.goto(f"{base}/voila/render/{rel}", wait_until="commit", timeout=180_000)
        page.wait_for_selector("#rendered_cells", state="visible", timeout=180_000)
        page.wait_for_selector("#loading", state="detached", timeout=180_000)
        page.screenshot(path=str(shots / f"{label.replace('/', '_')}_before.png"), full_page=True)
        # The cells have run; Voila's front end now builds the widgets from the kernel's models, which
        # once took longer than 30 s (0 sliders, at the end of a CI run; the same page rendered them at
        # once when run again): it gets the page's own time.
        problems = move_sliders(page, expected_sliders(notebook), label, render_timeout=180.0)
        page.screenshot(path=str(shots / f"{label.replace('/', '_')}_after.png"), full_page=True)
        return problems + tracebacks(page, label)
    finally:
        page.goto("about:blank")  # lets Voila's unload handler shut the kernel down
        page.close()


@contextlib.contextmanager
def browser_context():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


@contextlib.contextmanager
def static_server(folder: Path):
    """Serve folder over HTTP on 127.0.0.1 (a free port) from a thread; yield its base URL; stop it."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the test reports failed requests itself
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()
            thread.join()


# The picture of a static slider (its frame's markup: an image's source or the text shown), the readout
# of each control, and whether the picture has loaded (an image that failed to load rejects decode()).
STATIC_SNAPSHOT_JS = """async (box) => {
  const frame = box.querySelector('.static-frame');
  const img = frame.querySelector('img');
  let loaded = true;
  if (img) { try { await img.decode(); } catch (e) { loaded = false; } }
  const readouts = Array.from(box.querySelectorAll('[data-control]')).map(c =>
    c.tagName === 'SELECT' ? c.value : c.nextElementSibling.textContent);
  return {picture: frame.innerHTML, readouts: readouts, loaded: loaded};
}"""


def check_static_page(context, url: str, label: str, shots: Path) -> tuple[list[str], int]:
    """Open a page of the static site and move every control of every slider through each of its
    values; return the problems seen and how many range sliders the page has.

    Problems: a move that changes no readout or no picture, a picture that does not load, any console
    error or uncaught exception, any failed request, and any request off this machine (blocked).
    """
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"{label}: console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{label}: uncaught {e}"))
    page.on("requestfailed", lambda r: problems.append(f"{label}: request failed: {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "file:")) else None)
    page.on("response", lambda r: problems.append(f"{label}: {r.status} for {r.url}")
            if r.status >= 400 else None)

    def local_only(route):
        if route.request.url.startswith(("http://127.0.0.1", "file:", "data:")):
            route.continue_()
        else:
            problems.append(f"{label}: asked the network for {route.request.url}")
            route.abort()

    page.route("**/*", local_only)
    try:
        page.goto(url)
        # MathJax typesets after load: wait until it has (its errors, too, would reach the console).
        page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
        page.evaluate("() => window.MathJax ? MathJax.startup.promise.then(() => true) : true")
        boxes = page.locator(".static-slider")
        for b in range(boxes.count()):
            box = boxes.nth(b)
            controls = box.locator("[data-control]")
            for i in range(controls.count()):
                where = f"{label}: slider {b + 1}, control {i + 1}"
                problems += move_through(page, box, controls.nth(i), where)
        page.screenshot(path=str(shots / f"{label}.png"), full_page=True)  # every control at its last value
        return problems, page.locator('.static-slider input[type="range"]').count()
    finally:
        page.close()


def move_through(page, box, control, label: str) -> list[str]:
    """Set one control to each of its values in turn, with the keyboard for a range as a reader would
    (Home, then right arrow to the end); each move must change the control's readout and the picture,
    and the picture must load."""
    problems = []
    control.scroll_into_view_if_needed()
    name = control.evaluate("c => c.closest('label').querySelector('.static-description').textContent")
    count, at = control.evaluate("c => c.tagName === 'SELECT' ? [c.options.length, c.selectedIndex]"
                                 " : [Number(c.max) + 1, Number(c.value)]")
    if control.evaluate("c => c.tagName === 'SELECT'"):
        moves = [lambda j=j: control.select_option(index=j) for j in range(count) if j != at]
    else:
        control.focus()
        keys = ([] if at == 0 else ["Home"]) + ["ArrowRight"] * (count - 1)
        moves = [lambda key=key: page.keyboard.press(key) for key in keys]
    before = box.evaluate(STATIC_SNAPSHOT_JS)
    for n, move in enumerate(moves, 1):
        move()
        after = box.evaluate(STATIC_SNAPSHOT_JS)
        where = f"{label} ('{name}', move {n} of {len(moves)})"
        if after["readouts"] == before["readouts"]:
            problems.append(f"{where}: the control did not move")
        elif after["picture"] == before["picture"]:
            problems.append(f"{where}: the picture did not change")
        if not after["loaded"]:
            problems.append(f"{where}: the picture did not load")
        before = after
    return problems
