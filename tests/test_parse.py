"""Value parsers of SPEC §3.1: properties over generated values (hypothesis), then edge cases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from salesbook.core.parse import (
    PatternError,
    normalize_phone,
    parse_date,
    parse_id,
    parse_int,
    parse_money,
    parse_number,
    parse_pct,
    parse_phone,
)

EXCEL_EPOCH = date(1899, 12, 30)
dates = st.dates(date(2000, 1, 1), date(2099, 12, 31))
FULL_WIDTH = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")

DATE_FORMATS = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dot": lambda d: f"{d.year}.{d.month}.{d.day}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "padded slash": lambda d: d.strftime("%Y/%m/%d"),
    "with time": lambda d: f"{d.isoformat()} 09:30:00",
    "full width": lambda d: d.isoformat().translate(FULL_WIDTH),
    "spaced": lambda d: f"  {d.year} 年 {d.month} 月 {d.day} 日 ",
}


def serial(d: date) -> int:
    return (d - EXCEL_EPOCH).days


# --- dates ------------------------------------------------------------------------------------------------

@given(dates, st.sampled_from(sorted(DATE_FORMATS)))
def test_a_date_written_any_accepted_way_reads_back(d, fmt):
    """Every accepted text form of a date between 2000 and 2099 parses to that date."""
    assert parse_date(DATE_FORMATS[fmt](d)) == d


@given(dates, st.times())
def test_date_and_datetime_cells_read_as_their_date(d, t):
    """Date and datetime cells give their date (the time of day dropped)."""
    assert parse_date(d) == d
    assert parse_date(datetime.combine(d, t)) == d


@given(dates, st.floats(0, 0.999999))
def test_excel_serials_read_as_dates_and_back(d, fraction):
    """An Excel serial (whole, or with a time fraction) is the date that many days after 1899-12-30."""
    n = serial(d)
    assert parse_date(n) == d
    assert parse_date(float(n) + fraction) == d
    assert serial(parse_date(float(n))) == n


@given(dates)
def test_a_compact_date_stored_as_a_number_reads_as_that_date(d):
    """20261103 typed into a number cell is 2026-11-03, not serial day 20 million."""
    assert parse_date(int(d.strftime("%Y%m%d"))) == d
    assert parse_date(float(d.strftime("%Y%m%d"))) == d


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "No", "Nl"))))
def test_text_without_digits_is_never_a_date(text):
    """A string without any digit raises ValueError."""
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans()))
@example(10**400)
@example(-(10**400))
@example("2026-02-30")
@example("9999-99-99")
def test_any_value_is_a_date_or_a_value_error(value):
    """Whatever arrives, parse_date returns a date or raises ValueError (never another exception)."""
    try:
        result = parse_date(value)
    except ValueError:
        return
    assert isinstance(result, date)


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "2026-11", "11/03/2026", "03.11.2026",
                                   "2026年11月", "202611031", "2026-11-03x", "明天", "", "   ", "N/A",
                                   0, -1, 0.5, 2958466, float("nan"), float("inf"), True, 20261399])
def test_not_a_date(value):
    """Impossible dates, other orders, partial dates, words, out-of-range serials and booleans are refused."""
    with pytest.raises(ValueError):
        parse_date(value)


def test_date_examples():
    """The SPEC's examples, a serial and the Chinese form with a time."""
    assert {parse_date(v) for v in ["2026-11-03", "2026/11/3", "2026.11.3", "2026年11月3日", "20261103",
                                    46329, 46329.75, datetime(2026, 11, 3, 23, 59),
                                    "2026-11-03T08:00", "2026年11月3日 8:00"]} == {date(2026, 11, 3)}


# --- money ------------------------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2,
                      allow_nan=False, allow_infinity=False)

