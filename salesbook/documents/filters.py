"""Jinja filters for contracts and reports: money in figures and in Chinese capitals, dates, masking.

Every filter is a plain function, usable from Python as well as from templates.

Chinese capitals (``rmb_upper``) follow the People's Bank of China rules for writing amounts on
cheques and settlement vouchers (《正确填写票据和结算凭证的基本规定》):

* Digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元 角 分. Ten is always 壹拾 (10 -> 壹拾元整).
* An amount that ends at 元 gets 整 after 元. After 角 the rules say 整 *may* be omitted
  ("在角之后可以不写整"): we never write it (100.1 -> 壹佰元零壹角). After 分 整 is never written.
* Zeros in the middle are written as one 零 however many there are (6,007.14 -> 陆仟零柒元壹角肆分).
* 角 is 0 and 分 is not: 元 is followed by 零 (rule 4, mandatory: 1,000.01 -> 壹仟元零壹分).
* The units (元) digit is 0 and 角 is not: the rules allow 零 or nothing (rule 3); we write 零
  (1,680.32 -> 壹仟陆佰捌拾元零叁角贰分; 1,000,000.5 -> 壹佰万元零伍角).
* Zeros at the end of a 万 or 亿 group followed by a non-zero 仟 digit (107,000 -> 壹拾万柒仟元)
  are not written (rule 3 allows either). A group that starts with 0 after a non-zero higher
  group, or a whole zero group between non-zero groups, is marked with one 零:
  10,010,001 -> 壹仟零壹万零壹元整; 100,005,000 -> 壹亿零伍仟元整.
* Amounts below 1 元 start at 角 or 分 (0.05 -> 伍分); 0 is 零元整; negatives get 负 in front.
* Amounts are rounded half-up to the fen (0.01) first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "FILTERS",
    "category_colour",
    "cn_date",
    "en_date",
    "mask_contacts_in_text",
    "mask_email",
    "mask_phone",
    "money",
    "percent",
    "quantity",
    "rmb_upper",
    "to_decimal",
]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_FEN = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """Read an amount (Decimal, int, float, or text like "1,234.50" / "¥1,234.50") as a Decimal.

    Raises ValueError for anything that is not a finite number; floats go through ``str`` so
    0.1 stays 0.1.
    """
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("¥", "").replace("￥", "").replace(" ", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return result


def _four_digits(group: int) -> str:
    """Write 1..9999 with 拾佰仟, one 零 for each run of inner zeros, no trailing zeros."""
    digits = f"{group:04d}"
    out: list[str] = []
    pending_zero = False
    for pos, ch in enumerate(digits):
        d = int(ch)
        unit = _SMALL_UNITS[3 - pos]
        if d == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def _integer_upper(n: int) -> str:
    """Write a positive integer in capitals with 万 and 亿 (亿 above 亿 recurses: 壹万亿)."""
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        text = _integer_upper(high) + "亿"
        if low:
            # A zero gap after 亿 is marked unless the next digit (千万) is non-zero.
            text += ("零" if low < 10**7 else "") + _integer_upper(low)
        return text
    high, low = divmod(n, 10**4)
    if not high:
        return _four_digits(low)
    text = _four_digits(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + _four_digits(low)
    return text


def rmb_upper(value: object) -> str:
    """Amount in Chinese capitals per the PBoC rules (see the module docstring): 10 -> 壹拾元整."""
    amount = to_decimal(value).quantize(_FEN, rounding=ROUND_HALF_UP)
    sign = ""
    if amount < 0:
        sign = "负"
        amount = -amount
    fen_total = int(amount * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_integer_upper(yuan) + "元")
    if jiao:
        if yuan and yuan % 10 == 0:
            parts.append("零")  # rule 3: units digit 0, 角 not 0 -> we write 零
        parts.append(_DIGITS[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")  # rule 4: 角 is 0, 分 is not -> 元 is followed by 零
        parts.append(_DIGITS[fen] + "分")
    elif not jiao:
        parts.append("整")
    return sign + "".join(parts)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError(f"not a date: {value!r} (expected e.g. 2026-11-26)") from None
    # pandas Timestamp and similar
    to_pydatetime = getattr(value, "to_pydatetime", None)
    if callable(to_pydatetime):
        return to_pydatetime().date()
    raise ValueError(f"not a date: {value!r}")


def cn_date(value: object) -> str:
    """Date as 2026年11月26日 (no zero padding); accepts date, datetime or ISO text; None -> ''."""
    if value is None or value == "":
        return ""
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


_MONTHS = "January February March April May June July August September October November December".split()


def en_date(value: object) -> str:
    """Date as 26 November 2026; accepts date, datetime or ISO text; None -> ''."""
    if value is None or value == "":
        return ""
    d = _as_date(value)
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def percent(value: object) -> str:
    """A rate as a percentage without needless decimals: 0.05 -> "5%", 0.125 -> "12.5%"."""
    return quantity(to_decimal(value) * 100) + "%"


def money(value: object, symbol: str = "¥") -> str:
    """Amount in figures with thousands separators and 2 decimals: ¥1,234,567.89 (negative: -¥5.00)."""
    amount = to_decimal(value).quantize(_FEN, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def quantity(value: object) -> str:
    """A quantity without needless decimals: 10 -> "10", 2.50 -> "2.5", 1234 -> "1,234"."""
    number = to_decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    text = f"{number:,f}"
    return text.rstrip("0").rstrip(".")


_MASKED_MOBILE = re.compile(r"1\d{2}\*{4}\d{4}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ALREADY_MASKED = re.compile(r"\d{0,4}\*{3,}\d{0,4}")
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})")


def mask_phone(value: object) -> str:
    """Mask a phone number: mobile 13812345678 -> 138****5678, landline 010-12345678 -> 010-****5678.

    A +86/0086 prefix, spaces and dashes are dropped first; numbers stored as floats
    (13812345678.0) are read as digits. Anything else keeps only its last 4 characters
    (short values become ****). Already-masked values come back unchanged; None -> ''.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return ""
    compact = re.sub(r"[\s\-()（）]", "", text)
    if compact.endswith(".0") and compact[:-2].isdigit():
        compact = compact[:-2]
    compact = re.sub(r"^(?:\+86|0086)", "", compact)
    if _MASKED_MOBILE.fullmatch(compact):
        return compact
    if _ALREADY_MASKED.fullmatch(compact):
        return text
    if _MOBILE.fullmatch(compact):
        return f"{compact[:3]}****{compact[-4:]}"
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        area, local = landline.groups()
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    if len(compact) <= 4:
        return "****"
    return "*" * (len(compact) - 4) + compact[-4:]


