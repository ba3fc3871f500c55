"""Opportunities, contracts and what hangs on them (lines, orders, collections), complaints, expenses."""

from __future__ import annotations

from datetime import date, timedelta

from .rules import _row
from .vocabulary import (
    _COMPLAINT_CATEGORIES,
    _EXPENSE_NOTES,
    _EXPENSE_RANGES,
    _PAYMENT_TERMS,
    _PRODUCTS,
    EXPENSE_LIMITS,
)


class DealsMixin:
    """`TeamBuilder`'s deal and spending rows; it relies on the builder's rng, ids, dates and rows."""

    def opportunity(self, c: dict, stage: str, close: date, amount: float | None = None) -> dict:
        rng = self.rng
        product = rng.choice(_PRODUCTS)[0]
        short = c["customer_name"][2:6]
        amount = amount if amount is not None else rng.randint(3, 90) * 10000
        r = rng.random()
        written_amount: object = f"{amount / 10000:g}万" if r < 0.1 else amount
        prob: object = None
        if stage not in ("Won", "Lost") and rng.random() < 0.6:
            p = {"Lead": 0.1, "Qualified": 0.3, "Proposal": 0.5, "Negotiation": 0.8}[stage]
            prob = f"{round(p * 100)}%" if rng.random() < 0.3 else p
        row = _row(
            opportunity_id=self.next_id("opportunity", "SJ-2026-{:04d}"),
            customer_id=c["customer_id"],
            name=f"{short}{product}项目",
            stage=stage,
            amount=written_amount,
            probability=prob,
            risk=rng.choice(["High", "Medium", "Low", None]),
            expected_close=close,
            owner=c["owner"],
        )
        self.rows_of(c["owner"], "opportunities").append(row)
        return row

    def lines_for(self, contract_id: str, discount: float) -> tuple[list[dict], float]:
        rng = self.rng
        lines, total = [], 0.0
        for prod, spec, unit, (plo, phi), (qlo, qhi) in rng.sample(_PRODUCTS, rng.randint(1, 4)):
            qty = rng.randint(qlo, qhi)
            price = rng.randint(plo, phi) + rng.choice([0, 0.5, 0.8])
            lines.append(
                _row(
                    contract_id=contract_id,
                    product=prod,
                    spec=spec,
                    quantity=qty,
                    unit=unit,
                    unit_price=price,
                )
            )
            total += qty * price * (1 - discount)
        return lines, round(total, 2)

    def contract(self, c: dict, *, status: str, signed: date | None, opportunity: str | None) -> dict:
        rng = self.rng
        cid = self.next_id("contract", "HT-2026-{:04d}")
        discount = rng.choice([0.0, 0.0, 0.03, 0.05, 0.08, 0.1, 0.12, 0.15])
        lines, amount = self.lines_for(cid, discount)
        manager = "Approved" if discount > 0.1 else rng.choice(["Approved", "Pending", None])
        if status == "Signed" or status == "Terminated":
            legal = finance = "Approved"
        elif status == "In Review":
            legal, finance = rng.choice([("Approved", "Pending"), ("Pending", None), ("Approved", None)])
        else:
            legal = finance = None
        written_discount: object = None
        if discount:
            written_discount = f"{round(discount * 100)}%" if rng.random() < 0.3 else discount
        written_amount: object = f"¥{amount:,.2f}" if rng.random() < 0.1 else amount
        row = _row(
            contract_id=cid,
            customer_id=c["customer_id"],
            opportunity_id=opportunity,
            amount=written_amount,
            discount=written_discount,
            payment_terms=rng.choice(_PAYMENT_TERMS),
            legal_review=legal,
            finance_review=finance,
            manager_approval=manager,
            signed=signed,
            status=status,
            owner=c["owner"],
        )
        row["_amount"], row["_lines"], row["_signed"] = amount, lines, signed
        self.rows_of(c["owner"], "contracts").append(row)
        self.rows_of(c["owner"], "contract_lines").extend(lines)
        return row

    def orders_and_collections(self, k: dict) -> None:
        rng = self.rng
        signed, amount, owner = k["_signed"], k["_amount"], k["owner"]
        for _ in range(rng.choice([1, 1, 2])):
            ordered = self.day(signed, min(self.as_of, signed + timedelta(days=20)))
            promised = ordered + timedelta(days=rng.randint(15, 45))
            shipped = accepted = None
            if promised < self.as_of and rng.random() < 0.08:
                status = "Cancelled"
            else:
                if promised < self.as_of or rng.random() < 0.4:
                    shipped = self.day(ordered, min(self.as_of, promised))
                    if rng.random() < 0.6:
                        accepted = self.day(shipped, min(self.as_of, shipped + timedelta(days=14)))
                status = (
                    "Accepted"
                    if accepted
                    else "Shipped"
                    if shipped
                    else rng.choice(["Open", "In Production"])
                )
            self.rows_of(owner, "orders").append(
                _row(
                    order_id=self.next_id("order", "DD-2026-{:04d}"),
                    contract_id=k["contract_id"],
                    ordered=ordered,
                    promised=promised,
                    shipped=shipped,
                    accepted=accepted,
                    status=status,
                )
            )
        # collections never reach 100 %: whole yuan, at most 90 % of the amount
        paid_at = signed
        for share in (0.3, 0.6)[: rng.choice([0, 1, 1, 2, 2])]:
            paid_at = self.day(paid_at + timedelta(days=3), paid_at + timedelta(days=40))
            if paid_at > self.as_of:
                break
            value = float(int(amount * share))
            self.rows_of(owner, "collections").append(
                _row(
                    payment_id=self.next_id("payment", "HK-2026-{:04d}"),
                    contract_id=k["contract_id"],
                    date=paid_at,
                    amount=f"¥{value:,.2f}" if rng.random() < 0.1 else value,
                    method=rng.choice(["银行转账", "银行转账", "银行承兑汇票", "电汇"]),
                )
            )

    def build_deals(self) -> None:
        rng = self.rng
        for rep in self.reps:
            rid = rep["rep_id"]
            pool = list(self.recent_customers[rid])
            # open and lost opportunities
            for _ in range(9):
                c = self.customers[rng.choice(pool)]
                stage = rng.choice(["Lead", "Qualified", "Proposal", "Negotiation", "Negotiation", "Lost"])
                if stage == "Lost":
                    close = self.day(self.first_day, self.as_of - timedelta(days=10))
                else:
                    close = self.day(self.as_of + timedelta(days=1), self.as_of + timedelta(days=150))
                self.opportunity(c, stage, close)
            # contracts: several signed in the period, more earlier, a few in flight
            plan = ["Signed"] * 7 + ["In Review", "Draft"] + (["Terminated"] if rng.random() < 0.4 else [])
            for i, status in enumerate(plan):
                c = self.customers[rng.choice(pool)]
                signed = None
                if status in ("Signed", "Terminated"):
                    if i < 3:
                        signed = self.day(self.start, self.as_of - timedelta(days=1))
                    else:
                        signed = self.day(self.first_day + timedelta(days=20), self.start - timedelta(days=1))
                opp = None
                if status == "Signed" and rng.random() < 0.7:
                    opp = self.opportunity(c, "Won", signed, amount=None)["opportunity_id"]
                k = self.contract(c, status=status, signed=signed, opportunity=opp)
                if status == "Signed":
                    self.orders_and_collections(k)

    def build_complaints_and_expenses(self) -> None:
        rng = self.rng
        for rep in self.reps:
            rid = rep["rep_id"]
            for _ in range(3):
                c = self.customers[rng.choice(self.recent_customers[rid])]
                cat, desc = rng.choice(_COMPLAINT_CATEGORIES)
                if rng.random() < 0.75:
                    received = self.day(self.first_day, self.as_of - timedelta(days=8))
                    resolved: date | None = received + timedelta(days=rng.randint(0, 7))
                    status = "Resolved"
                else:
                    received, resolved, status = (
                        self.day(self.as_of - timedelta(days=6), self.as_of),
                        None,
                        "Open",
                    )
                self.rows_of(rid, "complaints").append(
                    _row(
                        ticket_id=self.next_id("ticket", "TS-2026-{:04d}"),
                        customer_id=c["customer_id"],
                        received=received,
                        category=cat,
                        description=desc,
                        handler=self.person()[0],
                        resolved=resolved,
                        status=status,
                    )
                )
            for _ in range(25):
                self.rows_of(rid, "expenses").append(self.expense(rid))

    def expense(
        self, rid: str, category: str | None = None, amount: float | None = None, **over: object
    ) -> dict:
        rng = self.rng
        cat = category or rng.choice(list(_EXPENSE_RANGES))
        lo, hi = _EXPENSE_RANGES[cat]
        value = amount if amount is not None else rng.randint(lo, hi) + rng.choice([0, 0, 0.5])
        approval = rng.choice(["Approved", "Approved", "Pending", None])
        if value > EXPENSE_LIMITS[cat]:
            approval = "Approved"
        cust = None
        if cat == "Entertainment" or rng.random() < 0.2:
            cust = rng.choice(self.recent_customers[rid])
        written: object = f"¥{value:,.2f}" if rng.random() < 0.08 else value
        row = _row(
            expense_id=self.next_id("expense", "BX-2026-{:04d}"),
            rep_id=rid,
            date=self.text_date(self.day(self.first_day, self.as_of)),
            category=cat,
            amount=written,
            receipt_no=self.receipt(),
            customer_id=cust,
            approval=approval,
            note=_EXPENSE_NOTES[cat],
        )
        row.update(over)
        return row
