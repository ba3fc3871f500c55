"""Tests for safe output file names and the out_dir guard."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename

from salesbook.documents.filenames import UnsafeOutputPath, inside, safe_filename

HOSTILE = [
    "/",
    "\\",
    "..",
    "CON",
    "con.txt",
    "LPT1",
    "nul ",
    "\u202e",
    "\u200f",
    "\x00",
    "\t",
    ".",
    " ",
    "合" * 200,
    "-",
    "--help",
]

names = st.lists(
    st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE)),
    max_size=6,
).map("".join)


@settings(max_examples=300)
@given(st.lists(names, min_size=1, max_size=8), st.sampled_from(["docx", "pdf", ".html", ""]))
def test_names_are_valid_bounded_inside_and_unique(tmp_path_factory, stems, ext):
    """Whatever the stems, every name is valid on Windows, fits 200 bytes, never starts with "-", stays in
    out_dir and is unique."""
    out_dir = tmp_path_factory.getbasetemp()
    taken: set[str] = set()
    made = [safe_filename(stem, ext, taken) for stem in stems]
    assert len({name.casefold() for name in made}) == len(made)
    for name in made:
        validate_filename(name, platform="windows")
        validate_filename(name, platform="linux")
        assert len(name.encode("utf-8")) <= 200
        assert not name.startswith("-")
        assert ".." not in name and "/" not in name and "\\" not in name
        assert not any(ch in name for ch in "\u202e\u200f\u200e\u2066\u2067\u2068\u2069")
        assert inside(out_dir, name).parent == out_dir.resolve()
        if ext.strip("."):
            assert name.endswith("." + ext.strip("."))


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("CON", "_CON.docx"),
        ("con.tar", "_con.tar.docx"),
        ("COM1", "_COM1.docx"),
        ("../../etc/passwd", "_._etc_passwd.docx"),
        ("合同 HT-001 / 甲公司", "合同 HT-001 _ 甲公司.docx"),
        ("report\u202egpj", "reportgpj.docx"),
        ("...", "untitled.docx"),
        ("name. . ", "name.docx"),
        ("-rf", "_-rf.docx"),
        ("--convert-to pdf", "_--convert-to pdf.docx"),
        (". -x", "_-x.docx"),
    ],
)
def test_hostile_stems(stem, expected):
    """Reserved names and names that read as options are prefixed, separators replaced, bidi marks and edge dots removed."""
    assert safe_filename(stem, "docx", set()) == expected


def test_long_chinese_name_is_cut_on_a_character_and_keeps_its_extension():
    """200 Chinese characters (600 bytes) are cut to whole characters within 200 bytes, extension kept."""
    name = safe_filename("合" * 200, "docx", set())
    assert name == "合" * 65 + ".docx"
    assert len(name.encode("utf-8")) == 200


def test_duplicates_are_numbered_case_insensitively():
    """A second and third use of a name, in any case, get (2) and (3), also when long."""
    taken: set[str] = set()
    assert safe_filename("HT-001", "docx", taken) == "HT-001.docx"
    assert safe_filename("ht-001", "docx", taken) == "ht-001 (2).docx"
    assert safe_filename("HT-001", "DOCX", taken) == "HT-001 (3).DOCX"
    long_a = safe_filename("合" * 200, "docx", taken)
    long_b = safe_filename("合" * 200, "docx", taken)
    assert long_a != long_b and long_b.endswith(" (2).docx") and len(long_b.encode()) <= 200


def test_inside_refuses_escapes(tmp_path):
    """Names that resolve outside out_dir (parent, absolute, the folder itself) are refused."""
    assert inside(tmp_path, "a.docx") == tmp_path.resolve() / "a.docx"
    for bad in ["../a.docx", "/etc/passwd", ".", "sub/../../a.docx"]:
        with pytest.raises(UnsafeOutputPath, match="outside the output folder"):
            inside(tmp_path, bad)
