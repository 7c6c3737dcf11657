"""Server-sent events (text/event-stream) from a service's stream of log events.

One event per chunk, its JSON on one `data:` line (JSON escapes newlines, so a log line can never
end the event early), its `id:` the byte offset after it, which a reconnecting EventSource sends
back as `Last-Event-ID`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from modelyard.services.log_stream import KeepAlive, LogChunk, LogEnd, LogEvent


async def server_sent_events(events: AsyncIterator[LogEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield _encoded(event)


def _encoded(event: LogEvent) -> str:
    match event:
        case LogChunk(text, offset):
            return _event("log", {"text": text, "offset": offset}, offset)
        case LogEnd(status, offset):
            return _event("end", {"status": status.value, "offset": offset}, offset)
        case KeepAlive():
            return ": keep-alive\n\n"


def _event(name: str, data: dict[str, object], event_id: int) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
