"""Stands in for README's two wscat terminals: two WebSocket clients connect to URL, the
first sends `{"action":"sendmessage","data":"hello"}`, and both must print `< hello`
within five seconds; then both close, and it waits (five seconds at most) until the
stage's access log shows both `$disconnect` events, as the next README command reads it.

    python3 chat_clients.py URL
"""

import asyncio
import json
import re
import sys
import time
import urllib.request

import websockets


async def main(url):
    async with websockets.connect(url) as first, websockets.connect(url) as second:
        await first.send(json.dumps({"action": "sendmessage", "data": "hello"}))
        for client in (first, second):
            message = await asyncio.wait_for(client.recv(), 5)
            print(f"< {message}")
            if message != "hello":
                sys.exit(f"expected hello, got {message!r}")


def disconnected(url):
    """Waits until the stage's access log (at the server the URL names) shows two
    DISCONNECT lines."""
    server, api, stage = re.match(r"ws://([^/]+)/_aws/execute-api/([^/]+)/([^/?]+)", url).groups()
    log = f"http://{server}/_gatehouse/access-log/{api}/{stage}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with urllib.request.urlopen(log) as answer:
            if answer.read().decode().count("DISCONNECT") >= 2:
                return
        time.sleep(0.05)
    sys.exit("the two $disconnect events were not logged within five seconds")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
    disconnected(sys.argv[1])
