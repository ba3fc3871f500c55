"""Findings: what is wrong with a cell, a row, a sheet or a file, with stable codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from operator import attrgetter
from string import Formatter
from typing import NamedTuple

import numpy as np
import pandas as pd

ERROR = "error"
WARNING = "warning"
INFO = "info"

# code -> (severity, zh template, en template). Templates take str.format fields.
CODES: dict[str, tuple[str, str, str]] = {
    # generic
    "file-unreadable": (ERROR, "文件无法读取：{reason_zh}", "File cannot be read: {reason_en}"),
    "file-encrypted": (ERROR, "文件有密码保护，请另存为无密码的副本", "File is password-protected; save a copy without a password"),
    "file-unsupported": (ERROR, "文件格式不受支持：{reason_zh}", "Unsupported file: {reason_en}"),
    "no-team-sheet": (ERROR, "文件中没有可识别的工作表（{expected_zh}），文件未使用：{hint_zh}", "No sheet salesbook knows ({expected_en}); the file is not used: {hint_en}"),
    "missing-sheet": (INFO, "缺少工作表「{sheet}」", "No sheet '{sheet}' in this file"),
    "ambiguous-sheet": (ERROR, "工作表 {sheets} 都是「{kind_zh}」表，无法确定用哪一个，均未使用；请删除或改名其中一个", "Sheets {sheets} are all the {kind_en} sheet; neither is used — delete or rename one"),
    "missing-column": (ERROR, "缺少必填列「{column}」，本表数据未使用", "Required column '{column}' is missing; this sheet's rows are not used"),
    "ambiguous-column": (ERROR, "列「{column}」与多个表头匹配（{headers}），本表数据未使用", "Column '{column}' matches several headers ({headers}); this sheet's rows are not used"),
    "unknown-column": (INFO, "未知列「{column}」，已保留但不参与校验", "Unknown column '{column}' is kept but not checked"),
    "required-missing": (ERROR, "必填项「{column}」为空，请填写", "Required value '{column}' is empty; fill it in"),
    "bad-type": (ERROR, "「{column}」应为{type_zh}，实际为「{value}」{hint_zh}", "'{column}' should be {type_en}, got '{value}'{hint_en}"),
    "bad-enum": (ERROR, "「{column}」的值「{value}」不在允许范围（{allowed}）", "'{column}' value '{value}' is not one of: {allowed}"),
    "bad-pattern": (ERROR, "「{column}」格式不正确：{value}（{hint_zh}）", "'{column}' has the wrong format: {value} ({hint_en})"),
    "out-of-range": (ERROR, "「{column}」超出范围：{value}（{limit}）", "'{column}' out of range: {value} ({limit})"),
    "duplicate-key": (ERROR, "「{column}」重复：{value}（首次出现于 {first}），请改用新编号或删除重复行", "Duplicate '{column}': {value} (first at {first}); give it a new id or remove the copy"),
    "unknown-reference": (ERROR, "「{column}」引用的{target_zh}不存在：{value}{hint_zh}，请更正编号或先登记", "'{column}' refers to an unknown {target_en}: {value}{hint_en}; correct the id or file it first"),
    "roster-row-error": (ERROR, "「{column}」的销售代表 {value} 在花名册中的行有错误（{where}），该销售代表不计分、本行未使用；请先改正花名册的该行", "'{column}': rep {value} is in the roster, but that roster row has an error ({where}), so the rep is not scored and this row is not used; fix the roster row first"),
    "date-order": (ERROR, "「{column}」{value} 早于「{other}」，请检查日期", "'{column}' {value} is before '{other}'; check the dates"),
    "text-too-long": (ERROR, "「{column}」文字超过 {limit} 个字符，本格未使用，请缩短", "'{column}' holds more than {limit} characters; the cell is not used — shorten it"),
    "totals-row-skipped": (INFO, "合计行已跳过", "Totals row skipped"),
    "file-open-elsewhere": (INFO, "有人正在打开 {file}（存在锁文件 {lock}），读取的是它最后一次保存的内容；锁文件已跳过", "Someone has {file} open ({lock} exists); its last saved version was read and the lock file skipped"),
    "targets-from-months": (INFO, "{rep_id} 没有 {period} 的目标行，{kpis_zh} 目标按 {months} 三个月合计", "{rep_id} has no target row for {period}; its {kpis} targets are the sum of {months}"),
    "missing-target": (WARNING, "{rep_id} 在 {period} 没有「{kpi_zh}」目标，该项不计分", "{rep_id} has no {kpi} target for {period}; that KPI is left out"),
    # domain
    "customer-conflict": (WARNING, "客户「{value}」也由 {others} 建档；按建档日期最先建档的是 {first_owner}（{first}），客户归其所有", "Customer '{value}' is also filed by {others}; first filed by {first_owner} ({first}), who owns it under the filing rule"),
    "grade-mismatch": (WARNING, "填写的等级 {value} 与计算等级 {computed} 不符", "Grade {value} differs from the computed grade {computed}"),
    "follow-up-overdue": (WARNING, "{days} 天未跟进（{grade} 级客户应每 {cadence} 天跟进）", "{days} days since the last follow-up (grade {grade}: every {cadence} days)"),
    "opportunity-overdue": (WARNING, "预计签约日期 {value} 已过，商机仍未关闭", "Expected close {value} has passed and the opportunity is still open"),
    "opportunity-stale": (WARNING, "商机进行中，但 {days} 天内无客户活动", "Open opportunity with no customer activity in {days} days"),
    "contract-unreviewed": (ERROR, "合同已签订但{review}未通过（违规）", "Contract signed without {review_en} approval (violation)"),
    "discount-unauthorized": (ERROR, "折扣率 {value} 超过 {limit}，未获主管授权（违规）", "Discount {value} above {limit} without manager approval (violation)"),
    "signed-without-date": (ERROR, "合同状态为已签订，但没有签订日期", "Contract is Signed but has no signed date"),
    "contract-amount-mismatch": (WARNING, "明细合计 {lines_total} 与合同金额 {value} 不符", "Lines total {lines_total} differs from the contract amount {value}"),
    "order-overdue": (WARNING, "承诺交期 {value} 已过，尚未发货", "Promised date {value} has passed and the order is not shipped"),
    "complaint-overdue": (WARNING, "投诉{took_zh}（时限 {sla} 天）", "Complaint {took_en} (limit {sla} days)"),
    "expense-over-limit": (ERROR, "{category}金额 {value} 超过标准 {limit}，且未批准（违规）", "{category_en} amount {value} above the limit {limit} and not approved (violation)"),
    "expense-duplicate-receipt": (ERROR, "发票号 {value} 重复报销（{others}）（违规）", "Receipt {value} claimed more than once ({others}) (violation)"),
    "expense-missing-customer": (WARNING, "招待费未填写客户编号", "Entertainment expense names no customer"),
    "collection-exceeds-contract": (WARNING, "合同 {contract} 回款合计 {total} 超过合同金额 {amount}", "Collections of contract {contract} total {total}, above its amount {amount}"),
    "activity-not-counted": (INFO, "不计入有效活动：{reason_zh}", "Not counted as an effective activity: {reason_en}"),
    "collection-not-counted": (INFO, "本笔回款不计入回款额和提成：{reason_zh}", "Collection not counted (collections KPI and commission): {reason_en}"),
    "violation-undated": (WARNING, "{rep_id} 的违规（{codes}）所在行没有「{column}」，{points} 分在任何周期都未扣除；填写日期后计入该日期所在的周期", "{rep_id}'s violation ({codes}) is deducted in no period until the row has its date: {points} points not deducted; fill in '{column}'"),
    # commissions (SPEC §10): the plan sheet, the roster's plans, and each rep's commission
    "commission-plan-unknown": (ERROR, "提成方案「{value}」不在「提成方案」表中，{who}本期无提成；请更正方案名或先登记该方案", "Commission plan '{value}' is not in the Commission Plan sheet, so {who_en} no commission; correct the name or add the plan"),
    "commission-plan-mixed": (ERROR, "方案「{plan}」的「{column}」为「{value}」，与其第一档（第 {first_row} 行）的「{first}」不同；同一方案各档的基数、档位依据和计算方式必须一致，该方案不发放提成", "Plan '{plan}' has '{column}' {value}, unlike its first tier (row {first_row}: {first}); all tiers of a plan share Base, Tier Basis and Method, so the plan pays nothing"),
    "commission-tier-overlap": (ERROR, "方案「{plan}」的档位 {tier} 与第 {other_row} 行的档位 {other} 重叠，该方案不发放提成；请调整下限或上限", "Plan '{plan}': tier {tier} overlaps the tier of row {other_row} ({other}), so the plan pays nothing; fix the From or To"),
    "commission-tier-gap": (ERROR, "方案「{plan}」在 {gap} 之间没有档位，该方案不发放提成；上一档的上限应等于本档的下限", "Plan '{plan}' has no tier for {gap}, so the plan pays nothing; a tier's From must equal the previous tier's To"),
    "commission-no-target": (WARNING, "{rep_id} 在 {period} 没有「{kpi_zh}」目标，按达成率计提的方案「{plan}」无法计算，本期提成为 0", "{rep_id} has no {kpi} target for {period}; plan '{plan}' is on attainment, so the commission is 0"),
    "commission-rate-ambiguous": (WARNING, "方案「{plan}」的费率「{value}」读作 {reading}：{why_zh}；如非此意，请写成带 % 的费率（{suggest}）", "Plan '{plan}': rate '{value}' is read as {reading}: {why_en}; if that is not what you meant, write the rate with % ({suggest})"),
    "commission-held": (WARNING, "{rep_id} 在 {period} 有 {count} 项违规，提成 {amount} 暂扣为 0（设置 commission.hold_on_violation）", "{rep_id} has {count} violation(s) in {period}; the commission of {amount} is held at 0 (setting commission.hold_on_violation)"),
}

# Codes about the master workbook and the scoring stage rather than a team file's rows (roster-row-error
# marks team rows, but the error to fix is on the master's roster; violation-undated points at a team
# cell, but only a period's scoring finds it — validate never gives it).
MASTER_CODES = {"missing-target", "commission-plan-unknown", "commission-plan-mixed", "commission-tier-overlap",
                "commission-tier-gap", "commission-rate-ambiguous", "commission-no-target", "commission-held",
                "targets-from-months", "roster-row-error", "violation-undated"}

# Codes that count as violations for score deductions (SPEC §5).
VIOLATIONS = {"contract-unreviewed", "discount-unauthorized", "expense-over-limit", "expense-duplicate-receipt"}


ECHO_CHARS = 200  # SPEC §7: a value echoed in a finding is cut to 200 characters


class Bilingual(NamedTuple):
    """A message in Chinese and in English, each whole in its own language."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def echo(value: object, limit: int = ECHO_CHARS) -> str:
    """`value` as text for a finding, cut to `limit` characters (an ellipsis marks the cut)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Fields every template may use and that are empty unless given (a hint such as "did you mean S001?").
_OPTIONAL_FIELDS = {"hint_zh": "", "hint_en": ""}


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:  # a template field we were not given stays visible
        return "{" + key + "}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. `row` is the Excel row number (1-based); 0 for file/sheet level
    (written as a blank cell in every output, see `outputs.findings_frame`)."""

    file: str
    sheet: str
    row: int
    column: str
    cell: str
    severity: str
    code: str
    message: str
    value: str
    rep_id: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def where(self) -> str:
        place = f"{self.file}"
        if self.sheet:
            place += f" [{self.sheet}]"
        if self.cell:
            place += f" {self.cell}"
        elif self.row:
            place += f" row {self.row}"
        return place


