"""Files for the upload tests, made with Pillow and by hand: genuine evidence and every kind of bad file."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

GPS_IFD = 0x8825


def photo_with_location(size: tuple[int, int] = (2400, 1800)) -> bytes:
    """A JPEG photo carrying EXIF: camera, orientation and a GPS position (厦门)."""
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 50):
        for y in range(0, size[1], 50):
            image.putpixel((x, y), (x % 255, y % 255, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (24.0, 29.0, 0.0), 3: "E", 4: (118.0, 8.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_sign_in_sheet() -> bytes:
    image = Image.new("L", (800, 1100), 255)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def small_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def pdf_with_javascript() -> bytes:
    return small_pdf().replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"
    )


def decompression_bomb() -> bytes:
    """A PNG of 10,000 × 10,000 pixels that compresses to a few kilobytes."""
    image = Image.new("1", (10_000, 10_000), 0)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = photo_with_location((600, 400))
    return data[: len(data) // 2]


def windows_executable() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 48
        + b"PE\x00\x00"
        + b"\x00" * 200
    )


def elf_executable() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 300


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("x.txt", "hello")
    return out.getvalue()
