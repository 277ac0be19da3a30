"""The Images API with the real openai SDK against ``gptgate serve --demo``: a generated PNG
(b64_json and a gateway link), sizes mapped, several images, and an edit of an uploaded image."""

from __future__ import annotations

import base64
import struct
import urllib.request

import pytest
from openai import BadRequestError, OpenAI

from gptgate.simulator.hosted import png


@pytest.fixture
def client(demo: str) -> OpenAI:
    return OpenAI(base_url=demo + "/v1", api_key="sk-demo", max_retries=0, timeout=20)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_generate_returns_a_decodable_png(client: OpenAI) -> None:
    result = client.images.generate(model="gpt-image-1", prompt="a red lighthouse", size="1024x1536")
    assert result.data is not None and len(result.data) == 1
    image = base64.b64decode(result.data[0].b64_json or "")
    assert _png_size(image) == (1024, 1536)
    assert result.data[0].revised_prompt == "A picture of a red lighthouse"
    assert (result.size, result.output_format) == ("1024x1536", "png")
    assert result.usage is not None and result.usage.total_tokens > 0


def test_url_output_downloads_through_the_gateway(client: OpenAI, demo: str) -> None:
    result = client.images.generate(
        prompt="a blue boat", response_format="url", quality="low", size="256x256"
    )
    assert result.data is not None
    url = result.data[0].url or ""
    assert url.startswith(demo + "/files/")
    with urllib.request.urlopen(url, timeout=10) as response:  # no key: the link is the authorization
        assert response.headers["Content-Type"] == "image/png"
        assert _png_size(response.read()) == (1024, 1024)  # DALL-E's 256x256 maps to 1024x1024
    assert result.quality == "low"


def test_n_images_are_n_turns(client: OpenAI) -> None:
    result = client.images.generate(prompt="three cats", n=3, size="1024x1024")
    assert result.data is not None and len(result.data) == 3
    for item in result.data:
        assert _png_size(base64.b64decode(item.b64_json or "")) == (1024, 1024)


def test_edit_with_an_uploaded_image(client: OpenAI) -> None:
    source = png(8, 8, (10, 20, 30))
    result = client.images.edit(
        image=("source.png", source, "image/png"), prompt="make it sunset", size="1536x1024"
    )
    assert result.data is not None
    assert _png_size(base64.b64decode(result.data[0].b64_json or "")) == (1536, 1024)


def test_bad_values_are_400s(client: OpenAI) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.images.generate(prompt="x", size="9x9")  # type: ignore[arg-type]
    assert "size" in str(caught.value)
    with pytest.raises(BadRequestError):
        client.images.generate(prompt="x", n=11)