MONEY_FORMATS = {
    "plain": lambda a: f"{a}",
    "separators": lambda a: f"{a:,.2f}",
    "yen": lambda a: f"¥{a:,.2f}" if a >= 0 else f"-¥{-a:,.2f}",
    "yen after sign": lambda a: f"¥{a:,.2f}",
    "full-width yen and 元": lambda a: f"￥{a:,.2f}元",
    "spaces": lambda a: f" ¥ {a:,.2f} ",
    "chinese comma": lambda a: f"{a:,.2f}".replace(",", "，"),
    "wan": lambda a: f"{(a / 10000).normalize():f}万",
    "wan yuan": lambda a: f"{(a / 10000).normalize():f}万元",
    "yi": lambda a: f"{(a / 100_000_000).normalize():f}亿",
}


def cents(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.01"))


@given(amounts, st.sampled_from(sorted(MONEY_FORMATS)))
def test_an_amount_written_any_accepted_way_is_equal_to_the_cent(amount, fmt):
    """1234.5, 1,234.50, ¥1,234.50, ￥1,234.50元, 0.123450万 … all read as the amount, to the cent."""
    text = MONEY_FORMATS[fmt](amount)
    assert cents(parse_money(text)) == amount, text


@given(amounts)
def test_an_amount_in_a_number_cell_is_itself(amount):
    """A money cell holding a number is that number."""
    assert cents(parse_money(float(amount))) == amount


@given(st.decimals(min_value=0, max_value=100000, places=4))
def test_wan_multiplies_by_ten_thousand(wan):
    """'N万' is N × 10 000 (to the cent)."""
    assert cents(parse_money(f"{wan}万")) == (wan * 10000).quantize(Decimal("0.01"))


@pytest.mark.parametrize("value", ["", "¥", "万", "元", "1.2.3", "一千", "12abc", "1e400", "-1e999", "nan", "inf",
                                   "1.2万万", "$12", True, date(2026, 1, 1), float("nan"), float("inf")])
def test_not_an_amount(value):
    """Empty marks, words, two decimal points, overflow to infinity, NaN and non-money cells are refused."""
    with pytest.raises(ValueError):
        parse_money(value)


def test_money_examples():
    """The SPEC's examples and the 亿 unit."""
    assert parse_money("1234.5") == parse_money("1,234.50") == parse_money("¥1,234.50") == 1234.5
    assert parse_money("1.2万") == 12000
    assert parse_money("3亿") == 300_000_000
    assert parse_money("RMB 500") == parse_money("人民币500元") == parse_money("CNY500") == 500


@given(st.one_of(st.text(), st.floats()))
@example("1e400")
@example("-1.5e309万")
@example("1e305亿")
def test_any_value_is_a_finite_amount_or_a_value_error(value):
    """parse_money returns a finite number or raises ValueError, whatever the input."""
    try:
        result = parse_money(value)
    except ValueError:
        return
    assert result == result and abs(result) != float("inf")


# --- numbers and percentages -----------------------------------------------------------------------------

@given(st.one_of(st.text(), st.floats(), st.integers(-(10**30), 10**30)))
@example("1e400")
@example(10**400)
def test_any_value_is_a_finite_number_or_a_value_error(value):
    """parse_number returns a finite float or raises ValueError."""
    try:
        result = parse_number(value)
    except ValueError:
        return
    assert result == result and abs(result) != float("inf")


@given(st.integers(0, 10000))
def test_percent_text_and_whole_numbers_read_as_fractions(n):
    """'N%' and a number N above 1 both mean N %."""
    assert parse_pct(f"{n}%") == pytest.approx(n / 100)
    assert parse_pct(f" {n} ％ ") == pytest.approx(n / 100)
    if n > 1:
        assert parse_pct(n) == pytest.approx(n / 100)
        assert parse_pct(float(n)) == pytest.approx(n / 100)


@given(st.floats(0, 1))
def test_fractions_stay_fractions(f):
    """A number between 0 and 1 is already the fraction."""
    assert parse_pct(f) == f
    assert parse_pct(repr(f)) == f


def test_pct_examples():
    """The SPEC's three spellings of ten per cent."""
    assert parse_pct(0.1) == parse_pct("10%") == parse_pct(10) == pytest.approx(0.1)
    assert parse_pct("12.5%") == pytest.approx(0.125)
    with pytest.raises(ValueError):
        parse_pct("ten%")


def test_int_examples():
    """Whole numbers in any form; fractions refused."""
    assert parse_int("1,440") == parse_int(1440.0) == parse_int(1440) == 1440
    with pytest.raises(ValueError):
        parse_int(12.5)


# --- ids --------------------------------------------------------------------------------------------------

@given(st.integers(-(10**15), 10**15))
def test_whole_number_ids_read_without_a_decimal_point(n):
    """An id stored as a number (1001.0) reads as '1001'."""
    assert parse_id(float(n)) == str(n)
    assert parse_id(n) == str(n)


@given(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1),
       st.sampled_from(["", " ", "\t", "\u3000", "  \n"]), st.sampled_from(["", " ", "\u3000", "\r\n"]))
