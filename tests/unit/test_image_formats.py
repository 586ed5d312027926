"""An input image is decoded only as PNG, JPEG or WebP, told from its bytes; anything else is refused naming ``image``."""

from __future__ import annotations

import base64
import io
import struct

import pytest
from PIL import Image

from videogen.errors import InvalidRequestError
from videogen.video.request import IMAGE_FORMATS_TEXT, decode_image

# A complete (tiny) Encapsulated PostScript file: Pillow opens it as EPS and would hand it to Ghostscript.
EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 2 2\n%%EndComments\n"
    b"newpath 0 0 moveto 2 2 lineto stroke\nshowpage\n%%EOF\n"
)
PS = b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 2 2\n%%EndComments\nshowpage\n%%EOF\n"
# The DOS EPS binary header (magic, where the PostScript starts and how long it is, no previews) in front.
BINARY_EPS_HEADER = b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIIIH", 30, len(EPS), 0, 0, 0, 0, 0xFFFF) + EPS


def _encoded(fmt: str, **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 90)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_are_decoded(fmt):
    image = decode_image(_b64(_encoded(fmt)))
    assert image.mode == "RGB" and image.size == (8, 6)
    data_url = f"data:image/{fmt.lower()};base64," + _b64(_encoded(fmt))
    assert decode_image(data_url).size == (8, 6)


@pytest.mark.parametrize(
    "raw, pillow_reads_it_as",
    [
        (_encoded("GIF"), "GIF"),
        (_encoded("BMP"), "BMP"),
        (_encoded("TIFF"), "TIFF"),
        (EPS, "EPS"),
        (PS, "EPS"),
        (BINARY_EPS_HEADER, "EPS"),
    ],
    ids=["gif", "bmp", "tiff", "eps", "ps", "binary-eps"],
)
def test_every_other_format_is_refused_before_any_decoder_sees_it(raw, pillow_reads_it_as):
    assert Image.open(io.BytesIO(raw)).format == pillow_reads_it_as  # a real file of that kind, Pillow would open it
    with pytest.raises(InvalidRequestError) as err:
        decode_image(_b64(raw))
    assert err.value.field == "image" and err.value.allowed == IMAGE_FORMATS_TEXT == "PNG, JPEG or WebP"
    # Refused for its kind, told from its bytes; not "could not be decoded" after a decoder (Ghostscript) tried.
    assert err.value.message.startswith("image: is not a PNG, JPEG or WebP image"), err.value.message


def test_a_png_name_on_other_bytes_does_not_matter():
    with pytest.raises(InvalidRequestError) as err:
        decode_image("data:image/png;base64," + _b64(_encoded("GIF")))
    assert "is not a PNG, JPEG or WebP image" in err.value.message


def test_a_png_cut_short_is_still_a_clear_refusal():
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).save(buffer, format="PNG")  # noise: its pixel data does not compress away
    with pytest.raises(InvalidRequestError) as err:
        decode_image(_b64(buffer.getvalue()[:-200]))
    assert err.value.field == "image" and "could not be decoded" in err.value.message
