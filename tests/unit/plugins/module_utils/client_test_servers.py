"""Tiny local servers for the real-registry client tests: a fault-injecting TCP proxy,
a redirecting registry front, and a Docker Hub tag API stand-in."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class BreakingProxy(object):
    """TCP proxy to a plain-HTTP registry that cuts the connection inside the body of the
    ``nth`` request whose method is ``method``, after ``cut`` body bytes reached the registry."""

    def __init__(self, target_host, target_port, method=b"PATCH", nth=2, cut=1000):
        self.target = (target_host, target_port)
        self.method = method + b" "
        self.nth = nth
        self.cut = cut
        self.seen = 0
        self.broken = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self._closed = True
        self._listener.close()

    def _accept(self):
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump_requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _pump_requests(self, client, upstream):
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if data.startswith(self.method):
                    with self._lock:
                        self.seen += 1
                        target = self.seen == self.nth
                    if target:
                        while b"\r\n\r\n" not in data:
                            more = client.recv(65536)
                            if not more:
                                break
                            data += more
                        head_end = data.index(b"\r\n\r\n") + 4
                        while len(data) < head_end + self.cut:
                            more = client.recv(65536)
                            if not more:
                                break
                            data += more
                        upstream.sendall(data[:head_end + self.cut])
                        time.sleep(0.2)  # let the registry write what it got
                        with self._lock:
                            self.broken += 1
                        break
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


class _Server(object):
    """ThreadingHTTPServer on 127.0.0.1:0 that records every request it gets."""

    def __init__(self, handler_factory):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                return body

            def send(self, status, body=b"", headers=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server naming
                body = self._record()
                handler_factory(outer, self, body)

            do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


class BlobStorage(_Server):
    """Object storage stand-in: serves blobs by path, needs no credentials."""

    def __init__(self, blobs):
        def handle(server, request, _body):
            data = blobs.get(urlsplit(request.path).path)
            if data is None:
                request.send(404)
            else:
                request.send(200, data, {"Content-Type": "application/octet-stream"})

        super(BlobStorage, self).__init__(handle)


class RedirectingRegistry(_Server):
    """A registry front that answers blob GETs with a 307 to another origin (like S3-backed registries)."""

    def __init__(self, storage_url, token):
        def handle(server, request, _body):
            path = urlsplit(request.path).path
            if request.headers.get("Authorization") != "Bearer " + token:
                request.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                             {"WWW-Authenticate": 'Basic realm="test"', "Content-Type": "application/json"})
            elif path.startswith("/v2/") and "/blobs/" in path:
                request.send(307, b"", {"Location": "%s/storage/%s?X-Amz-Signature=abc" % (
                    storage_url, path.rsplit("/", 1)[1])})
            elif path == "/v2/":
                request.send(200, b"{}", {"Docker-Distribution-API-Version": "registry/2.0"})
            else:
                request.send(404)

        super(RedirectingRegistry, self).__init__(handle)


def hub_tag(name, digest, size=1234):
    """One tag in the shape hub.docker.com documents for GET /v2/namespaces/{ns}/repositories/{repo}/tags."""
    return {
        "id": abs(hash(name)) % 100000, "creator": 7, "last_updater": 7, "last_updater_username": "ci",
        "name": name, "repository": 42, "full_size": size, "v2": True, "tag_status": "active",
        "tag_last_pulled": "2024-05-01T10:00:00.000000Z", "tag_last_pushed": "2024-04-30T09:00:00.000000Z",
        "last_updated": "2024-04-30T09:00:00.000000Z", "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image", "digest": digest,
        "images": [
            {"architecture": "amd64", "features": "", "variant": None, "digest": "sha256:" + "a" * 64,
             "os": "linux", "os_features": "", "os_version": None, "size": size, "status": "active",
             "last_pulled": "2024-05-01T10:00:00.000000Z", "last_pushed": "2024-04-30T09:00:00.000000Z"},
            {"architecture": "arm64", "features": "", "variant": "v8", "digest": "sha256:" + "b" * 64,
             "os": "linux", "os_features": "", "os_version": None, "size": size, "status": "active",
             "last_pulled": None, "last_pushed": "2024-04-30T09:00:00.000000Z"},
        ],
    }


class HubApi(_Server):
    """hub.docker.com tag listing with count/next/previous/results pages and /v2/users/login."""

    def __init__(self, namespace, repository, tags, username=None, password=None):
        token = "hub-jwt-for-tests"

        def handle(server, request, body):
            parts = urlsplit(request.path)
            if parts.path == "/v2/users/login" and request.command == "POST":
                creds = json.loads(body.decode() or "{}")
                if creds.get("username") == username and creds.get("password") == password:
                    request.send(200, json.dumps({"token": token}).encode(), {"Content-Type": "application/json"})
                else:
                    request.send(401, b'{"detail":"Incorrect authentication credentials"}')
                return
            base = "/v2/namespaces/%s/repositories/%s/tags" % (namespace, repository)
            if parts.path != base:
                request.send(404, b'{"message":"object not found","errinfo":{}}')
                return
            if username and request.headers.get("Authorization") != "Bearer " + token:
                request.send(401, b'{"detail":"authentication required"}')
                return
            query = parse_qs(parts.query)
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", ["10"])[0])
            start = (page - 1) * size
            chunk = tags[start:start + size]

            def link(number):
                return "%s%s?page=%d&page_size=%d" % (server.url, base, number, size)

            data = {"count": len(tags), "next": link(page + 1) if start + size < len(tags) else None,
                    "previous": link(page - 1) if page > 1 else None, "results": chunk}
            request.send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

        super(HubApi, self).__init__(handle)


class FlakyBlobServer(_Server):
    """Serves one blob; the first GET dies after ``cut`` bytes, later GETs honour ``Range``."""

    def __init__(self, blob, cut):
        state = {"gets": 0}

        def handle(server, request, _body):
            state["gets"] += 1
            if state["gets"] == 1:
                request.send_response(200)
                request.send_header("Content-Length", str(len(blob)))
                request.end_headers()
                request.wfile.write(blob[:cut])
                request.wfile.flush()
                request.close_connection = True
                request.connection.shutdown(socket.SHUT_RDWR)
                return
            match = request.headers.get("Range", "")
            if match.startswith("bytes="):
                start = int(match[6:].split("-")[0])
                content_range = "bytes %d-%d/%d" % (start, len(blob) - 1, len(blob))
                request.send(206, blob[start:], {"Content-Range": content_range})
            else:
                request.send(200, blob)

        super(FlakyBlobServer, self).__init__(handle)
