"""What every fake platform shares: a real HTTP server on 127.0.0.1, a request log, and faults on demand.

A fake is a WSGI app (``FakeApi`` subclass) answering in the platform's own
shapes. ``fail`` queues a fault for the next matching request: an error status
with a body and headers (a 429 with Retry-After, a 500, a 401 with the
platform's error body), and/or a delay longer than the client's timeout. With
``after=True`` the request is carried out first and the fault answers in its
place: the post lands but the answer is lost, the case publishers must survive.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Fault:
    status: int | None = 500  # None: answer normally (after ``delay``)
    body: Any = None  # a dict or list is sent as JSON, a str as text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    after: bool = False  # carry the request out, then answer with the fault
    method: str | None = None
    path: str | None = None  # a prefix of the request path
    times: int = 1

    def matches(self, request: Request) -> bool:
        method_ok = self.method is None or self.method == request.method
        return method_ok and (self.path is None or request.path.startswith(self.path))


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: Any


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def _body(request: Request) -> Any:
    if request.is_json:
        return request.get_json(silent=True)
    if request.form:
        return request.form.to_dict()
    return request.get_data(as_text=True) or None


class FakeApi:
    """A platform's API in one process: subclasses implement ``dispatch``."""

    def __init__(self) -> None:
        self.base_url = ""
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.lock = threading.RLock()

    def fail(
        self,
        status: int | None = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        delay: float = 0.0,
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with this fault instead of the platform's answer."""
        with self.lock:
            self.faults.append(Fault(status, body, headers or {}, delay, after, method, path, times))

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The requests received, optionally only those with ``method`` and a path starting ``path``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path.startswith(path))
            ]

    def dispatch(self, request: Request) -> Response:
        raise NotImplementedError

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        if isinstance(fault.body, dict | list):
            return json_response(fault.body, fault.status, fault.headers)
        return Response(fault.body or "", status=fault.status, headers=fault.headers)

    def _answer(self, request: Request) -> Response:
        with self.lock:
            seen = Seen(
                request.method, request.path, request.args.to_dict(), dict(request.headers), _body(request)
            )
            self.requests.append(seen)
        fault = self._take_fault(request)
        if fault is None:
            return self._locked_dispatch(request)
        if fault.after:
            response = self._locked_dispatch(request)
            time.sleep(fault.delay)
            return response if fault.status is None else self._fault_response(fault)
        time.sleep(fault.delay)
        return self._locked_dispatch(request) if fault.status is None else self._fault_response(fault)

    def _locked_dispatch(self, request: Request) -> Response:
        with self.lock:
            return self.dispatch(request)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)


class _Quiet(WSGIRequestHandler):
    """The platform's access log is not ours: it stays out of the tests' captured logs."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@contextmanager
def serve(app: FakeApi) -> Iterator[str]:
    """Run ``app`` on a free port of 127.0.0.1 for the block; yields its base URL (also set on the app)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app.base_url
    finally:
        server.shutdown()
        thread.join(timeout=5)
