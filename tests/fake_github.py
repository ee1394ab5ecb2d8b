"""A small GitHub REST server on 127.0.0.1 for the client and action tests.

It speaks the endpoints commitledger uses, with GitHub's real shapes:
paginated issue comments with ``Link`` headers, create, update and delete,
the pull request, ``GET /user`` (forbidden for the Actions installation
token, as on GitHub), and for after the merge: the pull requests of a commit
(``commits/{sha}/pulls``), the repository's merge settings, and closed pull
requests listed newest update first (``pulls?state=closed``). The git side
(``refs/pull/N/head``) is a local bare repository the tests push to. Tests
queue faults (rate limits, 5xx, malformed JSON, a body dripped one byte at a
time, an endless body) on a method and path, so every failure path runs over
real HTTP against the real client. The state is guarded by one lock, so
concurrent clients see what GitHub would show them; ``gather`` holds
requests until several have arrived, to make a race happen on purpose.
Nothing here talks to anything but loopback, and every loop that feeds a
client stops by itself.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT = "github-actions[bot]"


@dataclass
class Token:
    login: str
    write: bool = True
    installation: bool = True  # the Actions token: GET /user is forbidden


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "fault"}'
    delay: float = 0.0  # seconds to stall before answering (a hung server)
    drip: float = 0.0  # seconds between single bytes of the body (a dripping server)
    endless: bool = False  # a chunked body of zeros that goes on (until ``max_seconds`` or the client leaves)
    max_seconds: float = 20.0  # how long a dripped or endless body goes on at most


@dataclass
class _Gate:
    barrier: threading.Barrier
    left: int

    def take(self) -> bool:
        """Whether this request is one of those held (called under the server's lock)."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass
class Seen:
    method: str
    path: str
    authorization: str
    body: Any


class FakeGitHub:
    """State plus a server thread; use as a context manager."""

    def __init__(self, prefix: str = "") -> None:
        # GitHub Enterprise Server serves the API under /api/v3.
        self.prefix = prefix.rstrip("/")
        self.tokens: dict[str, Token] = {}
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.commit_pulls: dict[tuple[str, str], list[int]] = {}  # (repo, sha) -> PR numbers GitHub associates
        self.settings: dict[str, dict[str, Any]] = {}  # repo -> fields of GET /repos/{repo}
        self.faults: dict[tuple[str, str], list[Fault]] = {}
        self.requests: list[Seen] = []
        self._next_id = 1000
        self._lock = threading.RLock()
        self._gates: dict[tuple[str, str], _Gate] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- set-up helpers ---

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def add_token(self, token: str, login: str = BOT, *, write: bool = True, installation: bool = True) -> None:
        self.tokens[token] = Token(login, write, installation)

    def add_pull(self, repo: str, number: int, *, head: str, base: str = "0" * 40,
                 head_repo: str | None = None, state: str = "open", merged: bool = False,
                 merge_commit_sha: str | None = None, merged_at: str | None = None,
                 updated_at: str = "2026-11-20T10:00:00Z", base_ref: str = "main") -> None:
        merged = merged or merged_at is not None
        self.pulls[(repo, number)] = {
            "number": number,
            "state": "closed" if merged else state,
            "merged": merged,
            "merged_at": (merged_at or updated_at) if merged else None,
            "merge_commit_sha": merge_commit_sha,
            "updated_at": updated_at,
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo or repo}},
            "base": {"sha": base, "ref": base_ref, "repo": {"full_name": repo}},
        }
        self.comments.setdefault((repo, number), [])

    def associate(self, repo: str, sha: str, *numbers: int) -> None:
        """What ``GET /repos/{repo}/commits/{sha}/pulls`` lists for ``sha``."""
        self.commit_pulls[(repo, sha)] = list(numbers)

    def set_settings(self, repo: str, **fields: Any) -> None:
        """Fields of ``GET /repos/{repo}`` (merge settings); the rest of the shape is filled in."""
        self.settings[repo] = {"full_name": repo, "default_branch": "main", **fields}

    def set_head(self, repo: str, number: int, head: str) -> None:
        self.pulls[(repo, number)]["head"]["sha"] = head

    def add_comment(self, repo: str, number: int, body: str, login: str = BOT) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            comment = {
                "id": self._next_id,
                "body": body,
                "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
                "html_url": f"https://github.invalid/{repo}/pull/{number}#issuecomment-{self._next_id}",
                "created_at": "2026-11-20T10:00:00Z",
                "updated_at": "2026-11-20T10:00:00Z",
            }
            self.comments[(repo, number)].append(comment)
            return comment

    def fault(self, method: str, path: str, status: int, headers: dict[str, str] | None = None,
              body: str = '{"message": "fault"}', times: int = 1, delay: float = 0.0, drip: float = 0.0,
              endless: bool = False, max_seconds: float = 20.0) -> None:
        """Answer the next ``times`` requests to ``method path`` (path without query) with this."""
        self.faults.setdefault((method, path), []).extend(
            Fault(status, dict(headers or {}), body, delay, drip, endless, max_seconds) for _ in range(times))

    def gather(self, method: str, path: str, count: int, timeout: float = 30.0) -> None:
        """Hold the first ``count`` requests to ``method path`` until all have arrived, then answer them together.

        With every concurrent run's first listing held, each sees the same
        state: the race that leaves duplicates happens every time, not by luck.
        """
        self._gates[(method, path)] = _Gate(threading.Barrier(count, timeout=timeout), count)

    def comments_of(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.comments[(repo, number)])

    def writes(self) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.method in ("POST", "PATCH", "DELETE")]

    # --- lifecycle ---

    def __enter__(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        default_handle_error = self._server.handle_error

        def handle_error(request: Any, client_address: Any) -> None:
            # A client that gave up on purpose (cut off an answer) is the point of some tests, not noise.
            if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                return
            default_handle_error(request, client_address)

        self._server.handle_error = handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # --- the protocol ---

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        if "Content-Length" not in (headers or {}):  # a fault may declare a length of its own
            h.send_header("Content-Length", str(len(raw)))
        h.send_header("x-ratelimit-limit", "5000")
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(raw)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                self._send(h, 404, {"message": "Not Found"})
                return
            path = path[len(self.prefix) :]
        query = parse_qs(parts.query)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        auth = h.headers.get("Authorization", "")
        with self._lock:
            self.requests.append(Seen(method, h.path, auth, body))
            queued = self.faults.get((method, path))
            fault = queued.pop(0) if queued else None
            gate = self._gates.get((method, path))
            held = gate is not None and gate.take()
        if held:
            assert gate is not None
            try:
                gate.barrier.wait()
            except threading.BrokenBarrierError:
                pass  # not all came: answer anyway
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drip or fault.endless:
                self._stream(h, fault)
            else:
                self._send(h, fault.status, fault.body, fault.headers)
            return
        with self._lock:
            self._route(h, method, path, query, body, auth)

    def _stream(self, h: BaseHTTPRequestHandler, fault: Fault) -> None:
        """A body dripped byte by byte, or an endless one; both stop after ``max_seconds``."""
        stop = time.monotonic() + fault.max_seconds
        h.send_response(fault.status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        if fault.endless:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(len(fault.body.encode())))
        for key, value in fault.headers.items():
            h.send_header(key, value)
        h.end_headers()
        try:
            if fault.endless:
                chunk = b"[" + b" " * (1 << 20)
                while time.monotonic() < stop:
                    h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    chunk = b" " * (1 << 20)
                    time.sleep(0.02)  # at most ~50 MB/s: a client without a cap grows, but not explosively
            else:
                for byte in fault.body.encode():
                    if time.monotonic() >= stop:
                        break
                    h.wfile.write(bytes([byte]))
                    h.wfile.flush()
                    time.sleep(fault.drip)
        except OSError:
            pass  # the client gave up: what it should do
        h.close_connection = True

    def _route(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, list[str]], body: Any,
               auth: str) -> None:
        token = self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if token is None:
            self._send(h, 401, {"message": "Bad credentials"})
            return
        if path == "/user" and method == "GET":
            if token.installation:
                self._send(h, 403, {"message": "Resource not accessible by integration"})
            else:
                self._send(h, 200, {"login": token.login})
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if m:
            key = (m.group(1), int(m.group(2)))
            if key not in self.comments:
                self._send(h, 404, {"message": "Not Found"})
                return
            if method == "GET":
                self._list(h, key, query)
                return
            if method == "POST":
                if not token.write:
                    self._send(h, 403, {"message": "Resource not accessible by integration"})
                    return
                created = self.add_comment(key[0], key[1], str((body or {}).get("body", "")), token.login)
                self._send(h, 201, created)
                return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if m and method in ("PATCH", "DELETE"):
            for (repo, _), items in self.comments.items():
                for item in items:
                    if repo == m.group(1) and item["id"] == int(m.group(2)):
                        if not token.write or item["user"]["login"] != token.login:
                            self._send(h, 403, {"message": "Resource not accessible by integration"})
                            return
                        if method == "DELETE":
                            items.remove(item)
                            h.send_response(204)
                            h.send_header("Content-Length", "0")
                            h.end_headers()
                            return
                        item["body"] = str((body or {}).get("body", ""))
                        item["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                        self._send(h, 200, item)
                        return
            self._send(h, 404, {"message": "Not Found"})
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/commits/([0-9a-f]{7,64})/pulls", path)
        if m and method == "GET":
            numbers = self.commit_pulls.get((m.group(1), m.group(2)), [])
            self._send(h, 200, [self.pulls[(m.group(1), n)] for n in numbers if (m.group(1), n) in self.pulls])
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)", path)
        if m and method == "GET":
            repo_settings = self.settings.get(m.group(1))
            self._send(h, 200 if repo_settings else 404, repo_settings or {"message": "Not Found"})
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls", path)
        if m and method == "GET":
            self._list_pulls(h, m.group(1), query)
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/(\d+)", path)
        if m and method == "GET":
            pull = self.pulls.get((m.group(1), int(m.group(2))))
            self._send(h, 200 if pull else 404, pull or {"message": "Not Found"})
            return
        self._send(h, 404, {"message": "Not Found"})

    def _list(self, h: BaseHTTPRequestHandler, key: tuple[str, int], query: dict[str, list[str]]) -> None:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        items = self.comments[key]
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        base = f"{self.url}/repos/{key[0]}/issues/{key[1]}/comments"
        links = []
        if page < last:
            links.append(f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{base}?per_page={per_page}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?per_page={per_page}&page=1>; rel="first"')
        self._send(h, 200, chunk, {"Link": ", ".join(links)} if links else None)

    def _list_pulls(self, h: BaseHTTPRequestHandler, repo: str, query: dict[str, list[str]]) -> None:
        """``GET /pulls``: ``state``, ``base`` and ``sort=updated&direction=desc`` as GitHub applies them."""
        state = query.get("state", ["open"])[0]
        base_ref = query.get("base", [None])[0]
        items = [p for (r, _), p in self.pulls.items() if r == repo
                 and (state == "all" or p["state"] == state) and (base_ref is None or p["base"]["ref"] == base_ref)]
        items.sort(key=lambda p: (p["updated_at"], p["number"]), reverse=query.get("direction", ["desc"])[0] == "desc")
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        if page < last:
            keep = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            links.append(f'<{self.url}/repos/{repo}/pulls?{keep}&page={page + 1}>; rel="next"')
        self._send(h, 200, chunk, {"Link": ", ".join(links)} if links else None)