FINDING_COLUMNS = [f.name for f in fields(Finding)]


def make_finding(
    code: str,
    *,
    file: str = "",
    sheet: str = "",
    row: int = 0,
    column: str = "",
    cell: str = "",
    value: object = "",
    rep_id: str = "",
    **fmt: object,
) -> Finding:
    """Build a finding for `code` with its zh / en message filled from `fmt` (and column/value).

    Text from a file (the value, a header, any field) is cut to 200 characters wherever it is echoed.
    """
    severity = CODES[code][0]
    column, value = echo(column), echo(value)
    return Finding(
        file=file,
        sheet=sheet,
        row=int(row or 0),
        column=column,
        cell=cell,
        severity=severity,
        code=code,
        message=_message(code, column, value, sheet, file, rep_id, fmt),
        value=value,
        rep_id=echo(rep_id),
    )


def _message(code: str, column: str, value: str, sheet: str, file: str, rep_id: object, fmt: dict) -> str:
    """The zh / en message of `code` (column and value already cut): make_finding's and findings_frame_of's."""
    _, zh, en = CODES[code]
    fields_ = {k: v if isinstance(v, int | float) else echo(v) for k, v in fmt.items()}
    values = _SafeDict(_OPTIONAL_FIELDS, column=column, value=value, sheet=sheet, file=file, rep_id=rep_id,
                       **fields_)
    return zh.format_map(values) + " / " + en.format_map(values)


