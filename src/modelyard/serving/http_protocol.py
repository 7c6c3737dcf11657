"""How Modelyard runs uvicorn (`modelyard server`, a scoring replica, an endpoint's front): the
fastest HTTP parser and event loop installed, and a deadline for a request's headers on either
parser. It sits in `serving`, the lowest layer that runs a web server, so all three share it.

Parser and loop: httptools (C, llhttp) and uvloop when installed, as `uvicorn[standard]` brings
them (the `server` extra does), else uvicorn's pure-Python h11 and asyncio. The HTTP stack was
about a third of the server's time on a logged batch of 1,000 points; h11 most of that.

The deadline: uvicorn starts no timer when a connection opens, and cancels its keep-alive timer at
the first byte that arrives: a client that connects and sends nothing, or sends its headers a byte
at a time, holds its connection for ever. Here a connection must deliver a whole request line and
headers within `seconds` of opening, or of the first byte of its next request; else it is closed.
Bodies have their own limits in the request guard and the upload reader. One mixin holds the rule
and sits in front of either parser's protocol class.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final, Literal

from uvicorn.protocols.http.h11_impl import H11Protocol

from modelyard.extras import is_installed

if TYPE_CHECKING:
    from uvicorn.config import Config

Parser = Literal["h11", "httptools"]
PARSERS: Final[tuple[Parser, ...]] = ("h11", "httptools")
# h11 refuses a request line and headers over this many bytes (its default); httptools has no
# limit, so the httptools protocol below applies the same one (or uvicorn's setting for h11).
DEFAULT_MAX_HEAD_BYTES: Final = 16 * 1024


def installed_parser() -> Parser:
    """httptools when installed, else h11 (always there: uvicorn depends on it)."""
    return "httptools" if is_installed("httptools") else "h11"


def installed_loop() -> Literal["uvloop", "asyncio"]:
    return "uvloop" if is_installed("uvloop") else "asyncio"


def uvicorn_options(header_timeout_s: float, parser: Parser | None = None) -> dict[str, Any]:
    """The `http` and `loop` arguments of `uvicorn.run`/`uvicorn.Config`: the installed parser
    (or `parser`), with the header deadline, and the installed loop."""
    return {
        "http": with_header_timeout(header_timeout_s, parser or installed_parser()),
        "loop": installed_loop(),
    }


def with_header_timeout(seconds: float, parser: Parser = "h11") -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn (`http=`): `parser`'s, with the header deadline."""
    base = H11Protocol if parser == "h11" else _httptools_protocol()
    name = f"HeaderDeadline{base.__name__}"
    return type(name, (HeaderDeadline, base), {"header_timeout_s": seconds})


class HeaderDeadline(asyncio.Protocol):
    """Mixin, before a uvicorn HTTP protocol class: both keep `loop`, `transport` and `cycle`
    (the current request's, None before the first; `response_complete` once answered)."""

    header_timeout_s: float
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self._between_requests():
            self._arm_header_deadline()  # the first byte of a next request on this connection
        super().data_received(data)
        if not self._between_requests():
            self._disarm_header_deadline()  # its headers are in: the route's limits apply

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout_s, self._headers_too_slow
            )

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._between_requests():
            self.transport.close()


def _httptools_protocol() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, made to take requests as its h11 protocol does."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """Two differences from h11 closed: httptools takes a head (request line and headers)
        of any size, and leaves a fragment (`/path#frag`) out of `raw_path`, where the request
        guard looks for it to refuse it."""

        def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
            super().__init__(config, *args, **kwargs)
            self.max_head_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
            self.head_bytes = 0
            self.in_head = False  # between a request's first byte and the end of its headers

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.in_head:
                self.head_bytes += len(data)
                if self.head_bytes > self.max_head_bytes and not self.transport.is_closing():
                    self.send_400_response("Request line and headers too long.")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.in_head, self.head_bytes = True, 0

        def on_headers_complete(self) -> None:
            self.in_head = False
            super().on_headers_complete()
            if b"#" in self.url and "raw_path" in self.scope:  # as h11 gives it
                path = self.url.partition(b"?")[0]
                self.scope["raw_path"] = self.root_path.encode("ascii") + path

    return BoundedHttpToolsProtocol
