"""Collections that count (SPEC §5 回款额, and so §10's commission base): money received under a signed contract.

A collection counts only when its contract's row has no error and the contract is Signed or
Terminated (judged on the first row of the contract id, the one its documents are made from). Every
other valid collection gets a `collection-not-counted` info finding saying why; scoring lists it in
the evidence with value 0, as it does for activities that do not count (SPEC §11).
"""

from __future__ import annotations

from .dataset import Dataset, records, typed
from .findings import ERROR, Finding
from .rules import contract_owners
from .table import TYPED

COUNTING_STATUSES = ("Signed", "Terminated")
CODE = "collection-not-counted"


def _first_rows(ds: Dataset) -> dict[str, dict]:
    f = ds.frame("contracts")
    cols = [c for c in ("_file", "_sheet", "_row", "_valid", "contract_id", "status", TYPED + "status")
            if c in f.columns]
    out: dict[str, dict] = {}
    for r in records(f, cols):
        cid = r["contract_id"]
        if cid is not None and cid == cid and cid != "" and cid not in out:
            out[cid] = r
    return out


def uncounted_contracts(ds: Dataset) -> set[str]:
    """Ids of the contracts whose collections do not count: an error on the row, or not signed."""
    return {cid for cid, r in _first_rows(ds).items() if not r["_valid"] or r["status"] not in COUNTING_STATUSES}


def collections_not_counted(ds: Dataset, findings: list[Finding]) -> list[Finding]:
    """`collection-not-counted` for every valid collection whose contract does not count, with the reason."""
    paid = ds.valid("collections")
    if paid.empty:
        return []
    contracts = _first_rows(ds)
    errors: dict[tuple[str, str, int], list[Finding]] = {}
    for f in findings:
        if f.severity == ERROR and f.row:
            errors.setdefault((f.file, f.sheet, f.row), []).append(f)
    reasons: dict[str, tuple[str, str]] = {}
    for cid, r in contracts.items():
        if not r["_valid"]:
            found = errors.get((r["_file"], r["_sheet"], int(r["_row"])), [])
            codes = ", ".join(dict.fromkeys(f.code for f in found))
            where = found[0].where if found else f"{r['_file']} [{r['_sheet']}] row {r['_row']}"
            reasons[cid] = (f"合同 {cid} 有错误（{where} {codes}），更正后本笔回款才计入",
                            f"its contract {cid} has an error ({codes} at {where}); it counts once that is fixed")
        elif r["status"] not in COUNTING_STATUSES:
            shown = typed(r, "status") or r["status"] or "空 blank"
            reasons[cid] = (f"合同 {cid} 状态为「{shown}」，尚未签订；签订后本笔回款才计入",
                            f"its contract {cid} is {r['status'] or 'blank'} ({shown}), not signed; "
                            "it counts once the contract is signed")
    if not reasons:
        return []
    owners = contract_owners(ds)
    out = []
    for r in records(paid[paid["contract_id"].isin(list(reasons))]):
        zh, en = reasons[r["contract_id"]]
        out.append(ds.finding(CODE, r, "contract_id", rep_id=owners.get(r["contract_id"], ""),
                              reason_zh=zh, reason_en=en))
    return out


__all__ = ["CODE", "COUNTING_STATUSES", "collections_not_counted", "uncounted_contracts"]
