"""`TeamBuilder`: every row of the demo in memory (ids, people, reps, customers, activities, targets)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from salesbook.core.findings import CODES

from .deals import DealsMixin
from .defects import DefectsMixin
from .rules import _row, compute_grade, normalise_company, period_bounds
from .vocabulary import (
    _GIVEN,
    _NEEDS,
    _NEXT_STEPS,
    _NORTH_PLANS,
    _OUTCOMES,
    _PLAN_OF,
    _SUMMARIES,
    _SURNAMES,
    ACTIVITIES_PER_DAY,
    BRANDS,
    CITIES,
    COMPANY_SUFFIXES,
    LEFT_REP,
    NO_COLLECTIONS_TARGET_REP,
    TEAM_SHEETS,
    TEAMS,
    TRADES,
)


class TeamBuilder(DealsMixin, DefectsMixin):
    """Builds every row of the demo in memory; rows are dicts of schema keys plus `_d` defects.

    Public so that other generators (the benchmark's many team files) subclass it and change how
    ids, companies and reps are made, then write the rows with `write_team`. The deal rows come
    from `DealsMixin` (deals.py) and the injected defects from `DefectsMixin` (defects.py); all
    draw from the one `self.rng`, in the order `build` calls them.
    """

    def __init__(self, seed: int, period: str) -> None:
        self.rng = random.Random(seed)
        self.period = period
        self.start, self.as_of = period_bounds(period)
        self.first_day = self.as_of - timedelta(days=330)  # clean dates lie in [first_day, as_of]
        self.reps: list[dict] = []
        self.team_of: dict[str, str] = {}  # rep id -> team file
        self.rows: dict[str, dict[str, list[dict]]] = {f: {s: [] for s in TEAM_SHEETS} for f, *_ in TEAMS}
        self.customers: dict[str, dict] = {}
        self.customer_names: set[str] = set()
        self.receipts: set[str] = set()
        self.counters: dict[str, int] = {}
        self.recent_customers: dict[str, list[str]] = {}  # rep -> clean customers with a recent activity
        self.personal: dict[str, list[dict]] = {}
        self.injecting = False

    # -- small helpers
    def next_id(self, kind: str, fmt: str) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return fmt.format(self.counters[kind])

    def day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def person(self) -> tuple[str, str]:
        s, sp = self.rng.choice(_SURNAMES)
        g, gp = self.rng.choice(_GIVEN)
        return s + g, sp + gp

    def mobile(self) -> str:
        return "1" + self.rng.choice("3456789") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def text_date(self, d: date) -> object:
        """A date mostly as a real date, sometimes as text in a common Chinese office form."""
        r = self.rng.random()
        if r < 0.04:
            return f"{d.year}/{d.month}/{d.day}"
        if r < 0.07:
            return f"{d.year}年{d.month}月{d.day}日"
        return d

    def receipt(self) -> str:
        while True:
            r = f"{self.rng.randint(10000000, 99999999)}"
            if r not in self.receipts:
                self.receipts.add(r)
                return r

    def rows_of(self, rep: str, sheet: str) -> list[dict]:
        return self.rows[self.team_of[rep]][sheet]

    # -- reps
    def build_reps(self) -> None:
        n = 0
        for file, team, region, manager in TEAMS:
            for _ in range(4):
                n += 1
                rep_id = f"S{n:03d}"
                name, _ = self.person()
                self.reps.append(
                    {
                        "rep_id": rep_id,
                        "name": name,
                        "employee_id": f"E{10200 + 7 * n}",
                        "team": team,
                        "region": region,
                        "manager": manager,
                        "status": "Left" if rep_id == LEFT_REP else "Active",
                        "commission_plan": _PLAN_OF.get(file, _NORTH_PLANS[(n - 1) % 4]),
                    }
                )
                self.team_of[rep_id] = file

    # -- customers
    def company(self, region: str) -> tuple[str, str, str, str]:
        cities = [c for c in CITIES if c[1] == region] if self.rng.random() < 0.8 else CITIES
        while True:
            city, reg, area = self.rng.choice(cities)
            trade, industry = self.rng.choice(TRADES)
            name = city + self.rng.choice(BRANDS) + trade + self.rng.choice(COMPANY_SUFFIXES)
            if normalise_company(name) not in self.customer_names:
                self.customer_names.add(normalise_company(name))
                return name, industry, reg, area

    def customer(
        self,
        owner: str,
        *,
        created: date | None = None,
        attrs: tuple | None = None,
        grade_written: str | None = "auto",
    ) -> dict:
        rng = self.rng
        region = next(r["region"] for r in self.reps if r["rep_id"] == owner)
        name, industry, reg, area = self.company(region)
        if attrs is None:
            size = rng.choice(["Large", "Medium", "Medium", "Small", "Small", "Micro", None])
            potential = rng.choice(
                [rng.randint(1, 19), rng.randint(21, 99), rng.randint(101, 499), rng.randint(501, 1200)]
            )
            potential = potential + rng.choice([0, 0, 0.5])
            willingness = rng.choice(["High", "Medium", "Medium", "Low", None])
            history = rng.choice([0, 0, rng.randint(1, 99), rng.randint(101, 600)])
        else:
            size, potential, willingness, history = attrs
        grade = compute_grade(size, potential, willingness, history)
        if created is None:
            created = self.day(self.first_day, self.start - timedelta(days=1))
        contact, pinyin = self.person()
        r = rng.random()
        if r < 0.6:
            phone: object = self.mobile()
        elif r < 0.7:
            phone = int(self.mobile())  # typed as a number in Excel
        elif r < 0.78:
            m = self.mobile()
            phone = f"+86 {m[:3]} {m[3:7]} {m[7:]}"
        else:
            n = 8 if len(area) == 3 else rng.choice([7, 8])
            local = str(rng.randint(2, 8)) + "".join(rng.choice("0123456789") for _ in range(n - 1))
            phone = f"{area}-{local}" if rng.random() < 0.8 else f"{area} {local[:4]} {local[4:]}"
        email = (
            f"{pinyin}{rng.randint(1, 99)}@{''.join(rng.choice('abcdefghjkmnpqrstwxyz') for _ in range(4))}.com.cn"
            if rng.random() < 0.6
            else None
        )
        updated = self.day(created, self.as_of) if rng.random() < 0.7 else None
        if grade_written == "auto":
            grade_written = grade if rng.random() < 0.5 else None
        row = _row(
            customer_id=self.next_id("customer", "C{:04d}"),
            customer_name=name,
            industry=industry,
            region=reg,
            company_size=size,
            annual_potential=potential,
            willingness=willingness,
            historical_revenue=history,
            contact=contact,
            phone=phone,
            email=email,
            needs=rng.choice(_NEEDS),
            purchase_intent=rng.choice(["Confirmed", "Interested", "Undecided", "None", None]),
            owner=owner,
            created=self.text_date(created),
            updated=updated,
            grade=grade_written,
        )
        row["_created"], row["_grade"] = created, grade
        self.customers[row["customer_id"]] = row
        self.rows_of(owner, "customers").append(row)
        return row

    def activity(self, c: dict, d: date, rep: str | None = None) -> dict:
        rng = self.rng
        kind = rng.choice(list(_SUMMARIES))
        follow = d + timedelta(days=rng.randint(3, 30)) if rng.random() < 0.6 else None
        row = _row(
            date=self.text_date(d),
            rep_id=rep or c["owner"],
            customer_id=c["customer_id"],
            activity_type=kind,
            summary=rng.choice(_SUMMARIES[kind]),
            outcome=rng.choice(_OUTCOMES),
            next_step=rng.choice(_NEXT_STEPS),
            next_follow_up=follow,
            minutes=rng.choice([10, 15, 20, 30, 45, 60, 90, 120, 180]),
        )
        row["_date"] = d
        if self.injecting:
            row["_locked"] = True  # scenario activities are never turned into defects
        self.rows_of(rep or c["owner"], "activities").append(row)
        return row

    def build_customers(self) -> None:
        rng = self.rng
        for rep in self.reps:
            rid = rep["rep_id"]
            self.recent_customers[rid] = []
            for i in range(25):
                created = self.day(self.start, self.as_of - timedelta(days=2)) if i < 3 else None
                c = self.customer(rid, created=created)
                first = c["_created"]
                n = rng.randint(6, 13)
                dates = sorted(self.day(first, self.as_of) for _ in range(n - 1))
                dates.append(self.day(max(first, self.as_of - timedelta(days=5)), self.as_of))
                for d in dates:
                    last = self.activity(c, d)
                last["_locked"] = True  # the recent activity keeps the customer within its cadence
                self.recent_customers[rid].append(c["customer_id"])

    # -- the personal workbook of one rep: few sheets, structural defects
    def build_personal(self) -> None:
        rid = "S006"
        own = [self.customers[c] for c in self.recent_customers[rid][:4]]
        self.personal["customers"] = [
            _row(**{k: v for k, v in c.items() if not k.startswith("_")} | {"customer_id": f"P{i + 1:03d}"})
            for i, c in enumerate(own)
        ]
        self.personal["activities"] = []
        for c in own:
            d = self.as_of - timedelta(days=self.rng.randint(0, 10))
            self.personal["activities"].append(
                _row(
                    date=d,
                    rep_id=rid,
                    customer_id=c["customer_id"],
                    activity_type="Call",
                    outcome="客户有兴趣",
                    minutes=20,
                )
            )
        self.personal["expenses"] = [self.expense(rid) for _ in range(5)]
        for e in self.personal["expenses"]:
            e["expense_id"] = e["expense_id"].replace("BX-", "BX-P")

    def sort(self) -> None:
        for sheets in self.rows.values():
            sheets["activities"].sort(key=lambda r: (r.get("_date") or date.min, r["rep_id"]))

    def targets(self) -> list[dict]:
        """Targets around each rep's clean actuals in the period, so ratings spread out."""
        rng = self.rng
        out = []
        for rep in self.reps:
            rid, f = rep["rep_id"], self.team_of[rep["rep_id"]]
            ks = [
                k
                for k in self.rows[f]["contracts"]
                if k["owner"] == rid
                and k["status"] == "Signed"
                and not k["_d"]
                and k["_signed"]
                and k["_signed"] >= self.start
            ]
            revenue = sum(k["_amount"] or 0 for k in ks)
            volume = sum(line["quantity"] for k in ks for line in k["_lines"])
            acts = sum(
                1
                for a in self.rows[f]["activities"]
                if a["rep_id"] == rid and a.get("_date") and a["_date"] >= self.start
            )
            out.append(
                {
                    "rep_id": rid,
                    "period": self.period,
                    "revenue_target": max(100000, round(revenue / rng.uniform(0.6, 1.3), -4)),
                    "volume_target": max(10, round(volume / rng.uniform(0.7, 1.3))),
                    "collections_target": None
                    if rid == NO_COLLECTIONS_TARGET_REP
                    else rng.choice([200000, 300000, 400000, 500000]),
                    "new_customers_target": rng.choice([2, 3, 4]),
                    "activities_target": max(20, round(acts / rng.uniform(0.7, 1.3))),
                }
            )
        return out

    def mark_uncounted(self) -> None:
        """Activities that do not count (SPEC §11, default settings) are expected `activity-not-counted`.

        Reps log the same visit twice and a few busy days pass the daily limit; this lists them in
        file then row order, as the consolidation reads them. Rows with an error do not take part.
        """
        errors = {code for code, (severity, *_) in CODES.items() if severity == "error"}
        seen: set[tuple] = set()
        per_day: dict[tuple, int] = {}
        for f in sorted(self.rows):
            for a in self.rows[f]["activities"]:
                if any(code in errors for _, code in a["_d"]) or a.get("_date") is None:
                    continue
                key = (a["rep_id"], a["customer_id"], a["_date"], a["activity_type"])
                if key in seen:
                    self.defect(a, "date", "activity-not-counted")
                    continue
                seen.add(key)
                day = (a["rep_id"], a["_date"])
                if per_day.get(day, 0) >= ACTIVITIES_PER_DAY:
                    self.defect(a, "date", "activity-not-counted")
                    continue
                per_day[day] = per_day.get(day, 0) + 1

    def build(self) -> None:
        self.build_reps()
        self.build_customers()
        self.build_deals()
        self.build_complaints_and_expenses()
        self.inject()
        self.build_personal()
        self.sort()
        self.mark_uncounted()
