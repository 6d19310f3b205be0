"""Reading what the embedded SMTP sink received (.eml files) and what the documents say."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from docx import Document


def messages(mail_dir: Path) -> list[EmailMessage]:
    """Every message the sink stored, oldest file name first."""
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(Path(mail_dir).glob("*.eml"))
    ]


def with_subject(mail: list[EmailMessage], marker: str) -> list[EmailMessage]:
    return [m for m in mail if marker in str(m["subject"])]


def attachment_names(message: EmailMessage) -> list[str]:
    return [part.get_filename() or "" for part in message.iter_attachments()]


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def docx_text(path: Path) -> str:
    """Paragraphs and table cells of a .docx, one per line."""
    document = Document(str(path))
    lines = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)
