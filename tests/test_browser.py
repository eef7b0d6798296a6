"""A real browser runs lesson 00 in JupyterLab: every cell runs, none shows an error, a widget renders.

Starts ``jupyter lab`` on localhost (a copy of lesson 00 in smoke mode, in a temporary folder),
drives headless Chromium with Playwright (Debian's ``chromium`` package, through
``executable_path``), clicks Run > Run All Cells, waits for the kernel, saves, and checks both
the page and the saved notebook. ``.ci/run`` installs Chromium and Playwright; where they are
missing the test is skipped, saying what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "00_tour.ipynb"
CHROMIUM = os.environ.get("NASKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

REQUIRED = os.environ.get("NASKIT_REQUIRE_BROWSER") == "1"  # set by .ci/run: there a skip is a failure
try:
    from playwright import sync_api as playwright_api
except ImportError:
    playwright_api = None
MISSING = ("pip install playwright" if playwright_api is None else
           "apt-get install chromium" if CHROMIUM is None else None)
if MISSING and REQUIRED:
    raise RuntimeError(f"the browser test is required here but cannot run: {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"for the browser test: {MISSING} (see .ci/run)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    """A JupyterLab server on localhost serving a smoke-mode copy of lesson 00."""
    nb = nbformat.read(LESSON, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = params.source.replace("SMOKE = False", "SMOKE = True")
    assert "SMOKE = True" in params.source
    nbformat.write(nb, tmp_path / LESSON.name)
    # render every cell (JupyterLab 4 leaves off-screen cells out of the page by default)
    settings = tmp_path / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), "naskit-browser-test"
    # a learner's JupyterLab draws figures inline; a headless MPLBACKEND=Agg (as .ci/run sets) would hide them
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         f"--LabApp.user_settings_dir={tmp_path / '.settings'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                pytest.fail(f"jupyter lab did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
    yield url, token, tmp_path / LESSON.name
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def test_lesson_00_runs_in_a_real_browser(lab):
    url, token, path = lab
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/{path.name}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=180_000)  # the kernel is up
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        # every code cell gets an execution count; "[*]" while queued or running
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        # collapsed solution cells run too, but show no prompt
        code_cells = sum(not c.metadata.get("jupyter", {}).get("source_hidden") for c in cells)
        deadline = time.time() + 600
        while time.time() < deadline:
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            done = [t for t in prompts if t.strip().strip("[]:").isdigit()]
            if len(done) == code_cells:
                break
            time.sleep(1)
        assert len(done) == code_cells, f"{len(done)} of {code_cells} cells ran: {prompts}"
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        error_texts = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t.split("\n")[0]]
        assert not error_texts, error_texts
        picker = page.locator(".jupyter-widgets.widget-dropdown")
        picker.first.wait_for(timeout=60_000)  # the architecture picker rendered as live widgets
        assert picker.count() == 6
        images = page.locator(".jp-OutputArea-output img")
        assert images.count() >= 3  # the figures
        page.keyboard.press("Control+s")
        time.sleep(2)
        browser.close()
    saved = json.loads(path.read_text())
    outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert all(c["execution_count"] for c in saved["cells"] if c["cell_type"] == "code")  # every cell ran
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
