"""Attachments: screenshots and documents, type checked by their content, stored under random
names and only ever served through a permission-checked view.

The type is decided from the file's first bytes (its signature), never from the name or the
browser's Content-Type: an .exe renamed .png is refused, and the stored content type is the
sniffed one. Office documents are ZIP (OOXML) or OLE2 containers; a ZIP counts as an Office
file only when it holds the parts that make one.
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Attachment, Opportunity
from synergy_portal.permissions import Action, can

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10

MSG_TOO_MANY = "You can attach up to {limit} files. You chose {chosen}, and {existing} {verb} already attached, so none of them were added."
MSG_TOO_BIG = "“{name}” is {size}. Each file must be smaller than {limit}."
MSG_EMPTY = "“{name}” is empty."
MSG_BAD_TYPE = (
    "“{name}” is not an image, PDF or Office document. Attach a PNG, JPEG, GIF or WebP image, "
    "a PDF, or a Word, Excel or PowerPoint file."
)
MSG_NAME_MISMATCH = "“{name}” is named like a {claimed} file but its content is a {actual} file."
MSG_NOT_YOUR_DRAFT = "You can only change attachments on your own draft."

# label, extensions a file of this kind may have, content type to store and serve it with
KINDS: dict[str, tuple[str, frozenset[str], str]] = {
    "png": ("PNG image", frozenset({".png"}), "image/png"),
    "jpeg": ("JPEG image", frozenset({".jpg", ".jpeg", ".jfif"}), "image/jpeg"),
    "gif": ("GIF image", frozenset({".gif"}), "image/gif"),
    "webp": ("WebP image", frozenset({".webp"}), "image/webp"),
    "pdf": ("PDF", frozenset({".pdf"}), "application/pdf"),
    "docx": (
        "Word document",
        frozenset({".docx"}),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        "Excel workbook",
        frozenset({".xlsx"}),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pptx": (
        "PowerPoint presentation",
        frozenset({".pptx"}),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    # Legacy Office (OLE2 compound file): the container does not say which program made it.
    "ole2": (
        "Office document",
        frozenset({".doc", ".xls", ".ppt", ".msg"}),
        "application/x-ole-storage",
    ),
}
IMAGE_KINDS = frozenset({"png", "jpeg", "gif", "webp"})
ACCEPT = ",".join(sorted({ext for _, exts, _ in KINDS.values() for ext in exts}))
_OLE2_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
}
_OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}


def sniff(stream: IO[bytes]) -> str | None:
    """The kind of file ``stream`` holds (a key of KINDS), or None. Leaves it rewound."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    kind: str | None = None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        kind = "gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "webp"
    elif head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        kind = "ole2"
    elif head.startswith(b"PK\x03\x04"):
        kind = _ooxml_kind(stream)
    stream.seek(0)
    return kind


def _ooxml_kind(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in _OOXML_PARTS.items():
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def clean_filename(name: str) -> str:
    """A display name safe to show and to put in a Content-Disposition header."""
    name = os.path.basename(name.replace("\\", "/"))
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .") or "file"
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext[:20])] + ext[:20]
    return name


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    kind: str
    content_type: str


@dataclass
class AttachResult:
    added: list[Attachment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Raise ValidationError with a message naming the file unless it may be attached."""
    name = clean_filename(upload.name or "file")
    if not upload.size:
        raise ValidationError(MSG_EMPTY.format(name=name), code="empty")
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(
            MSG_TOO_BIG.format(
                name=name, size=human_size(upload.size), limit=human_size(MAX_FILE_BYTES)
            ),
            code="too_big",
        )
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(MSG_BAD_TYPE.format(name=name), code="bad_type")
    ext = os.path.splitext(name)[1].lower()
    label, extensions, content_type = KINDS[kind]
    if ext not in extensions:
        claimed = next((k for k, (_, exts, _) in KINDS.items() if ext in exts), None)
        if claimed is None:
            raise ValidationError(MSG_BAD_TYPE.format(name=name), code="bad_type")
        raise ValidationError(
            MSG_NAME_MISMATCH.format(name=name, claimed=KINDS[claimed][0], actual=label),
            code="mismatch",
        )
    if kind == "ole2":
        content_type = _OLE2_TYPES[ext]
    return CheckedFile(upload=upload, name=name, kind=kind, content_type=content_type)


def attachments_add(
    *, actor: Any, opportunity_id: int, uploads: list[UploadedFile]
) -> AttachResult:
    """Attach the acceptable files to the actor's draft; report the others by name.

    Too many files in total refuses the whole batch (with nothing stored), so the person
    chooses which to keep rather than the portal choosing for them.
    """
    result = AttachResult()
    if not uploads:
        return result
    stored: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
            if not can(actor, Action.EDIT_DRAFT, opp):
                raise ApplicationError(MSG_NOT_YOUR_DRAFT, {"forbidden": True})
            existing = opp.attachments.count()
            if existing + len(uploads) > MAX_FILES:
                result.errors.append(
                    MSG_TOO_MANY.format(
                        limit=MAX_FILES,
                        chosen=len(uploads),
                        existing=existing,
                        verb="is" if existing == 1 else "are",
                    )
                )
                return result
            checked: list[CheckedFile] = []
            for upload in uploads:
                try:
                    checked.append(check_upload(upload))
                except ValidationError as error:
                    result.errors.extend(error.messages)
            now = timezone.now()
            for item in checked:
                attachment = Attachment(
                    opportunity=opp,
                    original_name=item.name,
                    content_type=item.content_type,
                    size=item.upload.size,
                    uploaded_by=actor,
                    created_at=now,
                )
                # The storage picks a random name (attachment_path), never the upload's name.
                attachment.file.save("upload", item.upload, save=False)
                stored.append((attachment.file.storage, attachment.file.name))
                attachment.full_clean()
                attachment.save()
                result.added.append(attachment)
    except BaseException:
        # Django has no on-rollback hook: remove the files whose rows did not commit.
        for storage, path in stored:
            storage.delete(path)
        raise
    return result


@transaction.atomic
def attachment_remove(*, actor: Any, attachment_id: int) -> Opportunity:
    """Remove an attachment from the actor's own draft (the file goes once the row has)."""
    attachment = Attachment.objects.select_related("opportunity").get(pk=attachment_id)
    opp = Opportunity.objects.select_for_update().get(pk=attachment.opportunity_id)
    if not can(actor, Action.EDIT_DRAFT, opp):
        raise ApplicationError(MSG_NOT_YOUR_DRAFT, {"forbidden": True})
    storage, path = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(path))
    return opp
