"""A real headless Chromium (Debian's package) driven over the DevTools protocol, for
the pages' browser tests: navigate, evaluate, fill and submit forms, screenshots,
console errors, and an accessibility check with axe-core.

Fixtures ``chromium`` (a fresh browser and page) and ``axe_source`` (axe.min.js from
the npm registry, installed once into a cache folder) skip, saying why, where there
is no Chromium, no websocket-client, or no npm / axe-core; tests/conftest.py makes
them available to every test."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from deploy.launcher import free_ports
from shared.testing import wait_for

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AXE_CACHE = Path(os.environ.get("RAPPORT_AXE_CACHE", Path.home() / ".cache" / "rapport-axe"))
SERIOUS = ("serious", "critical")


class DevTools:
    def __init__(self, url: str):
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id, self.events = 0, []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def until(self, method: str, after: int = 0) -> dict:
        """The first event ``method`` seen after the first ``after`` events."""
        for seen in self.events[after:]:
            if seen.get("method") == method:
                return seen
        while True:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message


class Page(DevTools):
    """One tab, with Page, Runtime and Log enabled."""

    def start(self) -> Page:
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        return self

    def load(self, action) -> None:
        """Run ``action`` (a navigation or a submit) and wait for the next page's load."""
        mark = len(self.events)
        action()
        self.until("Page.loadEventFired", after=mark)

    def goto(self, url: str) -> None:
        self.load(lambda: self.send("Page.navigate", url=url))

    def js(self, expression: str):
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def fill(self, values: dict) -> None:
        """Set form fields by name (a radio by its value, a checkbox by True/False)."""
        self.js(f"""(() => {{ for (const [name, value] of Object.entries({json.dumps(values)})) {{
            const els = document.getElementsByName(name);
            if (!els.length) throw new Error('no field ' + name);
            for (const el of els) {{
              if (el.type === 'radio') el.checked = (el.value === value);
              else if (el.type === 'checkbox') el.checked = !!value;
              else el.value = value;
            }} }} }})()""")

    def submit(self, selector: str = "main form") -> None:
        self.load(
            lambda: self.js(f"document.querySelector({json.dumps(selector)}).requestSubmit()")
        )

    def text(self) -> str:
        return self.js("document.body.innerText")

    def errors(self) -> list[dict]:
        """Console errors and uncaught exceptions seen so far (a page answered 4xx on
        purpose, such as a refused form, logs a failed load that is not one)."""
        return [
            e
            for e in self.events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
            or (
                e.get("method") == "Log.entryAdded"
                and e["params"]["entry"]["level"] == "error"
                and "status of 4" not in e["params"]["entry"].get("text", "")
            )
        ]

    def viewport(self, width: int, height: int = 800, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )

    def scrolls_sideways(self) -> bool:
        return self.js("document.documentElement.scrollWidth > window.innerWidth")

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """The whole page, or only the element ``selector`` finds (a long page's part)."""
        clip = {}
        if selector is not None:
            box = self.js(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.left + scrollX, "
                "y: r.top + scrollY, width: r.width, height: r.height}; })()"
            )
            clip = {"clip": {**box, "scale": 1}}
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, **clip)
        Path(path).write_bytes(base64.b64decode(data["data"]))

    def axe(self, source: str) -> list[dict]:
        """Serious and critical WCAG 2 A/AA violations axe-core finds on the page."""
        self.js(source + "\n;0")
        found = self.js(
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
            "help: v.help, nodes: v.nodes.map(n => n.html).slice(0, 3)})))"
        )
        return [v for v in found if v["impact"] in SERIOUS]


@pytest.fixture
def chromium(tmp_path):
    pytest.importorskip("websocket", reason="websocket-client is not installed")
    if BROWSER is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    [port] = free_ports(1)
    process = subprocess.Popen(
        [
            BROWSER,
            *FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={tmp_path / 'profile'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def pages():
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
            except requests.RequestException:
                return None  # not listening yet
            return [t for t in targets if t["type"] == "page"]

        found = wait_for(pages, timeout=30, message="Chromium's DevTools endpoint")
        page = Page(found[0]["webSocketDebuggerUrl"]).start()
        yield page
        page.ws.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js, installed from the npm registry into ``AXE_CACHE`` once."""
    path = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    # One install at a time: test processes running side by side share the cache.
    with open(AXE_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            npm = shutil.which("npm")
            if npm is None:
                pytest.skip("no npm to install axe-core")
            try:
                subprocess.run(
                    [
                        npm,
                        "install",
                        "--prefix",
                        str(AXE_CACHE),
                        "axe-core",
                        "--no-audit",
                        "--no-fund",
                    ],
                    check=True,
                    timeout=180,
                    capture_output=True,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                pytest.skip(f"axe-core could not be installed: {exc}")
    return path.read_text()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where a browser test saves its screenshots: docs/screenshots/ (the pictures the
    docs show) with ``RAPPORT_SCREENSHOTS=1``, else the test's own folder, so a test
    run leaves the checkout as it was."""
    return DOCS_SHOTS if os.environ.get("RAPPORT_SCREENSHOTS") == "1" else tmp_path
