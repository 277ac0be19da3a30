"""The suite-wide answer scan: every HTTP answer and WebSocket frame a gptgate gateway sends is
checked for secrets, the way ``logscan.py`` checks every log line.

The tap sits in aiohttp, not in the product. :func:`install` wraps, for the whole session:

* ``StreamResponse._write_headers``: every answer's status line and headers. The answer is
  followed only when the request's application is a gateway's (it holds ``GATEWAY``, set by
  ``create_app``), so the simulator's answers (its OAuth token endpoint hands out tokens, as it
  must) are left alone;
* ``StreamWriter.write`` / ``write_eof``: every body byte of a followed answer, streamed or not
  (a ``Response``'s body and a ``Payload``'s chunks go through them too); the body is scanned
  whole once it ends, so a secret split over two chunks is still found;
* ``WebSocketResponse.send_str`` / ``send_bytes`` / ``send_frame`` / ``close``: each frame a
  gateway's socket sends (``send_json`` goes through ``send_str``), scanned as it is sent.

Every answer must also say ``Server: gptgate`` (kind ``server library`` otherwise: the HTTP
library's name and version would reach the client). Detection is
:func:`gptgate.observability.redact.secret_kinds` (JWT, ``Bearer``, ``rt_``,
``gg-``/``sk-`` keys, cookies, ``"password": ...``) plus the exact secrets the test planted
where the tap can reach them: the serving gateway's own secrets at the time of the answer (its
accounts' access, refresh, id and session tokens and proxy passwords, its settings' SecretStr
values: admin password and token, ``api_keys``, ``secret_key``) and every client key a gateway
created earlier in the session (taken from the one answer allowed to show it). Planted secrets
shorter than :data:`MIN_PLANTED` characters are not matched (a test's ``"pw"`` would be found in
any text).

:data:`EXEMPT` lists, in one place, the answers that show a secret on purpose; nothing else may.
A hit is reported by method, route pattern (never the raw path), status, part and kind, never
by the secret.

``gptgate serve`` subprocesses: :func:`subprocess_env` makes a ``sitecustomize.py`` (a test-side
file in a temporary directory put first on ``PYTHONPATH``) that installs the same tap in a
``gptgate serve`` child, which appends its hits and its answer count to files the session
reads at the end. Nothing in the product knows of it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gptgate import SERVER_NAME
from gptgate.observability.redact import _SECRET_NAMES, PATTERNS

if TYPE_CHECKING:
    import pytest
    from aiohttp import web

#: names the directory a ``gptgate serve`` child reports to (read by the generated sitecustomize)
ENV = "ANSWERSCAN_DIR"
MIN_PLANTED = 16
#: a body longer than this is scanned up to here only (no test answers anything near it)
MAX_BODY = 32 * 1024 * 1024

#: Text that trips a redaction pattern and is no secret, wherever it appears (answers and stores);
#: each is replaced by ``[not a secret]`` before the patterns run. (reason, pattern)
NOT_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "the display prefix of a client key (gg- and 6 characters, keys/secrets.py) names a key in "
        "listings, errors and the store by design; the secret is 40 characters",
        re.compile(r"\bgg-[0-9A-Za-z]{6}(?![0-9A-Za-z_-])"),
    ),
    (
        "documentation placeholders in the admin reference, its OpenAPI document and the settings' "
        "descriptions: 'Bearer <admin_token>' (HTML-escaped too), 'Bearer / x-api-key'",
        re.compile(r"\bBearer (?:<[a-z_]+>|&lt;[a-z_]+&gt;|/ )"),
    ),
    (
        "the chat page's api.js builds the header from the key its user typed: code, not a value",
        re.compile(r'\bAuthorization = "Bearer " \+ '),
    ),
    (
        "the settings' descriptions: the database URL form 'postgresql://user:pass@host' and 'rt_-prefixed'",
        re.compile(r"postgresql://user:pass@host|\brt_-prefixed\b"),
    ),
)
#: runs of the characters secrets are made of (JWT, ``rt_``, ``gg-``, hex, base64url)
_WORD = re.compile(rf"[A-Za-z0-9._~-]{{{MIN_PLANTED},}}")
_WORD_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class Exempt:
    """An answer allowed to show a secret: which part, and why."""

    method: str
    route: str
    reason: str
    #: a top-level field of the JSON body left out of the scan (its value is a created secret,
    #: looked for in every later answer and in the stores)
    body_field: str | None = None
    #: the whole body left out of the scan (headers are still scanned)
    whole_body: bool = False
    #: a ``Set-Cookie`` header for this cookie left out of the scan
    cookie: str | None = None


#: Every answer that shows a secret on purpose (success statuses only; headers and the rest of
#: the body are scanned as usual). Keep this list short and each entry narrow.
EXEMPT: tuple[Exempt, ...] = (
    Exempt(
        "POST",
        "/admin/api/keys",
        "a new client key is shown once, in the answer that creates it (admin/keys_api.py create_key)",
        body_field="secret",
    ),
    Exempt(
        "POST",
        "/admin/api/keys/{id}/rotate",
        "the rotated client key is shown once, in the answer that rotates it (keys_api.py rotate_key)",
        body_field="secret",
    ),
    Exempt(
        "GET",
        "/admin/api/accounts/export",
        "the account export (gptgate, CLIProxyAPI, sub2api, codex-lb formats) hands the signed-in "
        "operator every stored token on purpose, after ?confirm=true (accounts_api.py export_accounts)",
        whole_body=True,
    ),
    Exempt(
        "POST",
        "/admin/api/login",
        "the admin session cookie is set on sign-in (admin/app.py login)",
        cookie="gptgate_admin",
    ),
    Exempt(
        "POST",
        "/admin/api/logout",
        "sign-out clears the admin session cookie (an empty value; the Set-Cookie shape itself is a "
        "'cookie' hit for the log patterns)",
        cookie="gptgate_admin",
    ),
)


@dataclass(frozen=True)
class Hit:
    method: str
    route: str
    status: int
    part: str  # "header", "body" or "frame"
    kinds: tuple[str, ...]

    def line(self) -> str:
        return f"{self.method} {self.route} {self.status} {self.part}: {', '.join(self.kinds)}"

    def to_json(self) -> str:
        return json.dumps([self.method, self.route, self.status, self.part, list(self.kinds)])

    @classmethod
    def from_json(cls, text: str) -> Hit:
        method, route, status, part, kinds = json.loads(text)
        return cls(method, route, int(status), part, tuple(kinds))


class Planted:
    """Exact secrets to look for: ``word`` ones by the runs of secret characters in a text
    (one set lookup per run), the others (spaces, ``/``, ``+``...) by substring."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        self.others: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if len(secret) < MIN_PLANTED:
                continue
            if _WORD_CHARS.fullmatch(secret):
                self.words.add(secret)
            else:
                self.others.add(secret)

    def __len__(self) -> int:
        return len(self.words) + len(self.others)

    def found_in(self, text: str, *more: Planted) -> bool:
        sets = [p for p in (self, *more) if len(p)]
        if not sets:
            return False
        for match in _WORD.finditer(text):
            run = match.group()
            for candidate in (run, run.rstrip(".~-")):
                if any(candidate in p.words for p in sets):
                    return True
        return any(s in text for p in sets for s in p.others)


