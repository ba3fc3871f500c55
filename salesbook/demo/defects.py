"""The deliberate defects of the demo: each one row, one defect, at one cell, listed for the tests."""

from __future__ import annotations

from datetime import date, timedelta

from .rules import _row, normalise_company
from .vocabulary import TEAMS


class DefectsMixin:
    """`TeamBuilder.inject` and its helpers; it draws from the builder's rng after the clean rows."""

    def pick(self, file: str, sheet: str, cond=lambda r: True) -> dict:
        rows = [r for r in self.rows[file][sheet] if not r["_d"] and not r.get("_locked") and cond(r)]
        r = self.rng.choice(rows)
        r["_locked"] = True  # a row used as an anchor or defect is not reused
        return r

    def insert(self, file: str, sheet: str, row: dict, after: dict | None = None) -> dict:
        rows = self.rows[file][sheet]
        lo = rows.index(after) + 1 if after is not None else 0
        rows.insert(self.rng.randint(lo, len(rows)), row)
        return row

    def clone(self, row: dict, **changes: object) -> dict:
        new = {k: v for k, v in row.items() if not k.startswith("_") or k == "_date"}
        new.update(changes)
        new["_d"] = []
        return new

    def defect(self, row: dict, column: str, code: str, value: object = "keep") -> dict:
        if value != "keep":
            row[column] = value
        row["_d"].append((column, code))
        return row

    def customer_without_children(self, file: str, owner: str, **changes: object) -> dict:
        """A new customer row that nothing refers to (it will carry an error)."""
        c = self.customer(owner)
        self.rows[file]["customers"].remove(c)
        c.update(changes)
        del self.customers[c["customer_id"]]
        return self.insert(file, "customers", c)

    def inject(self) -> None:
        E, S, N = (t[0] for t in TEAMS)
        self.injecting = True
        rng = self.rng
        as_of = self.as_of
        rep_of = {f: [r["rep_id"] for r in self.reps if self.team_of[r["rep_id"]] == f] for f, *_ in TEAMS}

        # customers: type, pattern, required, range and order defects on rows nothing refers to
        self.defect(self.customer_without_children(E, rep_of[E][0]), "contact", "required-missing", None)
        self.defect(self.customer_without_children(E, rep_of[E][1]), "phone", "bad-pattern", "138123")
        self.defect(self.customer_without_children(S, rep_of[S][0]), "email", "bad-pattern", "wang.lei@")
        self.defect(self.customer_without_children(S, rep_of[S][1]), "company_size", "bad-enum", "超大型")
        self.defect(
            self.customer_without_children(E, rep_of[E][2]), "created", "out-of-range", date(1999, 5, 1)
        )
        c = self.customer_without_children(S, rep_of[S][2])
        c["created"] = self.start - timedelta(days=40)
        self.defect(c, "updated", "date-order", self.start - timedelta(days=55))

        # duplicate customer id in a later file (team_east < team_north); the copy names a new company
        first = self.pick(E, "customers")
        dup = self.customer_without_children(N, rep_of[N][0])
        self.defect(dup, "customer_id", "duplicate-key", first["customer_id"])

        # customer conflicts: same company filed again under another id by another rep (both rows warn)
        a = self.pick(E, "customers")
        self.defect(a, "customer_name", "customer-conflict")
        conflict = self.customer(rep_of[N][1])  # a clean customer with activities, renamed below
        conflict["customer_name"] = " " + a["customer_name"].replace(
            a["customer_name"][2:4], a["customer_name"][2:4] + " ", 1
        )
        self.defect(conflict, "customer_name", "customer-conflict")
        self.activity(conflict, as_of - timedelta(days=2))
        b = self.pick(
            S,
            "customers",
            lambda r: (
                r["customer_name"].endswith("有限公司") and not r["customer_name"].endswith("股份有限公司")
            ),
        )
        self.defect(b, "customer_name", "customer-conflict")
        conflict = self.customer([r for r in rep_of[S] if r != b["owner"]][0])
        conflict["customer_name"] = normalise_company(b["customer_name"])  # same company, no suffix
        self.defect(conflict, "customer_name", "customer-conflict")
        self.activity(conflict, as_of - timedelta(days=1))
        self.rows[S]["customers"].remove(conflict)
        self.insert(S, "customers", conflict, after=b)

        # grade written differently from the computed one
        for f in (E, S, N):
            c = self.pick(f, "customers", lambda r: not r["customer_name"].startswith(" "))
            wrong = {"A": "C", "B": "D", "C": "A", "D": "B"}[c["_grade"]]
            self.defect(c, "grade", "grade-mismatch", wrong)

        # follow-up overdue: B last seen 40 days ago; D never seen for 200 days; A last seen 12 days ago
        c = self.customer(
            rep_of[E][3], created=as_of - timedelta(days=120), attrs=("Medium", 150, "Medium", 0)
        )
        self.activity(c, as_of - timedelta(days=70))
        self.activity(c, as_of - timedelta(days=40))
        self.defect(c, "customer_id", "follow-up-overdue")
        c = self.customer(rep_of[S][3], created=as_of - timedelta(days=200), attrs=("Micro", 5, "Low", 0))
        self.defect(c, "customer_id", "follow-up-overdue")
        c = self.customer(rep_of[N][2], created=as_of - timedelta(days=90), attrs=("Large", 600, "High", 0))
        self.activity(c, as_of - timedelta(days=12))
        self.defect(c, "customer_id", "follow-up-overdue")

        # stale opportunities: grade D customers (cadence 90) last seen 45 days ago
        for rep in (rep_of[E][1], rep_of[N][3]):
            c = self.customer(
                rep, created=as_of - timedelta(days=150), attrs=("Small", 10, "Low", 0), grade_written="D"
            )
            self.activity(c, as_of - timedelta(days=45))
            o = self.opportunity(c, "Qualified", as_of + timedelta(days=60))
            self.defect(o, "opportunity_id", "opportunity-stale")

        # activities
        self.defect(self.pick(E, "activities"), "date", "bad-type", "下周二")
        self.defect(self.pick(E, "activities"), "activity_type", "bad-enum", "上门")
        a = self.pick(E, "activities", lambda r: isinstance(r["date"], date))
        self.defect(a, "next_follow_up", "date-order", a["date"] - timedelta(days=3))
        self.defect(self.pick(N, "activities"), "summary", "required-missing", None)
        self.defect(self.pick(N, "activities"), "minutes", "out-of-range", 1500)
        a = self.clone(self.pick(S, "activities"), customer_id="C9999")
        self.defect(self.insert(S, "activities", a), "customer_id", "unknown-reference")

        # opportunities
        open_opp = lambda r: r["stage"] not in ("Won", "Lost")  # noqa: E731
        self.defect(self.pick(N, "opportunities", open_opp), "stage", "bad-enum", "Closed")
        self.defect(self.pick(E, "opportunities", open_opp), "probability", "out-of-range", "120%")
        self.defect(self.pick(S, "opportunities", open_opp), "amount", "bad-type", "约50万左右")
        for f in (E, S):
            self.defect(
                self.pick(f, "opportunities", open_opp),
                "expected_close",
                "opportunity-overdue",
                as_of - timedelta(days=rng.randint(5, 40)),
            )

        # contracts: new rows without lines, orders or collections
        def bare_contract(f: str, **changes: object) -> dict:
            owner = rng.choice(rep_of[f])
            c = self.customers[rng.choice(self.recent_customers[owner])]
            k = self.contract(
                c, status="Signed", signed=self.day(self.start, as_of - timedelta(days=1)), opportunity=None
            )
            for line in k["_lines"]:
                self.rows[f]["contract_lines"].remove(line)
            k.update(
                discount=0.05,
                manager_approval=None,
                legal_review="Approved",
                finance_review="Approved",
                amount=k["_amount"],
            )
            k.update(changes)
            self.rows[f]["contracts"].remove(k)
            return self.insert(f, "contracts", k)

        self.defect(bare_contract(E), "legal_review", "contract-unreviewed", "Pending")
        self.defect(
            bare_contract(N, legal_review="Approved"), "finance_review", "contract-unreviewed", "Rejected"
        )
        self.defect(bare_contract(S), "discount", "discount-unauthorized", 0.15)
        self.defect(bare_contract(N, manager_approval="Rejected"), "discount", "discount-unauthorized", "12%")
        self.defect(bare_contract(E), "signed", "signed-without-date", None)
        self.defect(bare_contract(S), "signed", "signed-without-date", None)
        self.defect(bare_contract(E), "opportunity_id", "unknown-reference", "SJ-2026-9999")
        self.defect(bare_contract(N), "amount", "bad-type", "abc")
        first = self.pick(S, "contracts", lambda r: r["status"] == "Signed")
        dup = bare_contract(S, status="Draft", legal_review=None, finance_review=None, signed=None)
        self.rows[S]["contracts"].remove(dup)
        self.insert(S, "contracts", dup, after=first)
        self.defect(dup, "contract_id", "duplicate-key", first["contract_id"])
        for f in (E, N):
            k = self.pick(f, "contracts", lambda r: r["status"] == "Signed" and r["_lines"])
            # higher than the lines: its collections (≤ 90 % of the lines total) stay below it
            self.defect(
                k, "amount", "contract-amount-mismatch", round(k["_amount"] + rng.randint(200, 5000), 2)
            )
            k["_amount"] = None

        # contract lines and orders
        line = self.clone(self.pick(N, "contract_lines"), contract_id="HT-2026-9999")
        self.defect(self.insert(N, "contract_lines", line), "contract_id", "unknown-reference")
        signed_k = {
            k["contract_id"]
            for f in (E, S, N)
            for k in self.rows[f]["contracts"]
            if k["status"] == "Signed" and not k["_d"]
        }
        shipped = lambda r: r["shipped"] is not None and r["contract_id"] in signed_k  # noqa: E731
        o = self.pick(N, "orders", shipped)
        self.defect(o, "shipped", "date-order", o["ordered"] - timedelta(days=2))
        o["accepted"], o["status"] = None, "Shipped"
        o = self.pick(E, "orders", lambda r: r["accepted"] is not None)
        self.defect(o, "accepted", "date-order", o["shipped"] - timedelta(days=1))
        for f in (S, N):
            o = self.pick(f, "orders", lambda r: shipped(r) and r["ordered"] <= as_of - timedelta(days=5))
            o["promised"] = self.day(o["ordered"] + timedelta(days=1), as_of - timedelta(days=1))
            o.update(shipped=None, accepted=None, status="In Production")
            self.defect(o, "promised", "order-overdue")

        # collections
        for f in (E, S):
            k = self.pick(
                f,
                "contracts",
                lambda r: (
                    r["status"] == "Signed"
                    and r["_amount"]
                    and r["_signed"] < self.start - timedelta(days=40)
                ),
            )
            mine = [r for r in self.rows[f]["collections"] if r["contract_id"] == k["contract_id"]]
            for r in mine:
                self.rows[f]["collections"].remove(r)
            first_pay = self._pay(f, k, k["_signed"] + timedelta(days=5), float(int(k["_amount"] * 0.7)))
            second = self._pay(
                f, k, k["_signed"] + timedelta(days=35), float(int(k["_amount"] * 0.5)), after=first_pay
            )
            first_pay["_locked"] = True
            self.defect(second, "amount", "collection-exceeds-contract")
        self.defect(self.pick(S, "collections"), "amount", "out-of-range", -500)

        # complaints
        t = self.pick(S, "complaints", lambda r: r["resolved"] is not None)
        self.defect(t, "resolved", "date-order", t["received"] - timedelta(days=2))
        t = self.pick(
            E,
            "complaints",
            lambda r: r["resolved"] is not None and r["received"] <= as_of - timedelta(days=20),
        )
        t["resolved"] = t["received"] + timedelta(days=12)
        self.defect(t, "received", "complaint-overdue")
        t = self.pick(N, "complaints", lambda r: r["resolved"] is None)
        t["received"] = as_of - timedelta(days=20)
        self.defect(t, "received", "complaint-overdue")

        # expenses
        self.defect(self.pick(S, "expenses"), "amount", "bad-type", "abc")
        e = self.expense(rep_of[E][0], "Transport")
        self.defect(self.insert(E, "expenses", e), "rep_id", "unknown-reference", "S099")
        self.defect(
            self.insert(E, "expenses", self.expense(rep_of[E][1], "Travel", 6800.0, approval="Pending")),
            "amount",
            "expense-over-limit",
        )
        e = self.expense(rep_of[N][1], "Entertainment", 2580.0, approval=None)
        self.defect(self.insert(N, "expenses", e), "amount", "expense-over-limit")
        e = self.expense(rep_of[E][2], "Entertainment", 880.0)
        self.defect(self.insert(E, "expenses", e), "customer_id", "expense-missing-customer", None)
        e = self.expense(rep_of[S][2], "Entertainment", 1260.0)
        self.defect(self.insert(S, "expenses", e), "customer_id", "expense-missing-customer", None)
        for e in (self.insert(N, "expenses", self.expense(rep_of[N][0], "Transport", 0.0)),):
            self.defect(e, "amount", "out-of-range")
        # a receipt claimed by two reps in two files, and one claimed twice in one file, written differently
        first = self.pick(E, "expenses", lambda r: r["category"] == "Travel")
        self.defect(first, "receipt_no", "expense-duplicate-receipt")
        e = self.expense(rep_of[S][1], "Travel", receipt_no=first["receipt_no"])
        self.defect(self.insert(S, "expenses", e), "receipt_no", "expense-duplicate-receipt")
        first = self.pick(N, "expenses", lambda r: r["category"] == "Transport")
        self.defect(first, "receipt_no", "expense-duplicate-receipt")
        r = first["receipt_no"]
        e = self.expense(first["rep_id"], "Transport", receipt_no=f"{r[:4]}-{r[4:]} ")
        self.defect(self.insert(N, "expenses", e, after=first), "receipt_no", "expense-duplicate-receipt")
        # an expense id repeated in a later file
        first = self.pick(E, "expenses")
        e = self.expense(rep_of[S][3], "Telecom", 120.0, expense_id=first["expense_id"])
        self.defect(self.insert(S, "expenses", e), "expense_id", "duplicate-key")
        # a whole e-mail thread pasted into one activity's summary: longer than a cell salesbook keeps
        thread = "".join(
            f"转发：第 {i} 封邮件。王经理您好，关于扩容项目的报价和交付安排，详见附件，请审阅后回复。"
            for i in range(1, 120)
        )
        self.defect(self.pick(S, "activities", lambda r: r["summary"]), "summary", "text-too-long", thread)
        # money received under a contract still in draft: not counted until the contract is signed
        # (no draw from the generator here, so the rest of the demo stays as it was)
        draft = next(k for k in self.rows[N]["contracts"] if k["status"] == "Draft" and not k["_d"])
        paid = self._pay(N, draft, self.start + timedelta(days=2), 1000.0)
        self.defect(paid, "contract_id", "collection-not-counted")

    def _pay(self, f: str, k: dict, d: date, amount: float, after: dict | None = None) -> dict:
        row = _row(
            payment_id=self.next_id("payment", "HK-2026-{:04d}"),
            contract_id=k["contract_id"],
            date=d,
            amount=amount,
            method="银行转账",
        )
        return self.insert(f, "collections", row, after=after)
