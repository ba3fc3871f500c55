"""Tests for the document filters: Chinese capitals, dates, money, masking."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesbook.documents.filters import (
    cn_date,
    mask_contacts_in_text,
    mask_email,
    mask_phone,
    money,
    quantity,
    rmb_upper,
)

# Checked by hand against the PBoC rules (see salesbook/documents/filters.py).
PBOC_TABLE = [
    ("0.05", "伍分"),
    ("10", "壹拾元整"),
    ("100.1", "壹佰元零壹角"),
    ("1000.01", "壹仟元零壹分"),
    ("100000", "壹拾万元整"),
    ("1000000.5", "壹佰万元零伍角"),
    ("10010001", "壹仟零壹万零壹元整"),
    ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("0", "零元整"),
    # The rules' own examples (first form where they allow two).
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    # Our choices where the rules allow either, and the 亿 level.
    ("100005000", "壹亿零伍仟元整"),
    ("107000000", "壹亿零柒佰万元整"),
    ("1000000000000", "壹万亿元整"),
    ("-123456", "负壹拾贰万叁仟肆佰伍拾陆元整"),
    ("0.5", "伍角"),
    ("12.30", "壹拾贰元叁角"),
]

_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_section(text: str) -> int:
    """Parse capitals below 万 (e.g. 壹仟零壹) into an int."""
    total, digit = 0, None
    for ch in text:
        if ch == "零":
            assert digit is None, f"零 after a bare digit in {text!r}"
            continue
        if ch in _DIGIT:
            assert digit is None, f"two digits in a row in {text!r}"
            digit = _DIGIT[ch]
        else:
            assert digit is not None, f"unit {ch} without digit in {text!r}"
            total += digit * _SMALL[ch]
            digit = None
    return total + (digit or 0)


def _parse_integer(text: str) -> int:
    """Parse capitals with 万 and 亿 (亿 may repeat as in 壹万亿)."""
    if "亿" in text:
        high, _, low = text.rpartition("亿")
        return _parse_integer(high) * 10**8 + _parse_integer(low)
    if "万" in text:
        high, _, low = text.partition("万")
        return _parse_section(high) * 10**4 + _parse_section(low)
    return _parse_section(text)


def parse_capitals(text: str) -> Decimal:
    """An independent reader of Chinese capital amounts, used to round-trip rmb_upper."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    if text == "零元整":
        return Decimal(0)
    yuan_text, _, rest = text.rpartition("元") if "元" in text else ("", "", text)
    yuan = _parse_integer(yuan_text) if yuan_text else 0
    rest = rest.removesuffix("整").removeprefix("零")
    jiao = fen = 0
    if "角" in rest:
        head, _, rest = rest.partition("角")
        jiao = _DIGIT[head]
    if "分" in rest:
        head, _, rest = rest.partition("分")
        fen = _DIGIT[head]
    assert rest == "", f"left over {rest!r}"
    return sign * (Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100)


@pytest.mark.parametrize(("amount", "expected"), PBOC_TABLE)
def test_rmb_upper_table(amount, expected):
    """Each hand-checked amount is written exactly as the PBoC rules (and our documented choices) say."""
    assert rmb_upper(Decimal(amount)) == expected


def test_rmb_upper_accepts_numbers_and_text():
    """Floats, ints and formatted text give the same capitals as Decimals, rounded half-up to the fen."""
    assert rmb_upper(123456.0) == "壹拾贰万叁仟肆佰伍拾陆元整"
    assert rmb_upper("¥1,409.50") == "壹仟肆佰零玖元伍角"
    assert rmb_upper(Decimal("0.005")) == "壹分"
    assert rmb_upper(Decimal("-0.001")) == "零元整"


def test_rmb_upper_rejects_non_numbers():
    """Text that is not an amount is refused rather than written as nonsense capitals."""
    with pytest.raises(ValueError):
        rmb_upper("abc")
    with pytest.raises(ValueError):
        rmb_upper(float("nan"))


