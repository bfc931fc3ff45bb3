"""Debian's Chromium, headless, driven over the DevTools protocol (as Selenium or Playwright
would): the console's tests (test_console.py) and its page-load benchmark (bench/console.py)
drive it."""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium")


def launch(*args, **popen):
    """Chromium in a process group of its own: it forks helpers (zygote, crashpad, GPU)
    that go on writing to the profile after the main process dies."""
    return subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", *args], start_new_session=True, **popen)


def stop(proc):
    """Chromium and every helper it started, gone before its profile is removed."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


class Browser:
    """Debian's Chromium, headless, driven over the DevTools protocol (as Selenium or
    Playwright would): open a page, read what it shows as it changes, run a script in it,
    take a screenshot."""

    def __init__(self):
        self.profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self.proc = launch("--remote-debugging-port=0", f"--user-data-dir={self.profile.name}",
                           "--window-size=1400,900", "about:blank",
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            if line.startswith("DevTools listening on "):
                self.http = "http://" + line.split("ws://")[1].split("/")[0]
                break
        request = urllib.request.Request(f"{self.http}/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(request).read())
        self.ws = connect(target["webSocketDebuggerUrl"], max_size=None)
        self.ids = 0

    def send(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.ids:
                return message.get("result", {})

    def open(self, url):
        self.send("Page.navigate", url=url)

    def run(self, script):
        result = self.send("Runtime.evaluate", expression=script, awaitPromise=True,
                           returnByValue=True)
        return result.get("result", {}).get("value")

    def text_when(self, *wanted, timeout=15):
        """The page's text once it shows every one of `wanted`."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.run("document.body ? document.body.innerText : ''") or ""
            if all(w in text for w in wanted):
                return text
            assert time.monotonic() < deadline, f"the page never showed {wanted}:\n{text}"
            time.sleep(0.1)

    def wait_for(self, condition, timeout=15):
        """Until the page's `condition` (a script) holds."""
        deadline = time.monotonic() + timeout
        while not self.run(condition):
            assert time.monotonic() < deadline, f"the page never had {condition}"
            time.sleep(0.05)

    def screenshot(self, path):
        shot = self.send("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        self.ws.close()
        stop(self.proc)
        self.profile.cleanup()
