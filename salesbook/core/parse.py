"""Value parsing for the SPEC's column types. Each parser returns the value or raises ValueError.

Cells arrive as Python values from a workbook reader: str, float, int, bool, date, datetime,
or None / "" for an empty cell.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONEY_STRIP = re.compile(r"[¥￥]|RMB|CNY|人民币|元", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# A thousands separator (comma, or a space) only between groups of three digits: 1,234.50 · 12,345 · 1 234 567
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_SIGN_SPACE = re.compile(r"^([+-])\s+")
# A decimal comma, as Europe writes 1234.50: 1.234,50 · 12,5 (a comma with one or two digits after it)
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+,\d+|\d+,\d{1,2})$")
_DIGITS_AND_MARKS = re.compile(r"^[+-]?[\d., ]*\d[\d., ]*$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class PatternError(ValueError):
    """The value has the right type but the wrong shape (a phone or e-mail)."""


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return value != value  # NaN
    return False


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_id(value: object) -> str:
    """Trimmed text; a whole number stored as a number (1001.0) reads as '1001'."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        raise ValueError(value)
    return str(value).strip()


def parse_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _serial_to_date(serial: float) -> date:
    if not 1 <= serial < 2958466:
        raise ValueError(serial)
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: object) -> date:
    """Date cells, Excel serials, 2026-11-03, 2026/11/3, 2026.11.3, 2026年11月3日, 20261103."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and value != value:
            raise ValueError(value)
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            return parse_date(str(int(value)))
        return _serial_to_date(_finite(value))
    text = _text(value)
    m = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if not m:
        raise ValueError(value)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _finite(number: object, original: object = None) -> float:
    """float(number), refusing what is no amount: NaN, and "1e400" or 10**400 (inf or overflow)."""
    try:
        f = float(number)  # type: ignore[arg-type]
    except OverflowError:
        raise ValueError(number if original is None else original) from None
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(number if original is None else original)
    return f


def number_text(text: str, original: object = None) -> str:
    """`text` without its thousands separators, which must sit between groups of three digits.

    "1,234.50", "12,345", "1 234 567" and "-1,234" pass; "12,34.5", "1,2345" and a decimal comma
    ("1.234,50") raise ValueError: read without their commas they would be another number, silently.
    """
    t = _SIGN_SPACE.sub(r"\1", text.strip())
    if "," in t or " " in t:
        grouped = t.replace(" ", ",")  # a space between groups is a separator like a comma
        if not _GROUPED.match(grouped):
            raise ValueError(text if original is None else original)
        t = grouped.replace(",", "")
    return t


def number_hint(value: object) -> dict[str, str]:
    """Message fields for a number cell that failed to parse only because of how it is grouped, else {}."""
    if not isinstance(value, str):
        return {}
    text = _MONEY_STRIP.sub("", _text(value)).strip()
    core = text.rstrip("%万亿").strip()
    if _DECIMAL_COMMA.match(core):
        fixed = core.replace(".", "").replace(",", ".") + text[len(text.rstrip("%万亿")):]
        return {"hint_zh": f"（逗号不能作小数点：如指 {fixed}，请写成 {fixed}）",
                "hint_en": f" (a comma is not a decimal point: if you meant {fixed}, write {fixed})"}
    if ("," in core or " " in core) and _DIGITS_AND_MARKS.match(core):
        return {"hint_zh": "（千位分隔符须每三位一组，如 1,234.50）",
                "hint_en": " (a thousands separator goes between groups of three digits, e.g. 1,234.50)"}
    return {}


def parse_number(value: object) -> float:
    """A plain number: 12, 12.5, '1,234.5' (thousands separators in groups of three only)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return _finite(value)
    if isinstance(value, datetime | date):
        raise ValueError(value)
    text = number_text(_text(value), value)
    if not _NUMBER.match(text):
        raise ValueError(value)
    return _finite(text, value)


def parse_money(value: object) -> float:
    """CNY amounts: 1234.5, '1,234.50', '¥1,234.50', '1.2万', '-50', '3亿'."""
    return _amount(value, wan=10_000.0, yi=100_000_000.0)


def parse_money_wan(value: object) -> float:
    """An amount in a column kept in 万元 (SPEC §3.1): 50, "50万" and "50万元" are all 50 万元; "3亿" is
    30,000 万元. A plain number is already in 万元 (so a value typed in 元 is caught by the column's range)."""
    return _amount(value, wan=1.0, yi=10_000.0)


def _amount(value: object, *, wan: float, yi: float) -> float:
    """A money cell in a unit where 万 is `wan` and 亿 is `yi` (元: 10,000 and 10^8; 万元: 1 and 10,000)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_number(value)
    if isinstance(value, datetime | date | bool):
        raise ValueError(value)
    text = _MONEY_STRIP.sub("", _text(value)).strip()
    factor = 1.0
    if text.endswith("万"):
        factor, text = wan, text[:-1]
    elif text.endswith("亿"):
        factor, text = yi, text[:-1]
    text = number_text(text, value)
    if not _NUMBER.match(text):
        raise ValueError(value)
    return round(_finite(_finite(text, value) * factor, value), 6)


def parse_int(value: object) -> int:
    f = parse_number(value)
    if not f.is_integer():
        raise ValueError(value)
    return int(f)


def parse_pct(value: object) -> float:
    """A fraction: 0.1, '10%', 10 (a number above 1 is read as percent) → 0.1."""
    if isinstance(value, str):
        text = _text(value)
        if text.endswith("%"):
            return parse_number(text[:-1]) / 100
    f = parse_number(value)
    return f / 100 if f > 1 else f


def normalize_phone(value: object) -> str:
    """Digits (and a landline dash) after removing spaces, dashes and a +86 / 0086 prefix."""
    if isinstance(value, bool) or isinstance(value, datetime | date):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise PatternError(value)
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    text = _PHONE_SEPARATORS.sub("", _text(value))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text


def parse_phone(value: object) -> str:
    """A mainland mobile 1[3-9]xxxxxxxxx or a landline 0xx(x)-xxxxxxx(x).

    Checked on the normalised digits; returned as written (trimmed, NFKC), so documents show
    021-12345678 as the rep wrote it. A number cell comes back as its digits.
    """
    text = normalize_phone(value)
    if _MOBILE.match(text) or _LANDLINE.match(text):
        return text if not isinstance(value, str) else _text(value)
    raise PatternError(value)


def parse_email(value: object) -> str:
    text = _text(value)
    if not _EMAIL.match(text):
        raise PatternError(value)
    return text


PARSERS = {
    "id": parse_id,
    "text": parse_text,
    "date": parse_date,
    "money": parse_money,
    "number": parse_number,
    "int": parse_int,
    "pct": parse_pct,
    "phone": parse_phone,
    "email": parse_email,
}

TYPE_NAMES = {  # for messages: (zh, en)
    "id": ("编号", "an id"),
    "text": ("文本", "text"),
    "date": ("日期（如 2026-11-03）", "a date (e.g. 2026-11-03)"),
    "money": ("金额（如 1234.50）", "an amount (e.g. 1234.50)"),
    "number": ("数字", "a number"),
    "int": ("整数", "a whole number"),
    "pct": ("百分比（如 10%）", "a percentage (e.g. 10%)"),
    "phone": ("电话号码", "a phone number"),
    "email": ("电子邮箱", "an e-mail address"),
    "enum": ("下拉选项", "one of the listed values"),
}
