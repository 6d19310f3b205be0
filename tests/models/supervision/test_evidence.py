"""Evidence uploads are checked by content, cleaned, and stored only inside the uploads folder."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from models.competition.config import UploadRules
from models.errors import InputError
from models.supervision.evidence import Upload, check_upload, check_uploads, checked_name
from tests.support import evidence_files as files

RULES = UploadRules(max_bytes=2_000_000, max_files=4, max_pixels=40_000_000, image_max_side=1600)


def test_photo_is_reencoded_scaled_and_loses_its_location():
    original = files.photo_with_location()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(files.GPS_IFD)  # the test photo has GPS
    (clean,) = check_uploads([Upload("活动照片.jpg", original, "photo")], RULES)
    image = Image.open(io.BytesIO(clean.data))
    assert (clean.media_type, image.format) == ("image/jpeg", "JPEG")
    assert max(image.size) == 1600 and (clean.width, clean.height) == image.size
    assert not image.getexif() and b"Exif" not in clean.data[:200]
    assert clean.sha256 and clean.name == "活动照片.jpg"


def test_png_and_plain_pdf_are_accepted():
    png, pdf = check_uploads(
        [
            Upload("签到表.png", files.png_sign_in_sheet(), "sign_in"),
            Upload("票据.pdf", files.small_pdf(), "receipt"),
        ],
        RULES,
    )
    assert (png.media_type, pdf.media_type, pdf.data) == ("image/png", "application/pdf", files.small_pdf())


@pytest.mark.parametrize(
    ("name", "data", "reason", "mention"),
    [
        ("photo.jpg", files.windows_executable(), "not a PDF, JPEG or PNG", "photo.jpg"),
        ("photo.jpg", files.elf_executable(), "not a PDF, JPEG or PNG", "photo.jpg"),
        ("photo.jpg", files.html_page(), "not a PDF, JPEG or PNG", "photo.jpg"),
        ("receipt.pdf", files.zip_archive(), "not a PDF, JPEG or PNG", "receipt.pdf"),
        ("receipt.pdf", files.pdf_with_javascript(), "scripts", "receipt.pdf"),
        ("photo.jpg", files.truncated_jpeg(), "damaged or truncated", "photo.jpg"),
        ("bomb.png", files.decompression_bomb(), "decompression bomb", "bomb.png"),
        ("../../x.jpg", files.png_sign_in_sheet(), "must not contain a path", "../../x.jpg"),
        ("..\\x.jpg", files.png_sign_in_sheet(), "must not contain a path", "..\\x.jpg"),
        ("CON", files.png_sign_in_sheet(), "reserved", "“CON”"),
        ("con.jpg", files.png_sign_in_sheet(), "reserved", "con.jpg"),
        ("a\x00b.jpg", files.png_sign_in_sheet(), "control characters", "a\\x00b.jpg"),
        ("a\nb.jpg", files.png_sign_in_sheet(), "control characters", "a\\nb.jpg"),
        ("a\u202eb.jpg", files.png_sign_in_sheet(), "control characters", "a\\u202eb.jpg"),
        ("", files.png_sign_in_sheet(), "must not contain a path", "“”"),
        ("x" * 121 + ".png", files.png_sign_in_sheet(), "exceeds 120", "x" * 80),
        ("empty.png", b"", "empty", "empty.png"),
    ],
)
def test_bad_upload_refused_with_a_message_naming_the_file(name, data, reason, mention):
    result = check_upload(Upload(name, data, "photo"), RULES)
    assert not hasattr(result, "data"), result
    assert reason in result.en
    assert mention in result.where


def test_oversized_and_too_many_files_refused_together():
    big = Upload("big.jpg", files.photo_with_location(), "photo", truncated=True)
    many = [Upload(f"p{i}.png", files.png_sign_in_sheet(), "sign_in") for i in range(4)]
    with pytest.raises(InputError) as caught:
        check_uploads([big, *many], RULES)
    messages = [p.en for p in caught.value.problems]
    assert any("at most 4 files" in m for m in messages)
    assert any("exceeds 2 MB" in m for m in messages)


def test_checked_name_keeps_chinese_and_normalises():
    assert checked_name(" 5月签到表（第一场）.pdf ") == "5月签到表（第一场）.pdf"
