"""Safe output file names for generated documents, and a guard that keeps them inside out_dir.

A contract number or a customer name becomes part of a file name, so it is treated as hostile:
it may hold path separators, ``..``, Windows reserved device names, control characters,
bidirectional-text marks that disguise an extension, or be far too long.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .env import DocumentError

__all__ = ["UnsafeOutputPath", "inside", "safe_filename"]

MAX_BYTES = 200  # well under 255: LibreOffice and some file systems add to a name (.pdf, ~lock)
_FALLBACK_STEM = "untitled"
# Characters Windows forbids in a name, plus both separators.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_RESERVED = (
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"COM{i}" for i in "0123456789¹²³"}
    | {f"LPT{i}" for i in "0123456789¹²³"}
)


class UnsafeOutputPath(DocumentError):
    """Refusing to write {name!r}: it would land outside the output folder {out_dir}. Hint: pass a bare file name made by safe_filename()."""


def _clean(text: str) -> str:
    """Drop control, format (bidi, zero-width), surrogate and unassigned characters; replace forbidden ones."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Cn", "Zl", "Zp"):
            continue
        kept.append(" " if category == "Zs" else ch)
    text = _FORBIDDEN.sub("_", "".join(kept))
    text = re.sub(r"\.{2,}", ".", text)  # no ".." anywhere
    text = re.sub(r" {2,}", " ", text)
    return text


def _strip_edges(text: str) -> str:
    # Leading dots make hidden files (and "."/".."); trailing dots and spaces are dropped by Windows.
    return text.strip(" .")


def _no_option(text: str) -> str:
    # A name starting with "-" reads as an option to the programs it is given to (soffice, rm …).
    return "_" + text if text.startswith("-") else text


def _is_reserved(stem: str) -> bool:
    # Windows treats "CON", "con.txt", "CON .tar.gz" alike: the part before the first dot counts.
    head = stem.split(".", 1)[0].rstrip(" ").upper()
    return head in _RESERVED


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut text to at most max_bytes of UTF-8 without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def _clean_ext(ext: str) -> str:
    ext = _strip_edges(_clean(ext.lstrip(".")))
    ext = re.sub(r"[^0-9A-Za-z.]", "", ext)
    return ext[:16]


def safe_filename(stem: str, ext: str, taken: set[str]) -> str:
    """A file name made from ``stem`` and ``ext`` that is valid on Windows, macOS and Linux.

    * no path separators, no ``..``, none of ``<>:"|?*``, no control or bidi/zero-width characters;
    * not a Windows reserved name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, also "CON.txt"): such a
      stem gets a leading underscore;
    * no leading or trailing dots or spaces, no leading "-"; never empty ("untitled");
    * at most 200 bytes of UTF-8 including the extension, cut on a character boundary;
    * not already in ``taken``, compared case-insensitively: a clash gets " (2)", " (3)", ...

    ``taken`` holds names already used, ideally casefolded (seed it with
    ``{p.name.casefold() for p in out_dir.iterdir()}``); the chosen name is added to it casefolded.
    ``ext`` is given without or with the dot ("docx" or ".docx"); an empty ext gives no dot.
    """
    ext = _clean_ext(ext)
    suffix_ext = f".{ext}" if ext else ""
    base = _strip_edges(_clean(stem or ""))
    if not base:
        base = _FALLBACK_STEM
    if _is_reserved(base):
        base = "_" + base
    base = _no_option(base)
    n = 1
    while True:
        counter = f" ({n})" if n > 1 else ""
        room = MAX_BYTES - len((counter + suffix_ext).encode("utf-8"))
        head = _strip_edges(_truncate_utf8(base, room))
        if head.startswith("-"):  # only when cutting uncovered one
            head = _truncate_utf8("_" + head, room)
        head = head or _FALLBACK_STEM
        candidate = f"{head}{counter}{suffix_ext}"
        key = candidate.casefold()
        if key not in taken and candidate not in taken:
            taken.add(key)
            return candidate
        n += 1


def inside(out_dir: str | Path, name: str) -> Path:
    """The path of ``name`` in ``out_dir``; raises UnsafeOutputPath if it would land anywhere else.

    Refuses absolute names, ``..``, folders (or links to folders) that lead out, and the folder
    itself. A link *at* the name is fine: outputs replace it (an atomic rename), never follow it.
    """
    base = Path(out_dir).resolve()
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts or relative.name in ("", "."):
        raise UnsafeOutputPath(name=name, out_dir=str(base))
    folder = (base / relative).parent.resolve()
    if not folder.is_relative_to(base):
        raise UnsafeOutputPath(name=name, out_dir=str(base))
    return folder / relative.name
