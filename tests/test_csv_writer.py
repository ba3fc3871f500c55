"""write_csv makes its rows with Arrow's kernels: the bytes must be those csv.writer writes of csv_column's cells."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesbook.io import writers
from salesbook.io.writers import csv_column, needs_neutralising, write_csv

# Characters that decide quoting and neutralising, and every space str.lstrip strips.
_SPECIAL = [",", '"', "\r", "\n", "\t", "=", "+", "-", "@", "＝", "＋", "－", "＠", "'", " ", "客", "é"] + \
    [chr(c) for c in range(0x3001) if chr(c).isspace()]
_texts = st.text(alphabet=st.sampled_from(_SPECIAL) | st.characters(codec="utf-8"), max_size=8)


def _reference(frame: pd.DataFrame, neutralise: bool) -> bytes:
    """What the writer wrote before it used Arrow: csv.writer, row by row."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([str(c) for c in frame.columns])
    w.writerows(zip(*(csv_column(frame.iloc[:, j], neutralise) for j in range(frame.shape[1])), strict=True))
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.none() | _texts, _texts, st.floats(allow_nan=True) | st.just(-0.0),
                               st.integers(-2**63, 2**63 - 1), st.booleans(),
                               st.none() | _texts | st.dates() | st.integers(-5, 5)), max_size=12),
       neutralise=st.booleans(), block=st.integers(1, 5))
def test_write_csv_gives_csv_writers_bytes(tmp_path, monkeypatch, rows, neutralise, block):
    monkeypatch.setattr(writers, "CSV_BLOCK_ROWS", block)  # blocks of a few rows: their seams are tested too
    frame = pd.DataFrame(rows, columns=["text, or none", 'say "hi"', "amount", "count", "flag", "mixed"])
    frame = frame.astype({"text, or none": "str", 'say "hi"': "str", "amount": "float64", "count": "int64",
                          "flag": "bool"})
    frame["mixed"] = frame["mixed"].astype(object)
    path = write_csv(tmp_path / "out.csv", frame, neutralise=neutralise)
    assert path.read_bytes() == _reference(frame, neutralise)


def test_formula_starts_are_neutralised_as_needs_neutralising_says(tmp_path):
    texts = ["=1+1", " =1", "\u3000＝SUM(A1)", "\u00a0+1", "-", "@x", "\tx", "\rx", "\nx", "x=1", "", "  ", "'=1",
             "\u200b=1", "１+1", "a,b", 'a"b', "a\r\nb"]
    frame = pd.DataFrame({"t": pd.Series(texts, dtype="str")})
    with open(write_csv(tmp_path / "f.csv", frame), encoding="utf-8-sig", newline="") as fh:
        read = [r[0] for r in csv.reader(fh)][1:]
    assert read == [("'" + t if needs_neutralising(t) else t) for t in texts]
    assert read[0] == "'=1+1" and read[1] == "' =1" and read[9] == "x=1" and read[13] == "\u200b=1"


def test_the_last_space_is_the_last_lstrip_strips():
    """The formula pattern lists the spaces below U+3001: no character above it is a space."""
    assert not any(chr(c).isspace() for c in range(0x3001, 0x110000))


def test_other_columns_are_written_as_csv_writer_writes_them(tmp_path):
    frame = pd.DataFrame({
        "day": [date(2026, 11, 3), None, date(2026, 1, 1)],
        "when": [datetime(2026, 11, 3, 9, 30), None, datetime(2026, 1, 1)],
        "n": pd.array([1, None, 3], dtype="Int64"), "yes": pd.array([True, None, False], dtype="boolean"),
        "f32": pd.Series([1.5, math.nan, 0.1], dtype="float32"),
        "cat": pd.Categorical(["a,b", "=x", "a,b"]),
        "objnum": pd.Series([1.5, 2, "=3"], dtype=object),
    })
    assert write_csv(tmp_path / "o.csv", frame).read_bytes() == _reference(frame, True)


def test_no_columns_and_no_rows(tmp_path):
    assert write_csv(tmp_path / "a.csv", pd.DataFrame(index=range(3))).read_bytes() == _reference(
        pd.DataFrame(index=range(3)), True)
    empty = pd.DataFrame({"a": pd.Series([], dtype="str"), "b": pd.Series([], dtype="float64")})
    assert write_csv(tmp_path / "b.csv", empty).read_bytes() == b"\xef\xbb\xbfa,b\r\n"


def test_one_column_frames_keep_their_empty_rows(tmp_path):
    frame = pd.DataFrame({"": pd.Series(["", "x", None], dtype="str")})
    data = write_csv(tmp_path / "one.csv", frame).read_bytes()
    assert data == _reference(frame, True) == b'\xef\xbb\xbf""\r\n""\r\nx\r\n""\r\n'


def test_nullable_numbers_leave_blanks_blank(tmp_path):
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "yes": pd.array([None, True], dtype="boolean")})
    assert write_csv(tmp_path / "n.csv", frame).read_bytes() == b"\xef\xbb\xbfn,yes\r\n1,\r\n,TRUE\r\n"