def findings_frame_of(code: str, n: int, *, file: object = "", sheet: object = "", row: object = 0,
                      column: object = "", cell: object = "", value: object = "", rep_id: object = "",
                      **fmt: object) -> pd.DataFrame:
    """`make_finding` for n findings of one code at once, as a frame of FINDING_COLUMNS (one row each).

    Every argument is either one value for all n or a list of n values, one per finding; the fields,
    cuts and messages are make_finding's (each message is formatted once per distinct set of the
    fields its templates use), so a Finding made from a row equals the one make_finding gives."""
    def each(v: object) -> list:
        return v if isinstance(v, list) else [v] * n

    columns, values = _cut(column, n), _cut(value, n)
    files, sheets, reps = each(file), each(sheet), each(rep_id)
    used = _template_fields(code)
    per_row = {k: v for k, v in fmt.items() if isinstance(v, list | Coded) and k in used}
    fixed = {k: v for k, v in fmt.items() if not isinstance(v, list | Coded)}  # (unused per-row fields: left out)
    inputs = {"column": columns if isinstance(column, list) else column,
              "value": values if isinstance(value, list) else value, "sheet": sheet, "file": file,
              "rep_id": rep_id, **per_row}
    varying = [k for k, v in inputs.items() if k in used and isinstance(v, list | Coded)]
    coded = [_coded(inputs[k]) for k in varying]
    compose = _composer(code, varying, set(per_row), fixed, columns[0], values[0], sheets[0], files[0], reps[0]) \
        if n else None
    if not n:
        messages = []
    elif not coded:
        messages = [_message(code, columns[0], values[0], sheets[0], files[0], reps[0], fixed)] * n
    elif compose is not None and all(c.codes is coded[0].codes and len(c.values) == len(coded[0].values)
                                     for c in coded) and all(_only_str(c.values) for c in coded):
        # the fields vary together (one numbering, as a reason's zh and en texts): one message per number
        messages = compose([c.values for c in coded])[coded[0].codes]
    elif compose is not None and all(_only_str(c.values) for c in coded):  # equal texts give equal messages
        key = np.zeros(n, dtype=np.int64)  # one number per distinct combination of the varying fields
        for c in coded:
            key = np.unique(key * len(c.values) + c.codes, return_inverse=True)[1].astype(np.int64).ravel()
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        text = compose([[c.values[k] for k in c.codes[first].tolist()] for c in coded])
        messages = np.asarray(text, dtype=object)[inverse.ravel()]
    else:
        messages = [_message(code, columns[i], values[i], sheets[i], files[i], reps[i],
                             {**fixed, **{name: _at(v, i) for name, v in per_row.items()}}) for i in range(n)]
    rows = row if isinstance(row, list) else [row] * n
    if set(map(type, rows)) != {int}:  # int(r or 0) of an int is itself
        rows = [int(r or 0) for r in rows]
    return pd.DataFrame({
        "file": _objects(files), "sheet": _objects(sheets), "row": pd.Series(rows, dtype=np.int64),
        "column": _objects(columns), "cell": _objects(each(cell)), "severity": _objects([CODES[code][0]] * n),
        "code": _objects([code] * n), "message": _objects(messages), "value": _objects(values),
        "rep_id": _objects(_cut(rep_id, n)),
    }, columns=FINDING_COLUMNS, copy=False)


