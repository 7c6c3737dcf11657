"""The server's front door: every request passes these checks before a route or a body read.

1. The request line: no fragment, no control character, valid UTF-8 once percent-decoded (400).
2. The `Host` is one this server answers to: the loopback names, the address it listens on and
   the configured `allowed_hosts` (400). A page on another site that re-points its own name at
   127.0.0.1 (DNS rebinding) sends its own name, and stops here.
3. A request that changes something (any method but GET, HEAD and OPTIONS) does not come from
   another site's page: its `Origin` is this server's own, and `Sec-Fetch-Site` is not
   cross-site (403). Clients that are not browsers send neither.
4. Its body has a content type its route takes: JSON, the login form, or an upload's own type
   (`application/octet-stream`, `application/x-tar`). The other "simple" types, which a browser
   sends cross-site without asking first, never change anything (415).
5. The caller of an API route is authenticated before a byte of the body is read (401).
6. A JSON or form body is read here, whole, within `max_json_kb` (413) and
   `request_body_timeout_s` (408), by the event loop: a slow client holds no worker thread.
   An upload streams to its route, which applies the upload limit and the same time rule.

All of this is written once, here, for every route present and future; `tests/server/` walks the
OpenAPI document to hold every route to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final
from urllib.parse import unquote_to_bytes, urlsplit

import anyio
import anyio.to_thread
from starlette.datastructures import Headers

from modelyard.errors import (
    BodyTooLarge,
    InvalidValue,
    ModelyardError,
    PermissionDenied,
    RequestTimeout,
    UnsupportedMediaType,
)
from modelyard.server.errors import error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Authenticator = Callable[[Headers, str], Any]

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
JSON_TYPE: Final = "application/json"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
UPLOAD_TYPES: Final = frozenset({"application/octet-stream", "application/x-tar"})
CALLER_KEY: Final = "modelyard.caller"  # where the authenticated caller waits in the scope
_WILDCARD_BINDS: Final = frozenset({"", "0.0.0.0", "::"})


class RequestGuard:
    """Pure ASGI middleware: the checks of the module docstring, in that order."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        allowed_hosts: Iterable[str],
        authenticate: Authenticator | None,
        max_body_bytes: int,
        body_timeout_s: float,
    ) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self.authenticate = authenticate
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._admit(scope, receive)
        except ModelyardError as refusal:
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        headers = Headers(scope=scope)
        check_request_line(scope)
        check_host(headers.get("host", ""), self.allowed_hosts)
        changes_state = scope["method"] not in SAFE_METHODS
        if changes_state:
            check_not_cross_site(headers)
        media_type = body_media_type(headers)
        if changes_state and media_type is not None:
            check_media_type(media_type, is_api_path(scope["path"]))
        if self.authenticate is not None and needs_token(scope["path"]):
            caller = await anyio.to_thread.run_sync(self.authenticate, headers, scope["method"])
            scope.setdefault("state", {})[CALLER_KEY] = caller
        if media_type in (JSON_TYPE, FORM_TYPE) or (media_type is None and has_body(headers)):
            return await read_whole_body(receive, headers, self.max_body_bytes, self.body_timeout_s)
        return receive


# 1. The request line ----------------------------------------------------------------------------


def check_request_line(scope: Scope) -> None:
    raw = bytes(scope.get("raw_path") or scope["path"].encode())
    if b"#" in raw:
        raise InvalidValue(
            "request path contains '#': a fragment is not part of a request; encode '#' as"
            " %23 if it belongs to a name",
        )
    decoded = unquote_to_bytes(raw)
    if any(byte < 0x20 or byte == 0x7F for byte in decoded):
        raise InvalidValue(
            f"request path {_shown(raw)} holds a control character (a line break, a tab or"
            " NUL, perhaps percent-encoded): names and paths may not contain them",
            path=_shown(raw),
        )
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue(
            f"request path {_shown(raw)} is not valid UTF-8 once percent-decoded (an overlong"
            " or truncated sequence such as %c0%af): percent-encode the path's UTF-8 bytes",
            path=_shown(raw),
        ) from None


def _shown(raw: bytes, limit: int = 120) -> str:
    text = raw.decode("latin-1")
    return repr(text if len(text) <= limit else text[:limit] + "…")


