"""uvicorn's h11 protocol with a deadline for a request's headers.

uvicorn starts no timer when a connection opens, and cancels its keep-alive timer at the first
byte that arrives: a client that connects and sends nothing, or sends its headers a byte at a
time, holds its connection for ever. Here a connection must deliver a whole request line and
headers within `seconds` of opening, or of the end of its previous response; else it is closed.
Bodies have their own limits in the request guard and the upload reader.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def with_header_timeout(seconds: float) -> type[H11Protocol]:
    """The protocol class to give uvicorn (`http=`)."""

    class HeaderDeadlineProtocol(H11Protocol):
        header_timeout_s = seconds

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._header_deadline: asyncio.TimerHandle | None = None
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
            cycle: Any = self.cycle
            return cycle is None or bool(cycle.response_complete)

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

    return HeaderDeadlineProtocol
