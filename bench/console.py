#!/usr/bin/env python3
"""The console's page load with 1,000 APIs in the store (issue 32's target: under 100 ms):
gatehouse (release build, memory store) holds 1,000 HTTP APIs, the last of them with routes
and a deployed stage; Debian's Chromium, headless, opens the console on that stage and
reloads it fifteen times, and the page reports when it first showed everything (`performance.now()` after its
first full render: the API list, the API's tables, the stage's invocations). Prints the
times and their median.

    tests/compat/.venv/bin/python bench/console.py      # after cargo build --release
"""

import os
import pathlib
import statistics
import subprocess
import sys

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))
from browser import CHROMIUM, Browser  # noqa: E402

BIN = os.environ.get("GATEHOUSE_BIN", str(ROOT / "target" / "release" / "gatehouse"))
APIS = int(os.environ.get("GATEHOUSE_BENCH_APIS", "1000"))
# Reloads measured (after a first load, not counted): this machine's timings scatter widely.
RELOADS = 15


def main():
    if not CHROMIUM:
        sys.exit("bench/console.py needs Debian's chromium (apt-get install chromium)")
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--store", "memory"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = proc.stdout.readline().split()[-1]
    try:
        c = boto3.client("apigatewayv2", endpoint_url=endpoint, region_name="us-east-1",
                         aws_access_key_id="bench", aws_secret_access_key="bench")
        for i in range(APIS - 1):
            c.create_api(Name=f"api{i:04}", ProtocolType="HTTP")
        api = c.create_api(Name="shown", ProtocolType="HTTP", Target="http://127.0.0.1:9/")["ApiId"]
        view = f"{endpoint}/_gatehouse/console/#region=us-east-1&api={api}&stage=%24default"
        times = []
        browser = Browser()
        try:
            browser.open(view)
            for _ in range(RELOADS + 1):
                browser.wait_for("document.body && document.body.dataset.settled", timeout=30)
                times.append(float(browser.run("document.body.dataset.rendered")))
                print(".", end="", flush=True)
                # A reload in the same tab, once the page has settled (the rest of the list
                # in): a fresh page (the one left marks itself, to be told apart), without the
                # browser's own start of a renderer process for a new site (40-50 ms here,
                # not the page's).
                browser.run("window.reloaded = true")
                browser.send("Page.reload")
                browser.wait_for("!window.reloaded", timeout=30)
        finally:
            browser.close()
        times = times[1:]  # the first load also starts the renderer and fills caches
        print(f"console page with {APIS} APIs: first full render at "
              + ", ".join(f"{t:.0f}" for t in times)
              + f" ms (median {statistics.median(times):.0f} ms)")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
