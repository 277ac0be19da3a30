"""The one place a stream is written to a client.

Each batch of canonical events (everything one upstream read completed) becomes one write, so
a burst costs one syscall, not one per event. The response headers wait for the first batch
and go out in the same write, and the batch that ends the stream goes out with the chunked
end marker: a stream the upstream sent in one read is one write to the client, headers, body
and end together. While the upstream is silent a keep-alive is sent every ``interval`` seconds
by one ticker shared by every open stream of the process (no timer or task per stream). A
client that disconnects cancels the handler (aiohttp ``handler_cancellation``), and the
``finally`` closes the upstream request.
"""

from __future__ import annotations

import logging

from aiohttp import web

from gptgate import SERVER_NAME
from gptgate.canonical.events import TERMINAL
from gptgate.streaming.keepalive import ticker_for
from gptgate.streaming.stream import EventStream, StreamEncoder

log = logging.getLogger("gptgate.relay")

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "Server": SERVER_NAME,
}


class SSEResponse(web.StreamResponse):
    """A streamed response whose headers are held until its first write (aiohttp's own
    ``Response`` does the same), so they share that write's syscall."""

    _send_headers_immediately = False


async def relay(
    request: web.Request,
    stream: EventStream,
    encoder: StreamEncoder,
    *,
    keepalive: float,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    # (the response copies its headers: the shared dict is never changed)
    resp = SSEResponse(status=200, headers={**SSE_HEADERS, **headers} if headers else SSE_HEADERS)
    try:
        await resp.prepare(request)
        ticker = ticker_for(keepalive)
        alive = ticker.watch(resp, encoder.keepalive)
        loop_time = ticker.time
        ended = False
        try:
            async for batch in stream:
                if ended:
                    continue  # the answer is complete; the rest is drained with the upstream
                data = encoder.feed(batch)
                alive.last = loop_time()
                if batch[-1].type in TERMINAL:
                    ended = True
                    await resp.write_eof(data + encoder.finish())
                elif data or not alive.sent:
                    alive.sent = True
                    await resp.write(data)  # the first write carries the headers, even if empty
                # an idle stream holds neither the events it relayed nor the bytes it wrote
                del batch, data
        finally:
            ticker.discard(alive)
        if not ended:
            await resp.write_eof(encoder.finish())
    except (ConnectionResetError, ConnectionError) as exc:
        log.debug("client went away: %s", exc.__class__.__name__)
    finally:
        await stream.aclose()
    return resp
