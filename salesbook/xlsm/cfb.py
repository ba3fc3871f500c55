"""A writer for [MS-CFB] compound files, version 3 (512-byte sectors), enough for a vbaProject.bin.

Streams are given as a mapping of '/'-separated paths to bytes; storages are implied by the
paths. Streams below 4096 bytes live in the mini stream (64-byte mini sectors). Each storage's
children form a red-black tree ordered as §2.6.4 requires (name length, then upper-case name).
Output is deterministic: zero timestamps, zero CLSIDs, a fixed layout.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_HEADER_DIFAT_SLOTS = 109
_TYPE_STORAGE, _TYPE_STREAM, _TYPE_ROOT = 1, 2, 5
_RED, _BLACK = 0, 1


class CompoundFileError(ValueError):
    """The streams cannot be laid out as a compound file (bad name or too large)."""


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def sort_key(name: str) -> tuple[int, str]:
    """The §2.6.4 order of sibling names: shorter first, then by upper-cased name."""
    return (len(name.encode("utf-16-le")) // 2, name.upper())


def _check_name(name: str) -> None:
    if not name or len(name) > 31 or any(c in name for c in "/\\:!"):
        raise CompoundFileError(f"invalid compound file entry name {name!r} (1-31 chars, no / \\ : !)")


def _tree(entries: list[_Entry], parent: _Entry) -> None:
    """Make `entries` a balanced binary search tree under `parent`, coloured as a valid red-black tree.

    A midpoint-split tree is full on every level but the deepest, so colouring that deepest level
    red (when it is not full) and everything else black keeps all black heights equal.
    """
    ordered = sorted(entries, key=lambda e: sort_key(e.name))
    keys = [sort_key(e.name) for e in ordered]
    if len(set(keys)) != len(keys):
        raise CompoundFileError(f"duplicate entry names under {parent.name!r}")
    depth_of: dict[int, int] = {}

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = ordered[mid]
        depth_of[id(node)] = depth
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        return node.sid

    parent.child = build(0, len(ordered), 0)
    if not ordered:
        return
    deepest = max(depth_of.values())
    full = len(ordered) == 2 ** (deepest + 1) - 1
    for node in ordered:
        node.color = _RED if (not full and depth_of[id(node)] == deepest) else _BLACK


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i + 1 < count else ENDOFCHAIN


def _pad(data: bytes, unit: int) -> bytes:
    return data + bytes(-len(data) % unit)


def build_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """Return the bytes of a version 3 compound file holding `streams` ('Storage/Stream' paths)."""
    root = _Entry("Root Entry", _TYPE_ROOT)
    for path in sorted(streams):
        *dirs, leaf = path.split("/")
        node = root
        for name in dirs:
            _check_name(name)
            found = next((c for c in node.children if c.name == name), None)
            if found is None:
                found = _Entry(name, _TYPE_STORAGE)
                node.children.append(found)
            elif found.kind != _TYPE_STORAGE:
                raise CompoundFileError(f"{name!r} is both a stream and a storage")
            node = found
        _check_name(leaf)
        if any(c.name == leaf for c in node.children):
            raise CompoundFileError(f"duplicate entry {path!r}")
        node.children.append(_Entry(leaf, _TYPE_STREAM, data=bytes(streams[path])))

    # Directory order: breadth first from the root, so the root is entry 0.
    entries: list[_Entry] = []
    queue = [root]
    while queue:
        node = queue.pop(0)
        node.sid = len(entries)
        entries.append(node)
        queue.extend(sorted(node.children, key=lambda e: sort_key(e.name)))
    for node in entries:
        if node.kind in (_TYPE_ROOT, _TYPE_STORAGE):
            _tree(node.children, node)

    streams_list = [e for e in entries if e.kind == _TYPE_STREAM]
    small = [e for e in streams_list if len(e.data) < MINI_STREAM_CUTOFF]
    large = [e for e in streams_list if len(e.data) >= MINI_STREAM_CUTOFF]

    # Mini stream and its allocation table.
    mini_stream = bytearray()
    minifat: list[int] = []
    for e in small:
        e.size = len(e.data)
        if not e.data:
            e.start = ENDOFCHAIN
            continue
        count = -(-len(e.data) // MINI_SECTOR_SIZE)
        e.start = len(minifat)
        minifat.extend([0] * count)
        _chain(minifat, e.start, count)
        mini_stream += _pad(e.data, MINI_SECTOR_SIZE)

    # Regular sectors: large streams, mini stream container, mini FAT, directory, then the FAT itself.
    body: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        if not data:
            return ENDOFCHAIN
        count = -(-len(data) // SECTOR_SIZE)
        first = len(fat)
        fat.extend([0] * count)
        _chain(fat, first, count)
        body.append(_pad(data, SECTOR_SIZE))
        return first

    for e in large:
        e.size = len(e.data)
        e.start = allocate(e.data)
    root.start = allocate(bytes(mini_stream))
    root.size = len(mini_stream)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_bytes += b"\xff" * (-len(minifat_bytes) % SECTOR_SIZE)  # unused slots are FREESECT
    minifat_start = allocate(minifat_bytes) if minifat else ENDOFCHAIN
    minifat_sectors = len(minifat_bytes) // SECTOR_SIZE if minifat else 0

    directory = bytearray()
    for e in entries:
        directory += _dir_entry(e)
    while len(directory) % SECTOR_SIZE:
        directory += _free_dir_entry()
    dir_start = allocate(bytes(directory))

    # The FAT describes itself: find the number of FAT sectors n with 128 n >= sectors + n.
    per_sector = SECTOR_SIZE // 4
    n_fat = 1
    while per_sector * n_fat < len(fat) + n_fat:
        n_fat += 1
    if n_fat > _HEADER_DIFAT_SLOTS:
        raise CompoundFileError("VBA project too large for a compound file without DIFAT sectors")
    fat_start = len(fat)
    fat.extend([FATSECT] * n_fat)
    fat.extend([FREESECT] * (per_sector * n_fat - len(fat)))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)

    difat = list(range(fat_start, fat_start + n_fat)) + [FREESECT] * (_HEADER_DIFAT_SLOTS - n_fat)
    header = bytearray()
    header += _SIGNATURE
    header += bytes(16)  # header CLSID
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)  # minor, major v3, byte order, shifts
    header += bytes(6)
    header += struct.pack("<I", 0)  # directory sectors: must be 0 in version 3
    header += struct.pack("<I", n_fat)
    header += struct.pack("<I", dir_start)
    header += struct.pack("<I", 0)  # transaction signature
    header += struct.pack("<I", MINI_STREAM_CUTOFF)
    header += struct.pack("<II", minifat_start, minifat_sectors)
    header += struct.pack("<II", ENDOFCHAIN, 0)  # no DIFAT sectors
    header += struct.pack(f"<{_HEADER_DIFAT_SLOTS}I", *difat)
    assert len(header) == SECTOR_SIZE
    return bytes(header) + b"".join(body) + fat_bytes


def _dir_entry(e: _Entry) -> bytes:
    name = e.name.encode("utf-16-le") + b"\x00\x00"
    out = bytearray(name.ljust(64, b"\x00"))
    out += struct.pack("<HBB", len(name), e.kind, e.color)
    out += struct.pack("<III", e.left, e.right, e.child)
    out += bytes(16)  # CLSID
    out += struct.pack("<I", 0)  # state bits
    out += bytes(16)  # creation and modification times: zero, for identical output
    out += struct.pack("<IQ", e.start if (e.kind == _TYPE_ROOT or e.size) else ENDOFCHAIN, e.size)
    if e.kind == _TYPE_STORAGE:
        out[116:128] = struct.pack("<IQ", 0, 0)
    assert len(out) == 128
    return bytes(out)


def _free_dir_entry() -> bytes:
    out = bytearray(128)
    out[68:80] = struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)
    return bytes(out)
