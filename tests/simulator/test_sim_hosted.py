"""The backend's own tools in the simulator: image generation and web search (hosted.py)."""

from __future__ import annotations

import base64
import struct
import zlib

import aiohttp

from gptgate.simulator import RunningSimulator
from gptgate.simulator.hosted import cited_text, png
from tests.simulator.sim_helpers import EXEC_COMMAND, assert_sequence, turn_body, types
from tests.simulator.test_sim_replies import reply

IMAGE_TOOL = {"type": "image_generation", "size": "64x32", "quality": "low"}
SEARCH_TOOL = {"type": "web_search", "external_web_access": False}


def test_png_is_a_valid_png() -> None:
    data = png(3, 2, (1, 2, 3))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (3, 2)
    length = struct.unpack(">I", data[33:37])[0]
    assert zlib.decompress(data[41 : 41 + length]) == (b"\x00" + b"\x01\x02\x03" * 3) * 2


async def test_image_turn_events_and_item(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body("Draw a picture of a cat", tools=[IMAGE_TOOL, EXEC_COMMAND]))
    assert_sequence(events)
    assert types(events)[2:8] == [
        "response.output_item.added",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed",
        "response.output_item.done",
        "response.output_item.added",
    ]
    assert events[2]["item"] == {
        "id": events[2]["item"]["id"],
        "type": "image_generation_call",
        "status": "in_progress",
    }
    assert events[3] == {
        "type": "response.image_generation_call.in_progress",
        "sequence_number": 3,
        "output_index": 0,
        "item_id": events[2]["item"]["id"],
    }
    item = events[6]["item"]
    assert item["id"].startswith("ig_") and item["status"] == "completed"
    assert (item["size"], item["quality"], item["output_format"]) == ("64x32", "low", "png")
    assert item["revised_prompt"] == "A picture of Draw a picture of a cat"
    image = base64.b64decode(item["result"])
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", image[16:24]) == (64, 32)
    final = events[-1]["response"]["output"]
    assert [o["type"] for o in final] == ["image_generation_call", "message"]
    assert final[1]["content"][0]["text"] == "Here is the image you asked for."


async def test_image_by_directive_only_when_offered(
    http: aiohttp.ClientSession, sim: RunningSimulator
) -> None:
    offered = await reply(http, sim, turn_body("[[sim:image]] a cat", tools=[IMAGE_TOOL]))
    assert offered[-1]["response"]["output"][0]["type"] == "image_generation_call"
    plain = await reply(http, sim, turn_body("[[sim:image]] a cat"))
    assert [o["type"] for o in plain[-1]["response"]["output"]] == ["message"]


async def test_search_turn_cites(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body("[[sim:search]] gptgate releases", tools=[SEARCH_TOOL])
    events = await reply(http, sim, body)
    assert types(events)[2:7] == [
        "response.output_item.added",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.output_item.done",
    ]
    search = events[6]["item"]
    assert search == {
        "id": search["id"],
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "gptgate releases"},
    }
    text, annotations = cited_text("gptgate releases")
    assert annotations[0] == {
        "type": "url_citation",
        "start_index": text.index("([Example Domain]"),
        "end_index": text.index("([Example Domain]")
        + len("([Example Domain](https://example.com/search-result-1))"),
        "url": "https://example.com/search-result-1",
        "title": "Example Domain",
    }
    added = [e for e in events if e["type"] == "response.output_text.annotation.added"]
    assert [e["annotation"] for e in added] == annotations
    assert [e["annotation_index"] for e in added] == [0, 1]
    message = events[-1]["response"]["output"][1]
    assert message["content"][0]["text"] == text
    assert message["content"][0]["annotations"] == annotations


async def test_codex_prompts_do_not_search(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    events = await reply(http, sim, turn_body("Say hi", tools=[SEARCH_TOOL, EXEC_COMMAND]))
    assert [o["type"] for o in events[-1]["response"]["output"]] == ["function_call"]


async def test_search_sources_when_included(http: aiohttp.ClientSession, sim: RunningSimulator) -> None:
    body = turn_body(
        "please look up the weather", tools=[SEARCH_TOOL], include=["web_search_call.action.sources"]
    )
    events = await reply(http, sim, body)
    action = events[-1]["response"]["output"][0]["action"]
    assert action["sources"] == [
        {"type": "url", "url": "https://example.com/search-result-1"},
        {"type": "url", "url": "https://example.org/search-result-2"},
    ]