def test_text_ids_are_trimmed(core, before, after):
    """Leading and trailing blanks (also the ideographic space) go; the inside stays."""
    assert parse_id(before + core + after) == core


def test_id_examples():
    """Numbers, fractions and dates as ids."""
    assert parse_id(1001.0) == "1001" and parse_id(" C-001 ") == "C-001"
    assert parse_id(12.5) == "12.5"
    for bad in (True, date(2026, 1, 1), datetime(2026, 1, 1)):
        with pytest.raises(ValueError):
            parse_id(bad)


# --- phones -----------------------------------------------------------------------------------------------

mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"),
                    st.text("0123456789", min_size=9, max_size=9))
landlines = st.builds(lambda area, number: f"0{area}{number}", st.text("0123456789", min_size=2, max_size=3),
                      st.text("0123456789", min_size=7, max_size=8))


@st.composite
def written(draw, digits_strategy):
    """A phone's digits with separators (space, dash) between random digits and an optional +86/0086."""
    digits = draw(digits_strategy)
    out = []
    for ch in digits:
        out.append(ch)
        out.append(draw(st.sampled_from(["", "", "", " ", "-", " - "])))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "+86-"]))
    return digits, f"{prefix}{''.join(out)}".strip(" -")


@given(written(mobiles))
def test_a_mobile_written_any_accepted_way_reads_as_its_digits(case):
    """Mobiles with spaces, dashes and +86/0086 are accepted, kept as written, and normalise to their 11 digits."""
    digits, text = case
    assert parse_phone(text) == text.strip()
    assert normalize_phone(parse_phone(text)) == digits


@given(written(landlines))
def test_a_landline_written_any_accepted_way_reads_as_its_digits(case):
    """Landlines (0 + 2–3-digit area + 7–8 digits) with spaces, dashes and +86/0086 are accepted as written."""
    digits, text = case
    assert parse_phone(text) == text.strip()
    assert normalize_phone(parse_phone(text)) == digits


@given(mobiles)
def test_a_mobile_stored_as_a_number_is_accepted(digits):
    """13812345678.0 in a number cell is the mobile 13812345678."""
    assert parse_phone(float(digits)) == digits
    assert parse_phone(int(digits)) == digits


@given(st.one_of(
    st.text("0123456789", min_size=0, max_size=9).map(lambda s: "1" + s),  # too short for a mobile
    st.text("0123456789", min_size=11, max_size=15).map(lambda s: "1" + s),  # too long
    st.text("0123456789", min_size=0, max_size=8).map(lambda s: "0" + s),  # too short for a landline
    st.text("0123456789", min_size=12, max_size=15).map(lambda s: "0" + s),  # too long
    st.text("0123456789", min_size=9, max_size=9).map(lambda s: "12" + s),  # no mobile starts 12
))
def test_wrong_lengths_and_prefixes_are_pattern_errors(digits):
    """Numbers of the wrong length or with a wrong second digit raise PatternError."""
    with pytest.raises(PatternError):
        parse_phone(digits)


