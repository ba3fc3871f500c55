"""Settings: every number of the rules and the score, with SPEC defaults and validation.

The home of settings is the master workbook's 设置/Settings sheet (key, value, note). This module
holds the same defaults for runs without a master workbook and checks what the sheet says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

KPIS = ("revenue", "volume", "collections", "new_customers", "activities")
RATINGS = ("S", "A", "B", "C", "D")
GRADES = ("A", "B", "C", "D")
STAGES = ("Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost")
EXPENSE_CATEGORIES = ("Travel", "Entertainment", "Marketing", "Transport", "Telecom", "Other")
SIZES = ("Large", "Medium", "Small", "Micro")
LEVELS = ("High", "Medium", "Low")


class SettingsError(Exception):
    """A setting in the master workbook is invalid; the message names the key and the fix."""


# key -> (default, kind, note). kind: float | int | pct | tiers | date | text | period | bool
# | optional_money | optional_int (the optional kinds: blank = none, i.e. no cap / no limit)
_DEFS: dict[str, tuple[object, str, str]] = {}
_CHOICES: dict[str, tuple[str, ...]] = {}  # key -> the only values a text setting accepts


def _d(key: str, default: object, kind: str, note: str, *, choices: tuple[str, ...] = ()) -> None:
    _DEFS[key] = (default, kind, note)
    if choices:
        _CHOICES[key] = choices


_d("period", "", "period", "当前考核周期，如 2026-11 或 2026-Q4（按钮使用） / Current period, e.g. 2026-11 or 2026-Q4 (used by the buttons)")
_d("as_of", "", "text", "考核截止日（留空则为周期最后一天） / As-of date (blank: the period's last day)")
_d("team_folder", "team", "text", "团队工作簿所在文件夹（相对本工作簿） / Folder of the team workbooks (relative to this workbook)")
_d("output_folder", "out", "text", "输出文件夹（相对本工作簿） / Output folder (relative to this workbook)")
_d("ledger_url", "", "text", "账簿数据库（留空则为本工作簿旁的 salesbook.db；共用时填 postgresql://用户@主机/库名） / Ledger database (blank: salesbook.db beside this workbook; shared: postgresql://user@host/dbname)")
_d("ledger_book", "", "text", "共用账簿中本工作簿的名称（多个主管各管不同团队时各填一个） / Name of this workbook's books in a shared ledger (one per master when managers of different teams share it)")
_d("contract_language", "zh", "text", "合同模板语言 zh 或 en / Contract template language: zh or en",
   choices=("zh", "en"))
_d("company_name", "示例科技有限公司", "text", "本公司名称（合同甲方/卖方） / Our company name (seller on contracts)")
_d("company_address", "上海市浦东新区示例路 1 号", "text", "本公司地址 / Our company address")
_d("company_contact", "销售管理部 021-12345678", "text", "本公司联系方式 / Our contact")
for _k, _w in zip(KPIS, (0.35, 0.10, 0.30, 0.10, 0.15), strict=True):
    _d(f"weight.{_k}", _w, "float", f"考核权重：{_k}（五项合计为 1） / Score weight of {_k} (the five sum to 1)")
_d("attainment_cap", 1.5, "float", "达成率上限 / Attainment cap")
_d("deduction.contract_unreviewed", 10.0, "float", "每份未审核即签订的合同扣分 / Points per contract signed before review")
_d("deduction.discount_unauthorized", 5.0, "float", "每次未授权折扣扣分 / Points per unauthorised discount")
_d("deduction.expense_violation", 3.0, "float", "每条违规费用扣分 / Points per expense violation row")
_d("deduction_cap", 30.0, "float", "扣分上限 / Most points deducted")
for _r, _v in zip(("S", "A", "B", "C"), (110.0, 95.0, 80.0, 60.0), strict=True):
    _d(f"rating.{_r}", _v, "float", f"评级 {_r} 的最低分 / Lowest score for rating {_r}")
for _r, _v in zip(RATINGS, (1.5, 1.2, 1.0, 0.8, 0.5), strict=True):
    _d(f"coefficient.{_r}", _v, "float", f"评级 {_r} 的绩效系数 / Pay coefficient of rating {_r}")
for _s, _v in zip(SIZES, (40, 30, 20, 10), strict=True):
    _d(f"grade.size.{_s}", float(_v), "float", f"客户分级：企业规模 {_s} 得分 / Grade points for size {_s}")
_d("grade.potential", "500:30; 100:20; 20:10", "tiers", "客户分级：年采购潜力(万元) 门槛:得分 / Potential (10k CNY) threshold:points")
for _s, _v in zip(LEVELS, (20, 10, 0), strict=True):
    _d(f"grade.willingness.{_s}", float(_v), "float", f"客户分级：合作意愿 {_s} 得分 / Grade points for willingness {_s}")
_d("grade.history.ge100", 10.0, "float", "客户分级：历史成交额 ≥ 100 万元得分 / Points for historical revenue ≥ 100 (10k CNY)")
_d("grade.history.gt0", 5.0, "float", "客户分级：历史成交额 > 0 得分 / Points for historical revenue > 0")
for _g, _v in zip(("A", "B", "C"), (80.0, 60.0, 40.0), strict=True):
    _d(f"grade.band.{_g}", _v, "float", f"客户等级 {_g} 的最低分 / Lowest points for grade {_g}")
for _g, _v in zip(GRADES, (7, 14, 30, 90), strict=True):
    _d(f"cadence.{_g}", _v, "int", f"{_g} 级客户跟进周期（天） / Follow-up cadence of grade {_g} (days)")
for _s, _v in zip(STAGES, (0.10, 0.25, 0.50, 0.75, 1.0, 0.0), strict=True):
    _d(f"stage_probability.{_s}", _v, "pct", f"商机阶段 {_s} 的默认成功概率 / Default probability of stage {_s}")
_d("opportunity_stale_days", 30, "int", "商机多少天无活动视为停滞 / Days without activity before an opportunity is stale")
for _c, _v in zip(EXPENSE_CATEGORIES, (5000, 2000, 20000, 1000, 500, 1000), strict=True):
    _d(f"expense_limit.{_c}", float(_v), "float", f"费用标准：{_c}（元/笔） / Expense limit per claim: {_c} (CNY)")
_d("discount_limit", 0.10, "pct", "无需主管授权的最高折扣率 / Highest discount without manager approval")
_d("complaint_sla_days", 7, "int", "投诉处理时限（天） / Days to resolve a complaint")
_d("contract_tolerance", 1.0, "float", "合同明细与金额允许差额（元） / Allowed difference between lines and amount (CNY)")
_d("min_date", "2000-01-01", "date", "最早有效日期 / Earliest valid date")
_d("max_future_days", 365, "int", "日期最多晚于考核截止日的天数 / Days a date may lie after the as-of date")
_d("commission.default_plan", "", "text", "花名册未填提成方案时使用的方案（留空则无提成） / Commission plan for reps whose roster row names none (blank: no commission)")
_d("commission.hold_on_violation", False, "bool", "本期有违规的销售代表提成暂扣为 0（yes/no） / Hold the commission (pay 0) of a rep with a violation in the period (yes/no)")
_d("commission.cap", "", "optional_money", "每人每期提成上限（元，留空则不封顶） / Most commission per rep and period (CNY; blank: no cap)")
_d("activity.max_per_day", 12, "int", "每人每天最多计入的有效活动数 / Most activities counted per rep and day")
_d("activity.min_summary_chars", 0, "int", "内容摘要少于此字数的活动不计入（0 = 不限） / Activities whose summary has fewer characters are not counted (0: no minimum)")
_d("activity.max_same_summary", "", "optional_int", "同一销售代表每月同一摘要最多计入次数（留空则不限） / Most times one summary is counted per rep and month (blank: no limit)")
_d("reader.max_file_mb", 200, "int", "单个团队文件最大体积（MB） / Largest team file read (MB)")
_d("reader.timeout_seconds", 120, "int", "单个文件读取时限（秒） / Seconds allowed to read one file")
_d("reader.workers", 2, "int", "并行读取进程数 / Worker processes reading files")


def default_rows() -> list[tuple[str, str, str]]:
    """(key, value, note) rows for the master workbook's Settings sheet, in a stable order."""
    rows = []
    for key, (default, kind, note) in _DEFS.items():
        rows.append((key, _format(default, kind), note))
    return rows