def mask_email(value: object) -> str:
    """Mask an e-mail: zhang.san@example.com -> z***@example.com; not an e-mail -> ***; None -> ''."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return "***"
    return f"{local[0]}***@{domain}"


_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}(?!\d)")
_LANDLINE_IN_TEXT = re.compile(r"(?<![\d+])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s\-]?\d{7,8}(?!\d)")
_INTERNATIONAL_IN_TEXT = re.compile(r"(?<![\w+])\+(?!86)[1-9]\d{0,2}(?:[\s\-]?\d){6,14}(?!\d)")


def mask_contacts_in_text(value: object, keep: Sequence[str] = ()) -> object:
    """Mask every e-mail address and phone number inside free text ("call 13812345678" ->
    "call 138****5678"); other values come back unchanged. `keep`: salesbook's own passages (a
    hint's example number): a contact inside one of them, where it stands in the text, is not masked —
    the same number elsewhere in the text (a customer's value) still is."""
    if not isinstance(value, str) or not value:
        return value
    text = value
    for pattern, mask in ((_EMAIL_IN_TEXT, mask_email), (_MOBILE_IN_TEXT, mask_phone),
                          (_LANDLINE_IN_TEXT, mask_phone), (_INTERNATIONAL_IN_TEXT, mask_phone)):
        own = _spans(text, keep)  # again after each pass: masking changes lengths, never our passages
        text = pattern.sub(lambda m, own=own, mask=mask: m.group() if _inside_any(m.span(), own) else mask(m.group()),
                           text)
    return text


def _spans(text: str, passages: Sequence[str]) -> list[tuple[int, int]]:
    found = []
    for passage in passages:
        start = text.find(passage) if passage else -1
        while start >= 0:
            found.append((start, start + len(passage)))
            start = text.find(passage, start + len(passage))
    return found


def _inside_any(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


_FALLBACK_COLOURS = ("#2F6FB3", "#3D9970", "#E8A33D", "#8E6CC1", "#D9534F", "#5BC0BE", "#7F7F7F", "#B07AA1")


def category_colour(label: object) -> str:
    """The one colour of a category (stage, activity type, expense category) in every chart and report:
    from the layout's [palettes].category by its Chinese name ("谈判" or "谈判 Negotiation"), else a
    colour fixed by the name itself, so a category never changes colour from one report to the next."""
    import zlib

    from ..io.presentation import palettes

    text = "" if label is None else str(label).strip()
    key = text.split(" ")[0].split("(")[0].split("（")[0]
    colours = palettes().get("category", {})
    if key in colours:
        return colours[key]
    return _FALLBACK_COLOURS[zlib.crc32(key.encode("utf-8")) % len(_FALLBACK_COLOURS)]


FILTERS = {
    "category_colour": category_colour,
    "rmb_upper": rmb_upper,
    "cn_date": cn_date,
    "en_date": en_date,
    "money": money,
    "percent": percent,
    "quantity": quantity,
    "mask_phone": mask_phone,
    "mask_email": mask_email,
}
