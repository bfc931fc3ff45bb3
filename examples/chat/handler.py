"""A chat's backend, as a Lambda function would be: this file serves the Lambda Invoke API
(`POST /2015-03-31/functions/{name}/invocations`) that gatehouse's `--lambda-endpoint` calls,
and handles the WebSocket API's events the way a chat function on AWS would:

- `$connect`: remembers the connection;
- `$disconnect`: forgets it;
- `sendmessage` (`{"action": "sendmessage", "data": "..."}`): sends `data` to every
  connection with the `apigatewaymanagementapi` client's PostToConnection.

The client finds gatehouse through AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI (on AWS it would
be the stage URL: https://{apiId}.execute-api.{region}.amazonaws.com/{stage}), so the code is
what would run on AWS. Needs boto3 (`pip install boto3`).

    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=http://127.0.0.1:4599 python3 handler.py [PORT]
"""

import http.server
import json
import sys
import threading

import boto3

CONNECTIONS = set()
LOCK = threading.Lock()
MANAGEMENT = boto3.client("apigatewaymanagementapi")


def handle(event):
    """The function: what a chat's Lambda handler does with one event."""
    context = event["requestContext"]
    connection = context["connectionId"]
    route = context["routeKey"]
    if route == "$connect":
        with LOCK:
            CONNECTIONS.add(connection)
    elif route == "$disconnect":
        with LOCK:
            CONNECTIONS.discard(connection)
    elif route == "sendmessage":
        data = json.loads(event.get("body") or "{}").get("data", "")
        with LOCK:
            everyone = list(CONNECTIONS)
        for other in everyone:
            try:
                MANAGEMENT.post_to_connection(ConnectionId=other, Data=data.encode())
            except MANAGEMENT.exceptions.GoneException:
                with LOCK:
                    CONNECTIONS.discard(other)
    return {"statusCode": 200}


class InvokeApi(http.server.BaseHTTPRequestHandler):
    """The Lambda Invoke API, for any function name."""

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        body = json.dumps(handle(event)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("chat: " + fmt % args + "\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), InvokeApi)
    print(f"chat function: Lambda Invoke API on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
