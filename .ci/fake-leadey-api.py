#!/usr/bin/env python3
"""A stand-in for the Leadey API for .ci/sarif-multitool: answers GET /v1/me on 127.0.0.1.

Usage: fake-leadey-api.py PORT_FILE LIVE_KEYS_FILE. Listens on a free port, writes it to
PORT_FILE, and answers 200 with an organization for a bearer key listed in LIVE_KEYS_FILE (one a
line), 401 for any other. Prints nothing about the keys it sees.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port_file, live_file = sys.argv[1], sys.argv[2]
live = {line.strip() for line in open(live_file, encoding="ascii") if line.strip()}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.path != "/v1/me":
            status, body = 404, {"error": "not found"}
        elif key in live:
            status, body = 200, {"data": {"organization": {"id": 1, "name": "CI test org"}}}
        else:
            status, body = 401, {"error": "invalid key"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass  # the request line is harmless, but stay quiet like the real tests' server


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402

os.rename(port_file + ".tmp", port_file)
server.serve_forever()