class Coded(NamedTuple):
    """Per-row values given as numbers into their distinct values: row i has values[codes[i]]."""

    codes: np.ndarray
    values: list


def _at(v: list | Coded, i: int) -> object:
    return v.values[v.codes[i]] if isinstance(v, Coded) else v[i]


def _coded(v: list | Coded) -> Coded:
    """A list's values numbered by equality (str only: 1 == 1.0 == True, yet they print apart)."""
    if isinstance(v, Coded):
        return Coded(np.asarray(v.codes, dtype=np.int64), list(v.values))
    if not _only_str(v):
        return Coded(np.arange(len(v), dtype=np.int64), list(v))
    values = np.empty(len(v), dtype=object)
    values[:] = v
    codes, distinct = pd.factorize(values)  # numbered in order of first appearance, as dict.fromkeys(v)
    return Coded(codes.astype(np.int64, copy=False), distinct.tolist())


def _only_str(values: list) -> bool:
    return set(map(type, values)) <= {str}


def _cut(v: object, n: int) -> list:
    """echo of one value for all n, or of each of a list (a list of short texts is kept as it is)."""
    if not isinstance(v, list):
        return [echo(v)] * n
    if _only_str(v):
        if not v or max(map(len, v)) <= ECHO_CHARS:
            return v
        cut = {x: echo(x) for x in set(v)}
        return [cut[x] for x in v]
    return [echo(x) for x in v]


