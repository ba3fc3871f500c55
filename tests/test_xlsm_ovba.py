"""The [MS-OVBA] §2.4.1 compression: the specification's §3.2 examples and round trips."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesbook.xlsm.ovba import CHUNK_SIZE, CorruptContainer, compress, decompress

# MS-OVBA §3.2.1 (no compression possible), §3.2.2 (normal), §3.2.3 (maximum compression).
SPEC_EXAMPLES = [
    (
        b"abcdefghijklmnopqrstuv.",
        "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
    ),
    (
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
        "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D 6E 6F"
        " 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C",
    ),
    (b"a" * 73, "01 03 B0 02 61 45 00"),
]


@pytest.mark.parametrize(
    ("plain", "packed"), SPEC_EXAMPLES, ids=["3.2.1-none", "3.2.2-normal", "3.2.3-maximum"]
)
def test_compress_matches_spec_examples(plain, packed):
    """Our compressor reproduces each MS-OVBA §3.2 example byte for byte."""
    assert compress(plain) == bytes.fromhex(packed)


@pytest.mark.parametrize(
    ("plain", "packed"), SPEC_EXAMPLES, ids=["3.2.1-none", "3.2.2-normal", "3.2.3-maximum"]
)
def test_decompress_spec_examples(plain, packed):
    """Our decompressor turns each §3.2 compressed example back into its text."""
    assert decompress(bytes.fromhex(packed)) == plain


def test_empty_input_is_just_the_signature():
    """Nothing to compress gives a container of the signature byte alone."""
    assert compress(b"") == b"\x01"
    assert decompress(b"\x01") == b""


def test_incompressible_chunk_is_stored_raw():
    """A 4096-byte chunk with no repeats becomes a raw chunk (flag 0, header 0x3FFF) of exactly 4096 bytes."""
    # Pairs (i, j) never repeat a 3-byte window within the chunk.
    data = b"".join(bytes([i, j]) for i in range(8) for j in range(256))
    packed = compress(data)
    assert packed[1:3] == b"\xff\x3f"
    assert len(packed) == 1 + 2 + CHUNK_SIZE
    assert decompress(packed) == data


def test_multi_chunk_round_trip_and_olevba_agrees():
    """A source longer than one chunk survives a round trip, and oletools decompresses it the same way."""
    from oletools.olevba import decompress_stream

    text = "".join(f'    Range("A{i}").Value = {i * i} \' row {i}\r\n' for i in range(600)).encode("ascii")
    packed = compress(text)
    assert len(text) > 3 * CHUNK_SIZE
    assert decompress(packed) == text
    assert decompress_stream(packed) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=9000))
def test_round_trip_ascii_text(text):
    """Any ASCII text (without NUL) comes back unchanged, apart from the zero padding of a raw last chunk."""
    data = text.encode("ascii")
    out = decompress(compress(data))
    assert out[: len(data)] == data
    assert out[len(data) :].strip(b"\x00") == b""


def test_corrupt_containers_are_refused():
    """A wrong signature byte or a bad chunk signature is an error, not garbage output."""
    with pytest.raises(CorruptContainer):
        decompress(b"\x02\x00")
    with pytest.raises(CorruptContainer):
        decompress(b"\x01\x19\x00")