# 2. The Host ------------------------------------------------------------------------------------


def allowed_host_names(bind_host: str | None, configured: str) -> frozenset[str]:
    """The loopback names, the address the server listens on (unless a wildcard) and the
    configured names, as comparable host names (lower case, no brackets, no port)."""
    names = set(LOOPBACK_HOSTS)
    if bind_host and bind_host not in _WILDCARD_BINDS:
        names.add(bind_host.strip("[]").lower())
    names.update(name.strip().lower() for name in configured.split(",") if name.strip())
    return frozenset(names)


def check_host(host_header: str, allowed: frozenset[str]) -> None:
    name = host_name(host_header)
    if name not in allowed and "*" not in allowed:
        raise InvalidValue(
            f"this server does not answer to host {host_header!r}: reach it by an allowed name"
            f" ({', '.join(sorted(allowed))}), or add the name to the server's allowed hosts"
            " (MODELYARD_ALLOWED_HOSTS=name or `modelyard server --allowed-host name`)",
            host=host_header,
        )


def host_name(host_header: str) -> str:
    """'Example.com:8080' → 'example.com', '[::1]:80' → '::1'; '' for what is not a host."""
    try:
        name = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:
        return ""
    return name.lower()


# 3. Not from another site -----------------------------------------------------------------------


def check_not_cross_site(headers: Headers) -> None:
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise _cross_site(headers.get("origin") or "another site")
    origin = headers.get("origin")
    if origin is None:
        return  # not a browser (browsers send Origin with every request that changes state)
    if not _same_origin(origin, headers.get("host", "")):
        raise _cross_site(origin)


def _same_origin(origin: str, host_header: str) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host_header.lower()


def _cross_site(origin: str) -> PermissionDenied:
    return PermissionDenied(
        f"a request that changes something came from a page of {origin!r}, another site:"
        " refused; use the portal on this server, or an API client with a token",
        origin=origin,
    )


# 4. Content types -------------------------------------------------------------------------------


def body_media_type(headers: Headers) -> str | None:
    value = headers.get("content-type")
    if value is None:
        return None
    return value.partition(";")[0].strip().lower()


def check_media_type(media_type: str, api: bool) -> None:
    accepted = {JSON_TYPE, *UPLOAD_TYPES} if api else {FORM_TYPE}
    if media_type not in accepted and not (api and media_type.endswith("+json")):
        raise UnsupportedMediaType(
            f"content type {media_type!r} is not taken here: send"
            f" {' or '.join(sorted(accepted))} (a browser form or a text/plain body cannot"
            " change anything on this server)",
            content_type=media_type,
        )


def has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


# 5. Who is calling ------------------------------------------------------------------------------


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def needs_token(path: str) -> bool:
    return is_api_path(path) or path == "/openapi.json"


# 6. Bodies read whole, bounded ------------------------------------------------------------------


async def read_whole_body(
    receive: Receive, headers: Headers, limit: int, timeout_s: float
) -> Receive:
    """The body read now (≤ `limit` bytes, within `timeout_s`), replayed to the app."""
    check_declared_length(headers, limit, "the request body")
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(timeout_s) as deadline:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _replay([message])
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large("the request body", size, limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    if deadline.cancelled_caught:
        raise too_slow("request body", timeout_s)
    return _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}])


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


def check_declared_length(headers: Headers, limit: int, what: str) -> None:
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise too_large(what, int(declared), limit)


def too_large(what: str, size: int, limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"{what} ({size} bytes or more) is over the server's limit of {limit} bytes: send"
        " less (split a batch, upload large data as an artifact) or raise the limit on the"
        " server (MODELYARD_MAX_JSON_KB for JSON, MODELYARD_MAX_UPLOAD_MB for uploads)",
        size=size,
        limit=limit,
    )


def too_slow(what: str, timeout_s: float) -> RequestTimeout:
    return RequestTimeout(
        f"the {what} did not arrive within {timeout_s:g} s: send it at once (a stalled or very"
        " slow connection?), or raise MODELYARD_REQUEST_BODY_TIMEOUT_S on the server",
        timeout_s=timeout_s,
    )
