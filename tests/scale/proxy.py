"""A tiny HTTP reverse proxy that sends each request to the next upstream in turn (round robin) and
records which upstream answered what: the load balancer of the stateless-web test."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


class RoundRobinProxy:
    def __init__(self, upstreams: list[tuple[str, int]]):
        self.upstreams = upstreams
        self.log: list[dict] = []
        self._next = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: every request is balanced

            def log_message(self, *args):
                pass

            def _forward(self):
                with proxy._lock:
                    seq = proxy._next
                    index = seq % len(proxy.upstreams)
                    proxy._next += 1
                host, port = proxy.upstreams[index]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                upstream = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                with proxy._lock:
                    proxy.log.append({"seq": seq, "method": self.command, "path": self.path, "upstream": index,
                                      "status": response.status, "htmx": "HX-Request" in self.headers})
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():  # several Set-Cookie headers stay several
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Upstream", str(index))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
