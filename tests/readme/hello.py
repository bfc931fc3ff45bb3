"""Stands in for README's `hello` function under `cargo lambda watch`: the Lambda Invoke API
(`POST /2015-03-31/functions/{name}/invocations`) answering `Hello, {name}!` for the event's
`name` query parameter, as a `lambda_http` function would, for payload 1.0 and 2.0 events.

    python3 hello.py PORT
"""

import http.server
import json
import sys


class InvokeApi(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        query = event.get("queryStringParameters") or {}
        answer = {
            "statusCode": 200,
            "headers": {"content-type": "text/plain"},
            "body": f"Hello, {query.get('name', 'world')}!",
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1])
    http.server.ThreadingHTTPServer(("127.0.0.1", port), InvokeApi).serve_forever()