def test_phone_examples():
    """Brackets around an area code, full-width digits, and what is not a phone."""
    assert parse_phone("(021) 6234-5678") == "(021) 6234-5678"
    assert parse_phone("１３８１２３４５６７８") == "13812345678"  # full-width digits are made half-width
    assert parse_phone("+86 138 1234 5678") == "+86 138 1234 5678"
    assert normalize_phone("(021) 6234-5678") == "02162345678"
    for bad in ("138123456789", "13812345678 ext 1", "86 13812345678", "12345", 13812345678.5):
        with pytest.raises(PatternError):
            parse_phone(bad)


def test_timedelta_is_not_a_date():
    """A duration cell is neither a date nor an amount."""
    for parser in (parse_date, parse_money):
        with pytest.raises(ValueError):
            parser(timedelta(days=1))
        with pytest.raises(ValueError):
            parser(time(8, 30))


@given(st.decimals(min_value=0, max_value=100000, places=4))
def test_in_a_wan_column_n_and_n_wan_are_the_same_amount(wan):
    """In a column kept in 万元 (SPEC §3.1) 'N' and 'N万' (and 'N万元') both mean N 万元."""
    from salesbook.core.parse import parse_money_wan

    assert cents(parse_money_wan(f"{wan}万")) == cents(parse_money_wan(str(wan))) == wan.quantize(Decimal("0.01"))
    assert cents(parse_money_wan(f"{wan}万元")) == wan.quantize(Decimal("0.01"))


def test_wan_columns_read_50wan_as_50_and_flag_amounts_typed_in_yuan():
    """年采购潜力(万元): '50万' is 50 (not 500,000) and grades as such; 500000 (typed in 元) is out-of-range."""
    from salesbook.core.parse import parse_money_wan
    from salesbook.core.schema import load_schemas
    from salesbook.core.table import CheckContext, build_table

    assert parse_money_wan("3亿") == 30_000 and parse_money_wan(50) == 50
    schema = load_schemas()["customers"]
    head = ["客户编号", "客户名称", "年采购潜力(万元)", "历史成交额(万元)", "联系人", "联系电话", "负责销售", "建档日期"]
    rows = [head, ["C1", "甲", "50万", "12", "张", "13812345678", "S1", "2026-11-02"],
            ["C2", "乙", 500000, "0", "李", "13812345678", "S1", "2026-11-02"]]
    table = build_table(schema, "客户", rows, CheckContext(file="a.xlsx"))
    assert table.data["annual_potential"][0] == 50 and table.data["historical_revenue"][0] == 12
    assert [(f.cell, f.code) for f in table.findings if f.severity == "error"] == [("C3", "out-of-range")]


@pytest.mark.parametrize(("text", "value"), [("1,234.50", 1234.5), ("12,345", 12345), ("-1,234", -1234),
                                             ("1,234,567.891", 1234567.891), ("1 234 567", 1234567),
                                             ("¥1,234.50", 1234.5), ("1,234.50 元", 1234.5), ("1,200万", 12_000_000)])
def test_thousands_separators_between_groups_of_three_are_read(text, value):
    """A comma (or space) between groups of three digits is a thousands separator."""
    assert parse_money(text) == value


@pytest.mark.parametrize("text", ["12,34.5", "1,2345", "1,234,5", "1.234,50", "12,5", ",123", "1,,234"])
def test_misplaced_separators_and_decimal_commas_are_not_amounts(text):
    """"12,34.5" is no 1234.5 and the European "1.234,50" no 1.2345: both are refused, never read silently."""
    with pytest.raises(ValueError):
        parse_money(text)
    with pytest.raises(ValueError):
        parse_number(text)


def test_a_refused_grouping_gets_a_hint():
    """The bad-type hint says what to write: a decimal comma is shown with a point, a bad grouping how to group."""
    from salesbook.core.parse import number_hint

    assert "1234.50" in number_hint("1.234,50")["hint_en"]
    assert "groups of three" in number_hint("12,34.5")["hint_en"]
    assert number_hint("abc") == {}
