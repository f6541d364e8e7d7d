"""Receive a multipart form straight into one request's folder, within a byte limit.

FastAPI's ``UploadFile`` spools large files to the system's temporary directory; here the
body is streamed through python-multipart with ``UPLOAD_DIR`` set to the request's own folder,
so uploads never land anywhere else, and reading stops as soon as the body passes the limit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096
FILE_FIELDS = ("clip", "reference")
SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class UploadError(Exception):
    """A request whose form cannot be accepted; ``status`` is the HTTP code to answer with."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # field name -> file in the request folder
    names: dict[str, str] = field(default_factory=dict)  # field name -> the uploader's file name


def display_name(raw: bytes | str | None, fallback: str) -> str:
    """The uploader's file name, reduced to a safe, short base name for messages."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    name = os.path.basename((raw or "").replace("\\", "/"))
    name = re.sub(r"[^\w .()+-]", "_", name).strip()[:80]
    return name or fallback


async def read_form(request, folder: Path, max_bytes: int, too_big) -> Form:
    """Parse the multipart body of ``request``; files go to ``folder/upload-{field}``.

    ``too_big(size_or_None) -> str`` words the message for a body over ``max_bytes``.

    Raises:
        UploadError: not multipart (415), over the limit (413), malformed (400).
    """
    from python_multipart import create_form_parser
    from python_multipart.exceptions import FormParserError
    from starlette.requests import ClientDisconnect

    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise UploadError(415, "bad_request", "Send the clip as a multipart/form-data form (field 'clip').")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise UploadError(413, "too_large", too_big(int(length)))

    form, opened = Form(), []

    def on_field(f) -> None:
        name = (f.field_name or b"").decode("utf-8", "replace")
        value = f.value or b""
        if len(form.fields) >= MAX_FIELDS or len(value) > MAX_FIELD_BYTES:
            raise UploadError(400, "bad_request", "The form has too many or too large fields.")
        form.fields[name] = value.decode("utf-8", "replace").strip()

    def on_file(f) -> None:
        opened.append(f)
        name = (f.field_name or b"").decode("utf-8", "replace")
        if name not in FILE_FIELDS or name in form.files:
            raise UploadError(400, "bad_request", f"Unexpected file field {name[:40]!r}; use 'clip' and 'reference'.")
        if f.size == 0:  # an empty file input of a browser form: no file chosen
            return
        shown = display_name(f.file_name, f"{name}.wav")
        suffix = os.path.splitext(shown)[1].lower()
        target = folder / f"upload-{name}{suffix if suffix in SUFFIXES else ''}"  # libsndfile sniffs the rest
        if f.in_memory:
            target.write_bytes(f.file_object.getvalue())
        else:
            f.file_object.close()
            os.replace(os.fsdecode(f.actual_file_name), target)
        form.files[name] = target
        form.names[name] = shown

    config = {"UPLOAD_DIR": str(folder), "UPLOAD_DELETE_TMP": False, "MAX_MEMORY_FILE_SIZE": 256 * 1024}
    try:
        parser = create_form_parser({"Content-Type": ctype.encode("latin-1")}, on_field, on_file, config=config)
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise UploadError(413, "too_large", too_big(None))
            parser.write(chunk)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise UploadError(400, "bad_request", f"The upload is not a valid form ({str(exc)[:120]}).") from None
    except ClientDisconnect:
        raise UploadError(400, "bad_request", "The upload was interrupted.") from None
    finally:
        for f in opened:
            f.close()
    return form
