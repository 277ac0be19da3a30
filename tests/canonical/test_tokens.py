from __future__ import annotations

from gptgate.canonical import items
from gptgate.canonical.request import CanonicalRequest
from gptgate.canonical.tokens import IMAGE_DEFAULT, IMAGE_LOW, count_item, count_request, count_text


def test_o200k_counts_match_the_encoding() -> None:
    # o200k_base: "hello"=24912, " world"=2375, ","=11, " say"=2891, " hi"=5911
    assert count_text("hello world, say hi") == 5
    assert count_text("") == 0


def test_a_request_counts_framing_text_and_tools() -> None:
    req = CanonicalRequest(
        model="gpt-5.5",
        input=[items.message("user", [items.text_part("user", "hello world")])],
        origin="chat",
    )
    bare = count_request(req)
    assert bare == 3 + 3 + 1 + 2  # reply priming + message framing + "user" + "hello world"
    req.instructions = "Be brief."
    with_instructions = count_request(req)
    assert with_instructions == bare + 3 + count_text("Be brief.")
    req.tools = [items.function_tool("get_weather", "Weather", None, None)]
    assert count_request(req) > with_instructions


def test_images_files_and_tool_items() -> None:
    assert count_item(items.message("user", [items.image_part("data:x", "low")])) == 3 + 1 + IMAGE_LOW
    assert count_item(items.message("user", [items.image_part("https://x/y.png")])) == 3 + 1 + IMAGE_DEFAULT
    pdf = items.file_part(file_data="data:application/pdf;base64," + "A" * 5336)
    assert count_item(items.message("user", [pdf])) == 3 + 1 + 1000
    call = items.function_call("c1", "get_weather", '{"city":"Paris"}')
    assert count_item(call) == 4 + count_text("get_weather") + count_text('{"city":"Paris"}')
    assert count_item(items.function_call_output("c1", "sunny")) == 3 + count_text("sunny")