#: The words a pattern of ``redact.PATTERNS`` cannot match without (lowercase): a pattern is run
#: only on a text holding one, so a 1 kB answer costs ~50 µs instead of ~600 (case-insensitive
#: alternations are slow in ``re``). A kind missing here is always run.
_NEEDS: dict[str, tuple[str, ...]] = {
    "jwt": ("eyj",),
    "bearer": ("bearer",),
    "session_cookie": ("__secure-next-auth.session-token",),
    "cookie": ("cookie",),
    "secret_field": tuple(_SECRET_NAMES.split("|")),
    "secret_param": tuple(name + "=" for name in _SECRET_NAMES.split("|")),
    "query_key": ("key=", "token="),
    "url_password": ("://",),
    "openai_key": ("sk-",),
    "gptgate_key": ("gg-",),
    "refresh_token": ("rt_",),
}


def pattern_kinds(text: str) -> list[str]:
    """``redact.secret_kinds(text)``, the patterns that cannot match skipped."""
    lowered = text.lower()
    return [
        kind
        for kind, pattern, replacement in PATTERNS
        if any(word in lowered for word in _NEEDS.get(kind, ("",))) and pattern.sub(replacement, text) != text
    ]


def kinds_in(text: str, planted: Collection[Planted] = ()) -> list[str]:
    """The kinds of secret in ``text``: the redaction patterns' (key display prefixes aside) and
    ``planted`` for an exact planted secret."""
    for _, pattern in NOT_SECRETS:
        text = pattern.sub("[not a secret]", text)
    kinds = pattern_kinds(text)
    first, *rest = (*planted, Planted())
    if first.found_in(text, *rest):
        kinds.append("planted")
    return kinds