def setting_kind(key: str) -> str | None:
    """The kind of setting `key` (float, int, pct, tiers, date, text, period), None for an unknown key."""
    return _DEFS[key][1] if key in _DEFS else None


def setting_choices(key: str) -> tuple[str, ...]:
    """The only values a text setting accepts (empty: any)."""
    return _CHOICES.get(key, ())


def typed_value(key: str, raw: object) -> object:
    """A setting's value as the Settings sheet stores it: numbers as numbers, a percentage as its
    fraction (0.1 shown as 10 %), a date as a date, everything else as text. Unknown keys and values
    that do not parse stay as they are, for the check on reading to report."""
    kind = setting_kind(key)
    if kind is None or raw is None or (isinstance(raw, str) and not raw.strip()):
        return raw
    if kind in ("float", "int", "pct", "date", "optional_money", "optional_int"):
        try:
            return _parse_value(key, raw, kind)
        except SettingsError:
            return raw
    if kind == "bool" and isinstance(raw, bool):
        return _format(raw, kind)
    return str(raw)


def _format(value: object, kind: str) -> str:
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "pct":
        return f"{float(value) * 100:g}%"  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _parse_float(key: str, raw: object) -> float:
    if isinstance(raw, bool):
        raise SettingsError(f"Setting '{key}' must be a number, got {raw!r}. Write a number such as 0.35.")
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        raise SettingsError(
            f"Setting '{key}' must be a number, got {raw!r}. Write a number such as 0.35."
        ) from None


_YES = {"yes", "y", "true", "1", "on", "是", "开", "对"}
_NO = {"no", "n", "false", "0", "off", "否", "关", "不"}