amounts = st.decimals(
    min_value=Decimal("-1000000000000"), max_value=Decimal("1000000000000"), places=2, allow_nan=False
)


@given(amounts)
def test_rmb_upper_round_trips(amount):
    """Any amount up to 10^12 with 2 decimals reads back to itself, with no doubled or trailing 零."""
    text = rmb_upper(amount)
    assert parse_capitals(text) == amount
    assert "零零" not in text
    assert text == "零元整" or not text.removeprefix("负").startswith("零")
    assert not text.endswith("零")
    assert text.endswith(("整", "角", "分"))
    assert text.endswith("分") == (amount * 100 % 10 != 0)
    assert "拾" not in text or all(
        text[i - 1] in "零壹贰叁肆伍陆柒捌玖" for i, c in enumerate(text) if c == "拾"
    )


def test_cn_date_inputs():
    """Dates, datetimes and ISO strings all print as 2026年11月26日; None prints nothing."""
    assert cn_date(dt.date(2026, 11, 26)) == "2026年11月26日"
    assert cn_date(dt.datetime(2026, 1, 5, 10, 30)) == "2026年1月5日"
    assert cn_date("2026-11-26") == "2026年11月26日"
    assert cn_date("2026-11-26T08:00:00") == "2026年11月26日"
    assert cn_date(None) == ""
    with pytest.raises(ValueError):
        cn_date("26/11/2026")


def test_money():
    """Money prints with the yuan sign, thousands separators and two decimals, rounding half-up."""
    assert money(Decimal("1234567.891")) == "¥1,234,567.89"
    assert money(0.125) == "¥0.13"
    assert money(-5) == "-¥5.00"
    assert quantity(Decimal("2.50")) == "2.5"
    assert quantity(1234) == "1,234"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        (13812345678.0, "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("138****5678", "138****5678"),
        ("010-12345678", "010-****5678"),
        ("0755 1234567", "0755-***4567"),
        ("010-****5678", "010-****5678"),
        ("12345", "*2345"),
        ("911", "****"),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    """Mobiles keep 3+4 digits, landlines keep the area code and last 4, anything else its last 4."""
    assert mask_phone(phone) == masked


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_mask_phone_hides_the_middle(phone):
    """No masked mobile number still shows its middle four digits, and masking twice changes nothing."""
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]
    assert mask_phone(masked) == masked


@given(st.from_regex(r"0(10|2\d|[3-9]\d\d)-?[2-9]\d{6,7}", fullmatch=True))
def test_mask_landline_keeps_area_code_and_is_idempotent(phone):
    """A landline keeps its area code and last 4 digits only, and masking it again changes nothing."""
    masked = mask_phone(phone)
    area = masked.split("-")[0]
    assert phone.replace("-", "").startswith(area) and masked.endswith(phone[-4:])
    assert sum(ch.isdigit() for ch in masked) == len(area) + 4
    assert mask_phone(masked) == masked


def test_mask_email():
    """E-mails keep the first letter and the domain only."""
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("not-an-email") == "***"
    assert mask_email(None) == ""


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请回电 13812345678 或发邮件 zhang.san@example.com", "请回电 138****5678 或发邮件 z***@example.com"),
        ("手机 138-1234-5678，座机 010-87654321", "手机 138****5678，座机 010-****4321"),
        ("+86 139 1234 5678 (王)", "139****5678 (王)"),
        ("(021)12345678", "021-****5678"),
        ("office +1 415 555 0100", "office ********0100"),
        ("订单 SO-2026-11 金额 5000 元，2026-11-26 交货", "订单 SO-2026-11 金额 5000 元，2026-11-26 交货"),
    ],
)
def test_contacts_inside_free_text_are_masked(text, masked):
    """Phone numbers and e-mail addresses inside free text are masked; dates, amounts and ids are not."""
    assert mask_contacts_in_text(text) == masked
