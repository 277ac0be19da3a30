"""Request helpers: the body is read within the limit and not kept on the request."""

from __future__ import annotations

import gzip

import aiohttp
import orjson
from aiohttp import web

from gptgate.errors import GatewayError
from gptgate.http import read_body
from tests.support import serve_app


async def serve_reader() -> tuple[web.AppRunner, str]:
    async def handler(request: web.Request) -> web.Response:
        try:
            body = await read_body(request)
        except GatewayError as exc:
            return web.json_response({"status": exc.status, "message": exc.message})
        # read_body consumed the stream and kept nothing: aiohttp has no copy to give back
        kept = await request.read()
        return web.json_response({"size": len(body), "head": body[:20].decode(), "kept": len(kept)})

    app = web.Application()
    app.router.add_post("/", handler)
    return await serve_app(app)


async def post(base: str, data: bytes, headers: dict[str, str] | None = None) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.post(base + "/", data=data, headers=headers) as resp:
        answer: dict[str, object] = orjson.loads(await resp.read())
        return answer


async def test_the_body_is_read_whole_and_not_kept_on_the_request() -> None:
    runner, base = await serve_reader()
    try:
        small = b'{"model":"gpt-5.5"}'
        assert await post(base, small) == {"size": 19, "head": '{"model":"gpt-5.5"}', "kept": 0}
        big = b'{"input":"' + b"x" * 300_000 + b'"}'
        assert await post(base, big) == {"size": 300_012, "head": '{"input":"xxxxxxxxxx', "kept": 0}

        async def chunked() -> object:
            for start in range(0, len(big), 65_536):
                yield big[start : start + 65_536]

        assert await post(base, chunked()) == {"size": 300_012, "head": '{"input":"xxxxxxxxxx', "kept": 0}  # type: ignore[arg-type]
        assert await post(base, gzip.compress(big), {"Content-Encoding": "gzip"}) == {
            "size": 300_012,
            "head": '{"input":"xxxxxxxxxx',
            "kept": 0,
        }
    finally:
        await runner.cleanup()


async def test_a_body_that_does_not_decode_is_the_clients_400() -> None:
    # (the size limit is the gateway's: tests/test_app_errors.py sends bodies over it)
    runner, base = await serve_reader()
    try:
        answer = await post(base, b"not gzip at all", {"Content-Encoding": "gzip"})
        assert answer == {
            "status": 400,
            "message": "The request body could not be read as declared by Content-Encoding: 'gzip'; "
            "send a well-formed body.",
        }
    finally:
        await runner.cleanup()
