"""The [MS-OVBA] §2.4.1 compression used for VBA module sources and the `dir` stream.

`compress` follows the specification's own algorithm (longest match, nearest candidate on ties)
so that its output reproduces the §3.2 examples byte for byte; `decompress` reads any valid
compressed container. Both work on bytes.
"""

from __future__ import annotations

import struct

CHUNK_SIZE = 4096  # bytes of decompressed data per chunk
_SIGNATURE = 0x01
_HEADER_SIGNATURE = 0b011 << 12
_HEADER_COMPRESSED = 0x8000


class CorruptContainer(ValueError):
    """The bytes are not a valid [MS-OVBA] compressed container."""


def _copy_token_help(difference: int) -> tuple[int, int]:
    """(bit count of the offset part, maximum match length) at `difference` bytes into a chunk (§2.4.1.3.19.1)."""
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _common_length(buf: bytes, a: int, b: int, end: int) -> int:
    """Length of the common run of buf[a:] and buf[b:end] (a < b)."""
    n = 0
    # Compare in blocks first: long runs (indentation) are common in source code.
    while b + n + 32 <= end and buf[a + n : a + n + 32] == buf[b + n : b + n + 32]:
        n += 32
    while b + n < end and buf[a + n] == buf[b + n]:
        n += 1
    return n


def _compress_chunk(chunk: bytes) -> bytes:
    end = len(chunk)
    body = bytearray()
    # Positions of each 3-byte prefix seen so far, nearest last: only those can give a match of 3 or more.
    seen: dict[bytes, list[int]] = {}

    def remember(start: int, stop: int) -> None:
        for i in range(start, min(stop, end - 2)):
            seen.setdefault(chunk[i : i + 3], []).append(i)

    pos = 0
    while pos < end:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len = 0
            best_candidate = 0
            for candidate in reversed(seen.get(chunk[pos : pos + 3], ())):
                length = _common_length(chunk, candidate, pos, end)
                if length > best_len:  # strict: the nearest candidate wins a tie, as in §2.4.1.3.19.4
                    best_len, best_candidate = length, candidate
            if best_len >= 3:
                bit_count, max_len = _copy_token_help(pos)
                length = min(best_len, max_len)
                offset = pos - best_candidate
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
                remember(pos, pos + length)
                pos += length
            else:
                body.append(chunk[pos])
                remember(pos, pos + 1)
                pos += 1
        body[flag_at] = flags
    if len(body) > CHUNK_SIZE:
        # Incompressible: a raw chunk always holds exactly 4096 bytes, padded with zeros (§2.4.1.3.10).
        header = _HEADER_SIGNATURE | (CHUNK_SIZE - 1)
        return struct.pack("<H", header) + chunk + bytes(CHUNK_SIZE - len(chunk))
    header = _HEADER_COMPRESSED | _HEADER_SIGNATURE | (len(body) + 2 - 3)
    return struct.pack("<H", header) + bytes(body)


def compress(data: bytes) -> bytes:
    """Compress `data` into an [MS-OVBA] CompressedContainer."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK_SIZE):
        out += _compress_chunk(data[start : start + CHUNK_SIZE])
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an [MS-OVBA] CompressedContainer."""
    if not container or container[0] != _SIGNATURE:
        raise CorruptContainer("compressed container must start with 0x01")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise CorruptContainer(f"truncated chunk header at byte {pos}")
        (header,) = struct.unpack_from("<H", container, pos)
        if header & 0x7000 != _HEADER_SIGNATURE:
            raise CorruptContainer(f"bad chunk signature at byte {pos}")
        chunk_end = pos + (header & 0x0FFF) + 3
        pos += 2
        if not header & _HEADER_COMPRESSED:
            out += container[pos : pos + CHUNK_SIZE]
            pos += CHUNK_SIZE
            continue
        chunk_start = len(out)
        chunk_end = min(chunk_end, len(container))
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(container[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise CorruptContainer(f"truncated copy token at byte {pos}")
                (token,) = struct.unpack_from("<H", container, pos)
                pos += 2
                difference = len(out) - chunk_start
                if difference == 0:
                    raise CorruptContainer("copy token at the start of a chunk")
                bit_count, _ = _copy_token_help(difference)
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > difference:
                    raise CorruptContainer(f"copy token reaches before its chunk at byte {pos - 2}")
                source = len(out) - offset
                for i in range(length):  # byte by byte: source and target may overlap
                    out.append(out[source + i])
    return bytes(out)
