"""Attachments: type decided by content, limits on size and count, random storage names."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opportunities.errors import ApplicationError
from opportunities.models import Attachment
from opportunities.services.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MSG_NOT_YOUR_DRAFT,
    attachment_remove,
    attachments_add,
    clean_filename,
    sniff,
)
from tests.opportunities.factories import DraftFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    raw = b"".join(b"\x00" + bytes([10, 20, 30] * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def upload(
    name: str, content: bytes, content_type: str = "application/octet-stream"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (png_bytes(), "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "ole2"),
        (docx_bytes(), "docx"),
        (b"MZ\x90\x00\x03", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", None),
        (b"PK\x03\x04not really a zip", None),
    ],
)
def test_sniffing_decides_by_content(content: bytes, kind: str | None) -> None:
    assert sniff(io.BytesIO(content)) == kind


def test_a_plain_zip_is_not_an_office_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    assert sniff(buffer) is None


def test_good_files_are_stored_under_random_names(staff) -> None:
    draft = DraftFactory(submitter=staff)

    result = attachments_add(
        actor=staff,
        opportunity_id=draft.pk,
        uploads=[
            upload("../../etc/screen shot.png", png_bytes(), "image/png"),
            upload("notes.docx", docx_bytes()),
        ],
    )

    assert result.errors == []
    stored = list(Attachment.objects.filter(opportunity=draft).order_by("pk"))
    assert [a.original_name for a in stored] == ["screen shot.png", "notes.docx"]
    assert stored[0].content_type == "image/png"
    assert stored[1].content_type.endswith("wordprocessingml.document")
    for attachment in stored:
        assert attachment.file.name.startswith("attachments/")
        assert "screen" not in attachment.file.name
        assert "." not in attachment.file.name.rsplit("/", 1)[-1]


def test_an_exe_renamed_png_is_refused_and_the_good_one_kept(staff) -> None:
    draft = DraftFactory(submitter=staff)

    result = attachments_add(
        actor=staff,
        opportunity_id=draft.pk,
        uploads=[
            upload("holiday.png", b"MZ\x90\x00" + b"\x00" * 100, "image/png"),
            upload("ok.png", png_bytes()),
        ],
    )

    assert result.errors == [
        "“holiday.png” is not an image, PDF or Office document. Attach a PNG, JPEG, GIF or WebP "
        "image, a PDF, or a Word, Excel or PowerPoint file."
    ]
    assert [a.original_name for a in Attachment.objects.all()] == ["ok.png"]


def test_a_pdf_named_png_is_refused_as_a_mismatch(staff) -> None:
    draft = DraftFactory(submitter=staff)

    result = attachments_add(
        actor=staff, opportunity_id=draft.pk, uploads=[upload("picture.png", b"%PDF-1.4\n")]
    )

    assert result.errors == [
        "“picture.png” is named like a PNG image file but its content is a PDF file."
    ]
    assert not Attachment.objects.exists()


def test_an_oversize_file_is_refused(staff) -> None:
    draft = DraftFactory(submitter=staff)
    big = png_bytes() + b"\x00" * MAX_FILE_BYTES

    result = attachments_add(actor=staff, opportunity_id=draft.pk, uploads=[upload("big.png", big)])

    assert len(result.errors) == 1
    assert result.errors[0].startswith(
        "“big.png” is 10.0 MB. Each file must be smaller than 10.0 MB."
    )
    assert not Attachment.objects.exists()


def test_an_empty_file_is_refused(staff) -> None:
    draft = DraftFactory(submitter=staff)

    result = attachments_add(
        actor=staff, opportunity_id=draft.pk, uploads=[upload("empty.pdf", b"")]
    )

    assert result.errors == ["“empty.pdf” is empty."]


def test_fifty_uploads_are_refused_with_nothing_stored(staff, media) -> None:
    draft = DraftFactory(submitter=staff)

    result = attachments_add(
        actor=staff,
        opportunity_id=draft.pk,
        uploads=[upload(f"s{i}.png", png_bytes()) for i in range(50)],
    )

    assert result.errors == [
        f"You can attach up to {MAX_FILES} files. You chose 50, and 0 are already attached, so none of them were added."
    ]
    assert not Attachment.objects.exists()
    assert not list(media.rglob("*.*")) and not [p for p in media.rglob("*") if p.is_file()]


def test_only_the_author_attaches_to_a_draft(staff, other_staff) -> None:
    draft = DraftFactory(submitter=other_staff)

    with pytest.raises(ApplicationError) as refused:
        attachments_add(
            actor=staff, opportunity_id=draft.pk, uploads=[upload("a.png", png_bytes())]
        )

    assert refused.value.message == MSG_NOT_YOUR_DRAFT


def test_removing_an_attachment_deletes_the_file(
    staff, media, django_capture_on_commit_callbacks
) -> None:
    draft = DraftFactory(submitter=staff)
    attachments_add(actor=staff, opportunity_id=draft.pk, uploads=[upload("a.png", png_bytes())])
    attachment = Attachment.objects.get()
    path = media / attachment.file.name
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        attachment_remove(actor=staff, attachment_id=attachment.pk)

    assert not Attachment.objects.exists()
    assert not path.exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("na\x00me\r\n.png", "name.png"),
        ("   ..hidden.png  ", "hidden.png"),
        ("", "file"),
    ],
)
def test_file_names_are_cleaned_for_display(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