def _parse_value(key: str, raw: object, kind: str) -> object:
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().casefold()
        if text.endswith(".0"):
            text = text[:-2]
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise SettingsError(f"Setting '{key}' must be yes or no (是 / 否), got {raw!r}.")
    if kind in ("optional_money", "optional_int"):
        if raw is None or str(raw).strip() == "":
            return None
        if kind == "optional_int":
            return _parse_value(key, raw, "int")
        from .parse import parse_money

        try:
            amount = parse_money(raw)
        except ValueError:
            raise SettingsError(f"Setting '{key}' must be an amount such as 50000 (or blank), got {raw!r}.") from None
        if amount < 0:
            raise SettingsError(f"Setting '{key}' must not be negative, got {raw!r}.")
        return amount
    if kind == "text":
        return str(raw).strip()
    if kind == "period":
        # Excel turns a typed 2026-11 into the date 2026-11-01: read such a date back as its month.
        text = raw.isoformat() if isinstance(raw, date) else str(raw).strip()
        m = re.match(r"^(\d{4}-\d{2})-01(?:[ T]00:00(?::00)?)?$", text)
        return m.group(1) if m else text
    if kind == "float":
        return _parse_float(key, raw)
    if kind == "int":
        f = _parse_float(key, raw)
        if f != int(f) or f < 0:
            raise SettingsError(f"Setting '{key}' must be a whole number ≥ 0, got {raw!r}.")
        return int(f)
    if kind == "pct":
        text = str(raw).strip()
        if text.endswith("%"):
            return _parse_float(key, text[:-1]) / 100
        f = _parse_float(key, raw)
        return f / 100 if f > 1 else f
    if kind == "date":
        if isinstance(raw, datetime):  # a date cell read back from Excel
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip()[:10])
        except ValueError:
            raise SettingsError(f"Setting '{key}' must be a date like 2000-01-01, got {raw!r}.") from None
    if kind == "tiers":
        tiers = []
        for part in str(raw).replace("；", ";").split(";"):
            if not part.strip():
                continue
            try:
                threshold, points = part.replace("：", ":").split(":")
                tiers.append((float(threshold), float(points)))
            except ValueError:
                raise SettingsError(
                    f"Setting '{key}' must look like '500:30; 100:20; 20:10' (threshold:points), got {raw!r}."
                ) from None
        return sorted(tiers, reverse=True)
    raise AssertionError(kind)


@dataclass(frozen=True)
class Settings:
    """Validated settings; `values` maps every key of the defaults to its typed value."""

    values: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.values[key]

    def weights(self) -> dict[str, float]:
        return {k: float(self.values[f"weight.{k}"]) for k in KPIS}  # type: ignore[arg-type]

    def grouped(self, prefix: str) -> dict[str, object]:
        """All keys under `prefix.` with the prefix removed: grouped('cadence') -> {'A': 7, ...}."""
        p = prefix + "."
        return {k[len(p) :]: v for k, v in self.values.items() if k.startswith(p)}


def load_settings(rows: list[tuple[object, object]] | None = None) -> Settings:
    """Defaults overlaid with (key, value) rows from the Settings sheet; raises SettingsError."""
    values = {key: _parse_value(key, default, kind) for key, (default, kind, _) in _DEFS.items()}
    for key, raw in rows or []:
        k = str(key).strip() if key is not None else ""
        if not k:
            continue
        if k not in _DEFS:
            near = [d for d in _DEFS if d.split(".")[-1].lower() == k.split(".")[-1].lower()]
            hint = f" Did you mean '{near[0]}'?" if near else " Remove the row or fix its key."
            raise SettingsError(f"Unknown setting '{k}' in the Settings sheet.{hint}")
        if raw is None or str(raw).strip() == "":
            continue  # blank value: the default stands
        values[k] = _parse_value(k, raw, _DEFS[k][1])
        if k in _CHOICES and values[k] not in _CHOICES[k]:
            raise SettingsError(f"Setting '{k}' must be one of {', '.join(_CHOICES[k])}, got {raw!r}.")
    total = sum(float(values[f"weight.{k}"]) for k in KPIS)  # type: ignore[arg-type]
    if abs(total - 1.0) > 1e-9:
        raise SettingsError(
            f"The five score weights (weight.revenue … weight.activities) sum to {total:g}, not 1. "
            "Change them in the Settings sheet so that they sum to 1."
        )
    for k in KPIS:
        if float(values[f"weight.{k}"]) < 0:  # type: ignore[arg-type]
            raise SettingsError(f"Setting 'weight.{k}' must not be negative.")
    if int(values["activity.max_per_day"]) < 1:  # type: ignore[call-overload]
        raise SettingsError("Setting 'activity.max_per_day' must be at least 1 (activities counted per rep and day).")
    bands = [float(values[f"rating.{r}"]) for r in ("S", "A", "B", "C")]  # type: ignore[arg-type]
    if bands != sorted(bands, reverse=True):
        raise SettingsError("Rating bands must fall from S to C (rating.S ≥ rating.A ≥ rating.B ≥ rating.C).")
    return Settings(values)


DEFAULTS = load_settings()