def _objects(values: list) -> pd.Series:
    """A column of Python objects as they are (no conversion to Arrow strings: the frame is sorted and
    read back as Python values; `outputs.findings_frame` gives it the dtypes of the findings table)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return pd.Series(out, dtype=object, copy=False)


def _composer(code: str, varying: list[str], from_fmt: set[str], fixed: dict, column: str, value: str, sheet: str,
              file: str, rep_id: object):
    """[column of each varying field's texts] -> the messages of `code`, the other fields being those given;
    None when a template has a field with a format spec, a conversion or an index (then `_message` formats
    each). A plain field {x} is format(x, ""), as str.format_map does it, and a text from fmt is echoed."""
    given = _SafeDict(_OPTIONAL_FIELDS, column=column, value=value, sheet=sheet, file=file, rep_id=rep_id,
                      **{k: v if isinstance(v, int | float) else echo(v) for k, v in fixed.items()})
    slot = {name: i for i, name in enumerate(varying)}
    parts: list[str | int] = []  # the messages' texts between the varying fields, and the fields' slots
    for template in CODES[code][1:]:
        for literal, name, spec, conv in Formatter().parse(template):
            if spec or conv or (name is not None and not name.isidentifier()):
                return None
            parts.append(literal)
            if name in slot:
                parts.append(slot[name])
            elif name is not None:
                parts.append(format(given[name], ""))
        parts.append(" / ")
    parts.pop()
    joined: list[str | int] = []  # adjacent texts as one
    for part in parts:
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        elif part != "":
            joined.append(part)
    cut = [name in from_fmt for name in varying]

    def compose(columns: list[list[str]]) -> np.ndarray:
        args = [[echo(x) for x in col] if c and col and max(map(len, col)) > ECHO_CHARS else col
                for col, c in zip(columns, cut, strict=True)]
        n = len(args[0]) if args else 0
        out = np.full(n, "", dtype=object)
        for part in joined:  # str + str for each message, as whole columns (a plain field is format(x, "") = x)
            if isinstance(part, str):
                out = out + part
            else:
                col = np.empty(n, dtype=object)
                col[:] = args[part]
                out = out + col
        return out

    return compose


def _template_fields(code: str) -> set[str]:
    """The field names the zh and en templates of `code` use."""
    _, zh, en = CODES[code]
    names = {name for t in (zh, en) for _, name, _, _ in Formatter().parse(t) if name}
    return {name.split(".")[0].split("[")[0] for name in names}


class Findings(Sequence):
    """Findings in order, held as Finding objects, as a frame of FINDING_COLUMNS, or both.

    Thousands of findings of one kind (activity-not-counted) are built as a frame; a Finding is made
    from its row only when it is read, so iterating gives every finding, however it was built. Counts,
    filters, sorting and the findings table use the frame and make no objects. Never changed in place."""

    __slots__ = ("_frame", "_missing", "_objects")

    def __init__(self, findings: Iterable[Finding] = (), *, frame: pd.DataFrame | None = None) -> None:
        if frame is not None:
            self._frame: pd.DataFrame | None = frame[FINDING_COLUMNS].reset_index(drop=True)
            self._objects: list[Finding | None] = [None] * len(frame)
            self._missing = len(frame)
        else:
            self._frame, self._objects, self._missing = None, list(findings), 0

    @classmethod
    def concat(cls, parts: Iterable[Sequence[Finding]]) -> Findings:
        """The findings of every part, in order."""
        parts = [p if isinstance(p, Findings) else Findings(p) for p in parts]
        if all(p._frame is None for p in parts):
            return cls(f for p in parts for f in p._objects)
        frames = [p.frame() for p in parts if len(p)]
        out = cls(frame=pd.concat(frames, ignore_index=True) if len(frames) > 1
                  else frames[0] if frames else _empty_frame())
        out._objects = [f for p in parts for f in p._objects]
        out._missing = sum(p._missing for p in parts)
        return out

    def __len__(self) -> int:
        return len(self._objects)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        f = self._objects[i]
        if f is None:
            k = range(len(self))[i]
            self._make([k])
            f = self._objects[k]
        return f

    def __iter__(self):
        if self._missing:
            self._make(range(len(self)))
        return iter(self._objects)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Findings | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[Finding]) -> Findings:
        return Findings.concat([self, other])

    def __radd__(self, other: Sequence[Finding]) -> Findings:
        return Findings.concat([other, self])

    def __repr__(self) -> str:
        return f"Findings({list(self)!r})"

    @property
    def has_frame(self) -> bool:
        """Whether some of these were built as a frame (then `frame()` costs nothing to ask for)."""
        return self._frame is not None

    def frame(self) -> pd.DataFrame:
        """All findings as a frame of FINDING_COLUMNS (`row` 0 where none); shared: do not change it."""
        if self._frame is None:
            self._frame = pd.DataFrame(list(map(_FIELDS, self._objects)), columns=FINDING_COLUMNS)
        return self._frame

    def values(self, name: str) -> list:
        """One field of every finding, in order."""
        if self._frame is not None:
            return self._frame[name].tolist()
        return [getattr(f, name) for f in self._objects]

    def where(self, *, severity: str | None = None, codes: Iterable[str] | None = None,
              with_row: bool = False) -> list[Finding]:
        """The findings of that severity / those codes (with a row number), in order, made only for those."""
        keep = np.ones(len(self), dtype=bool)
        if severity is not None:
            keep &= np.asarray(self.values("severity"), dtype=object) == severity
        if codes is not None:
            keep &= np.isin(np.asarray(self.values("code"), dtype=object), list(codes))
        if with_row:
            keep &= np.asarray(self.values("row"), dtype=object) != 0
        at = np.flatnonzero(keep).tolist()
        self._make(at)
        return [self._objects[k] for k in at]

    def take(self, order: Sequence[int]) -> Findings:
        """These findings in the order of the positions `order` (each once)."""
        out = Findings.__new__(Findings)
        out._objects = [self._objects[k] for k in order]
        out._missing = self._missing
        out._frame = None if self._frame is None else self._frame.take(np.asarray(order, dtype=np.int64)) \
            .reset_index(drop=True)
        return out

    def _make(self, positions: Iterable[int]) -> None:
        """Make the Finding objects at `positions` that are not made yet, from the frame's rows."""
        if not self._missing:
            return
        todo = [k for k in positions if self._objects[k] is None]
        if not todo:
            return
        part = self._frame.take(np.asarray(todo, dtype=np.int64))
        for k, vals in zip(todo, zip(*(part[c].tolist() for c in FINDING_COLUMNS), strict=True), strict=True):
            self._objects[k] = Finding(*vals)
        self._missing -= len(todo)


_FIELDS = attrgetter(*FINDING_COLUMNS)


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame([], columns=FINDING_COLUMNS)


def as_findings(findings: Sequence[Finding]) -> Findings:
    return findings if isinstance(findings, Findings) else Findings(findings)


def values_of(findings: Sequence[Finding], name: str) -> list:
    """One field of every finding (a list or Findings), in order, without making objects from a frame."""
    if isinstance(findings, Findings):
        return findings.values(name)
    return [getattr(f, name) for f in findings]


def select(findings: Sequence[Finding], *, severity: str | None = None, codes: Iterable[str] | None = None,
           with_row: bool = False) -> list[Finding]:
    """The findings (a list or Findings) of that severity / those codes (and with a row), in order."""
    if isinstance(findings, Findings):
        return findings.where(severity=severity, codes=codes, with_row=with_row)
    wanted = None if codes is None else set(codes)
    return [f for f in findings if (severity is None or f.severity == severity)
            and (wanted is None or f.code in wanted) and (not with_row or f.row)]


def workbook_sorted(findings: Sequence[Finding], sheet_positions: dict[tuple[str, str], int],
                    sheet_rank: dict[str, int] | None = None) -> Findings:
    """The findings in `workbook_order`, sorted as columns: the order `sorted(findings, key=workbook_order(...))`
    gives, ties included. Each part of the key is ranked only among the findings still tied on the parts
    before it (most are told apart by file, sheet and row), and a stable sort keeps ties in their order."""
    fs = as_findings(findings)
    if len(fs) < 2:
        return fs
    frame = fs.frame()
    key = workbook_order(sheet_positions, sheet_rank)

    def where(at: np.ndarray) -> np.ndarray:  # (file, where): ranked over the distinct (file, sheet)
        fl, sh = (_coded(frame[c].to_numpy(dtype=object)[at].tolist()) for c in ("file", "sheet"))
        pair = fl.codes * len(sh.values) + sh.codes
        distinct, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
        heads = [key(Finding(fl.values[fl.codes[i]], sh.values[sh.codes[i]], 0, "", "", "", "", "", "", ""))[:2]
                 for i in first.tolist()]
        return _rank_of(heads)[inverse.ravel()]

    def ranked(name: str, by=None):
        return lambda at: _ranks(frame[name].to_numpy(dtype=object)[at], by)

    parts = [where, lambda at: frame["row"].to_numpy(dtype=np.int64)[at], ranked("cell", lambda c: (len(c), c)),
             ranked("code"), ranked("message")]
    return fs.take(_refined_order(len(fs), parts).tolist())


def _refined_order(n: int, parts: list) -> np.ndarray:
    """A stable lexicographic order of n items by `parts` (each: positions -> ranks comparable among them),
    asking each part only about the items the parts before it left tied."""
    order = np.arange(n)
    group = np.zeros(n, dtype=np.int64)  # by position in `order`: items with the same group are tied so far
    for part in parts:
        g = group
        tied = np.zeros(n, dtype=bool)
        same = g[1:] == g[:-1]
        tied[1:] |= same
        tied[:-1] |= same
        if not tied.any():
            break
        rank = np.zeros(n, dtype=np.int64)
        rank[tied] = part(order[tied])
        resort = np.lexsort((rank, g))  # stable: keeps the tied items' order where the rank ties too
        order, g, rank = order[resort], g[resort], rank[resort]
        new = np.ones(n, dtype=bool)
        new[1:] = (g[1:] != g[:-1]) | (rank[1:] != rank[:-1])
        group = np.cumsum(new)
    return order


def _ranks(values: np.ndarray, key=None) -> np.ndarray:
    """Each value's rank among the distinct values (in Python's order, or by `key`)."""
    codes, uniques = pd.factorize(values)
    return _rank_of(list(uniques), key)[codes]


def _rank_of(items: list, key=None) -> np.ndarray:
    order = sorted(range(len(items)), key=items.__getitem__ if key is None else lambda k: key(items[k]))
    rank = np.empty(len(items), dtype=np.int64)
    rank[order] = np.arange(len(items))
    return rank


def sort_key(f: Finding) -> tuple:
    """Stable output order without sheet positions: file, sheet name, row, cell, code."""
    return (f.file, f.sheet, f.row, f.cell, f.code, f.message)


def workbook_order(sheet_positions: dict[tuple[str, str], int], sheet_rank: dict[str, int] | None = None):
    """A sort key putting findings in the order a manager reads the files: file by file, the
    file's own findings first, then its sheets in the order they stand in the workbook, then row and
    column. Sheets the file lacks (missing-sheet) follow in `sheet_rank` order (the schema order),
    then by name — so the order never depends on how the findings were collected."""
    rank = sheet_rank or {}
    unknown = len(rank) + 1

    def key(f: Finding) -> tuple:
        if not f.sheet:
            where = (0, 0, 0, "")
        elif (f.file, f.sheet) in sheet_positions:
            where = (1, sheet_positions[(f.file, f.sheet)], 0, "")
        else:
            where = (2, 0, rank.get(f.sheet, unknown), f.sheet)
        return (f.file, where, f.row, len(f.cell), f.cell, f.code, f.message)

    return key


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