def exempt_for(method: str, route: str, status: int) -> Exempt | None:
    if status >= 300:
        return None
    for exempt in EXEMPT:
        if exempt.method == method and exempt.route == route:
            return exempt
    return None


def _cookie_name(value: str) -> str:
    return value.partition("=")[0].strip()


def shown_secret(method: str, route: str, status: int, body: bytes) -> str | None:
    """The created secret an exempt answer shows (to look for everywhere else), if any."""
    exempt = exempt_for(method, route, status)
    if exempt is None or exempt.body_field is None:
        return None
    try:
        value = json.loads(body).get(exempt.body_field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def scan_answer(
    method: str,
    route: str,
    status: int,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    planted: Collection[Planted] = (),
) -> list[Hit]:
    """The secrets in one HTTP answer, with :data:`EXEMPT` applied."""
    exempt = exempt_for(method, route, status)
    hits: list[Hit] = []
    header_kinds: list[str] = []
    for name, value in headers:
        cookie = _cookie_name(value) if name.lower() == "set-cookie" else None
        if exempt is not None and exempt.cookie is not None and cookie == exempt.cookie:
            continue
        header_kinds += kinds_in(f"{name}: {value}", planted)
    if header_kinds:
        hits.append(Hit(method, route, status, "header", tuple(dict.fromkeys(header_kinds))))
    if exempt is not None and exempt.whole_body:
        return hits
    text = body.decode("utf-8", errors="replace")
    if exempt is not None and exempt.body_field is not None:
        text = _without_field(text, exempt.body_field)
    kinds = kinds_in(text, planted)
    if kinds:
        hits.append(Hit(method, route, status, "body", tuple(kinds)))
    return hits


def _without_field(text: str, name: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict):
        document.pop(name, None)
    return json.dumps(document)


def scan_frame(method: str, route: str, data: bytes | str, planted: Collection[Planted] = ()) -> list[Hit]:
    """The secrets in one WebSocket frame a gateway sent."""
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", errors="replace")
    kinds = kinds_in(text, planted)
    return [Hit(method, route, 101, "frame", tuple(kinds))] if kinds else []


def gateway_secrets(gateway: Any) -> Planted:
    """What the serving gateway holds: its settings' secrets and its accounts' tokens."""
    from pydantic import SecretStr

    found: list[str] = []
    settings = getattr(gateway, "settings", None)
    for name in type(settings).model_fields if settings is not None else ():
        value = getattr(settings, name, None)
        values = value if isinstance(value, list) else [value]
        found += [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        if name == "proxies" and isinstance(value, list):
            found += [urlsplit(str(v)).password or "" for v in value]
    pool = getattr(gateway, "pool", None)
    for account in getattr(pool, "accounts", ()):
        for attr in ("access_token", "refresh_token", "id_token", "session_token"):
            token = getattr(account, attr, None)
            if isinstance(token, str):
                found.append(token)
        proxy = getattr(account, "proxy", None)
        if isinstance(proxy, str):
            found.append(urlsplit(proxy).password or "")
    return Planted(found)


@dataclass
class Registry:
    """What the tap saw: answers counted, hits, and the created secrets to look for."""

    answers: int = 0
    hits: list[Hit] = field(default_factory=list)
    created: Planted = field(default_factory=Planted)
    #: every gateway secret met during the session (the store scan looks for them too)
    seen: Planted = field(default_factory=Planted)
    report_dir: Path | None = None
    on_hit: Callable[[Hit], None] | None = None

    def record(self, hits: list[Hit]) -> None:
        self.hits.extend(hits)
        for hit in hits:
            if self.on_hit is not None:
                self.on_hit(hit)

    def read_children(self) -> tuple[int, list[Hit]]:
        """Answers and hits the ``gptgate serve`` children reported."""
        answers, hits = 0, []
        if self.report_dir is None:
            return 0, []
        for path in self.report_dir.glob("answers-*.count"):
            with contextlib.suppress(ValueError):
                answers += int(path.read_text() or 0)
        for path in self.report_dir.glob("hits-*.jsonl"):
            hits += [Hit.from_json(line) for line in path.read_text().splitlines() if line.strip()]
        return answers, hits


#: the registry the tap reports to (``recording`` swaps it for a test's own)
_current: Registry | None = None


@contextlib.contextmanager
def recording(registry: Registry) -> Iterator[Registry]:
    """Send what the tap sees to ``registry`` for a while (the tap must be installed)."""
    global _current
    previous, _current = _current, registry
    try:
        yield registry
    finally:
        _current = previous


@dataclass
class _Answer:
    method: str
    route: str
    status: int
    headers: list[tuple[str, str]]
    planted: Planted
    body: bytearray = field(default_factory=bytearray)

    def add(self, chunk: Any) -> None:
        if chunk and len(self.body) < MAX_BODY:
            self.body += bytes(chunk)[: MAX_BODY - len(self.body)]


def _route(request: web.BaseRequest) -> str:
    """The route's pattern (never the raw path: it may hold a signed link)."""
    route = getattr(getattr(request, "_match_info", None), "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "(no route)"


def _gateway_of(request: web.BaseRequest) -> Any:
    """The gateway whose application answers ``request`` (None: not a gateway's). A request the
    HTTP parser refused was never routed: its server's handler is the application's."""
    from aiohttp import web

    from gptgate.http import GATEWAY

    apps = list(getattr(getattr(request, "_match_info", None), "apps", ()))
    if not apps:
        handler = getattr(getattr(request, "_protocol", None), "_request_handler", None)
        app = getattr(handler, "__self__", None)
        apps = [app] if isinstance(app, web.Application) else []
    for app in reversed(apps):
        if GATEWAY in app:
            return app[GATEWAY]
    return None


def _finish(registry: Registry, answer: _Answer) -> None:
    registry.answers += 1
    planted = (answer.planted, registry.created)
    body = bytes(answer.body)
    registry.record(scan_answer(answer.method, answer.route, answer.status, answer.headers, body, planted))
    shown = shown_secret(answer.method, answer.route, answer.status, body)
    if shown is not None:
        registry.created.add([shown])


def install() -> Callable[[], None]:
    """Wrap aiohttp's server-side writers (see the module's docstring); returns the undo."""
    from aiohttp import http_writer, web

    pending: dict[int, _Answer] = {}
    sockets: dict[int, tuple[_Answer, Any]] = {}
    originals: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, make(original))

    def on_headers(original: Any) -> Any:
        async def _write_headers(self: web.StreamResponse) -> None:
            await original(self)
            registry = _current
            request = self._req
            if registry is None or request is None:
                return
            gateway = _gateway_of(request)
            if gateway is None:
                return
            planted = gateway_secrets(gateway)
            registry.seen.add(planted.words | planted.others)
            answer = _Answer(
                request.method, _route(request), self.status, list(self.headers.items()), planted
            )
            if self.headers.get("Server") != SERVER_NAME:  # the library's name and version
                registry.record(
                    [Hit(answer.method, answer.route, self.status, "header", ("server library",))]
                )
            if isinstance(self, web.WebSocketResponse):
                _finish(registry, answer)  # the handshake; its frames are scanned one by one
                sockets[id(self)] = (answer, self)
                return
            writer = self._payload_writer
            if writer is not None:
                if (stale := pending.pop(id(writer), None)) is not None:
                    _finish(registry, stale)
                pending[id(writer)] = answer

        return _write_headers

    def on_write(original: Any) -> Any:
        async def write(self: Any, chunk: Any, *args: Any, **kwargs: Any) -> None:
            if (answer := pending.get(id(self))) is not None:
                answer.add(chunk)
            await original(self, chunk, *args, **kwargs)

        return write

    def on_eof(original: Any) -> Any:
        async def write_eof(self: Any, chunk: bytes = b"") -> None:
            answer = pending.pop(id(self), None)
            if answer is not None:
                answer.add(chunk)
                if _current is not None:
                    _finish(_current, answer)
            await original(self, chunk)

        return write_eof

    def frame(ws: web.WebSocketResponse, data: Any) -> None:
        entry = sockets.get(id(ws))
        if entry is None or entry[1] is not ws or _current is None or not data:
            return
        answer = entry[0]
        _current.record(scan_frame(answer.method, answer.route, data, (answer.planted, _current.created)))

    def on_send(original: Any) -> Any:
        async def send(self: web.WebSocketResponse, data: Any, *args: Any, **kwargs: Any) -> None:
            frame(self, data)
            await original(self, data, *args, **kwargs)

        return send

    def on_close(original: Any) -> Any:
        async def close(self: web.WebSocketResponse, *args: Any, **kwargs: Any) -> bool:
            frame(self, kwargs.get("message", b""))
            try:
                return bool(await original(self, *args, **kwargs))
            finally:
                sockets.pop(id(self), None)

        return close

    patch(web.StreamResponse, "_write_headers", on_headers)
    patch(http_writer.StreamWriter, "write", on_write)
    patch(http_writer.StreamWriter, "write_eof", on_eof)
    for name in ("send_str", "send_bytes", "send_frame"):
        patch(web.WebSocketResponse, name, on_send)
    patch(web.WebSocketResponse, "close", on_close)

    def undo() -> None:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
        if _current is not None:  # answers cut short (the client left): what was sent is scanned
            for answer in pending.values():
                _finish(_current, answer)
        pending.clear()
        sockets.clear()

    return undo


@contextlib.contextmanager
def tapping(report_dir: Path) -> Iterator[Registry]:
    """The tap in this process, and in every ``gptgate serve`` child (through ``PYTHONPATH``)."""
    registry = Registry(report_dir=report_dir)
    saved = {name: os.environ.get(name) for name in (ENV, "PYTHONPATH")}
    os.environ.update(subprocess_env(report_dir))
    undo = install()
    try:
        with recording(registry):
            yield registry
    finally:
        undo()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_SITECUSTOMIZE = '''\
"""Written by tests/observability/answerscan.py: the answer scan in a ``gptgate serve`` child."""
import os, sys
if os.environ.get({env!r}) and "serve" in sys.orig_argv[1:] and any("gptgate" in a for a in sys.orig_argv):
    import importlib.util
    _spec = importlib.util.spec_from_file_location("gptgate_answerscan", {path!r})
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["gptgate_answerscan"] = _module
    _spec.loader.exec_module(_module)
    _module.install_in_child(os.environ[{env!r}])
'''


def subprocess_env(report_dir: Path) -> dict[str, str]:
    """``ANSWERSCAN_DIR`` and a ``PYTHONPATH`` whose first entry holds the sitecustomize."""
    site = report_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(env=ENV, path=str(Path(__file__).resolve())))
    path = os.environ.get("PYTHONPATH")
    return {ENV: str(report_dir), "PYTHONPATH": str(site) + (os.pathsep + path if path else "")}


def install_in_child(report_dir: str) -> None:
    """In a ``gptgate serve`` child: the tap, each hit appended at once, the count at exit."""
    directory = Path(report_dir)

    def on_hit(hit: Hit) -> None:
        with (directory / f"hits-{os.getpid()}.jsonl").open("a") as out:
            out.write(hit.to_json() + "\n")

    registry = Registry(on_hit=on_hit)
    global _current
    _current = registry
    undo = install()

    def at_exit() -> None:
        undo()
        (directory / f"answers-{os.getpid()}.count").write_text(str(registry.answers))

    atexit.register(at_exit)


class ScanAtEnd:
    """A plugin whose ``pytest_sessionfinish`` fails the run when an answer held a secret."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        import pytest

        answers, hits = self.registry.read_children()
        answers += self.registry.answers
        hits = self.registry.hits + hits
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if not hits:
            if reporter is not None and answers:
                reporter.write_line(f"answer secrets scan: {answers} answers, no secret")
            return
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                f"answer secrets scan FAILED: secrets in {len(hits)} parts of {answers} answers:"
            )
            counts: dict[str, int] = {}
            for hit in hits:
                counts[hit.line()] = counts.get(hit.line(), 0) + 1
            for line, count in list(counts.items())[:50]:
                reporter.write_line(f"  {line}" + (f" (x{count})" if count > 1 else ""))
