"""Demo data: a deterministic workspace of team workbooks, a master workbook and its defect list.

`generate_demo` writes three team workbooks (realistic but clean apart from a few injected
defects, each listed in `defects.json` at its exact cell), a personal workbook with structural
defects, unreadable / encrypted / unsupported files, files that must be skipped, and the master
workbook. Everything comes from one `random.Random(seed)`; no wall clock is read, so two runs
give byte-identical files (the encrypted file excepted: its encryption is salted).
"""

from __future__ import annotations

import calendar
import io
import json
import random
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

from salesbook.core.findings import CODES
from salesbook.core.settings import DEFAULTS, default_rows

CREATED = datetime(2026, 1, 1)  # fixed workbook creation date: byte-identical output
ENCRYPTION_PASSWORD = "demo1234"

TEAM_SHEETS = (
    "customers",
    "activities",
    "opportunities",
    "contracts",
    "contract_lines",
    "orders",
    "collections",
    "complaints",
    "expenses",
)

_SCHEMAS = tomllib.loads((Path(__file__).parent / "core" / "schemas.toml").read_text("utf-8"))


@dataclass
class DemoData:
    """What `generate_demo` wrote: paths, the period, the injected defects and the reps."""

    root: Path
    team_dir: Path
    master_path: Path
    period: str
    as_of: date
    defects: list[dict] = field(default_factory=list)
    scoring_notes: list[dict] = field(default_factory=list)
    reps: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- vocabulary
# CITIES, BRANDS, TRADES and COMPANY_SUFFIXES are public: the benchmark draws its company names from them.
# fmt: off

CITIES = [  # city, region, landline area code
    ("上海", "华东", "021"), ("杭州", "华东", "0571"), ("苏州", "华东", "0512"), ("南京", "华东", "025"),
    ("宁波", "华东", "0574"), ("无锡", "华东", "0510"), ("合肥", "华东", "0551"), ("常州", "华东", "0519"),
    ("深圳", "华南", "0755"), ("广州", "华南", "020"), ("东莞", "华南", "0769"), ("佛山", "华南", "0757"),
    ("厦门", "华南", "0592"), ("珠海", "华南", "0756"), ("中山", "华南", "0760"), ("南宁", "华南", "0771"),
    ("北京", "华北", "010"), ("天津", "华北", "022"), ("石家庄", "华北", "0311"), ("太原", "华北", "0351"),
    ("唐山", "华北", "0315"), ("保定", "华北", "0312"), ("济南", "华北", "0531"), ("青岛", "华北", "0532"),
    ("成都", "西南", "028"), ("重庆", "西南", "023"), ("武汉", "华中", "027"), ("长沙", "华中", "0731"),
    ("郑州", "华中", "0371"), ("西安", "西北", "029"),
]
BRANDS = [
    "华东", "恒信", "博远", "中科", "金泰", "鼎盛", "瑞丰", "宏达", "天成", "联创", "嘉禾", "新锐", "永安",
    "汇通", "启明", "海川", "正泰", "长风", "卓越", "晨光", "远航", "精工", "同创", "明德", "华信", "国瑞",
    "腾飞", "东方", "星河", "安瑞", "鑫源", "广域", "德润", "万邦", "弘毅", "泰和", "润达", "凯盛", "元丰", "中兴",
]
TRADES = [  # name part, industry
    ("精密机械", "机械制造"), ("电子科技", "电子"), ("新材料", "材料"), ("医疗器械", "医疗"),
    ("自动化设备", "机械制造"), ("物流", "物流"), ("食品", "食品饮料"), ("化工", "化工"),
    ("汽车零部件", "汽车"), ("光电", "电子"), ("环保科技", "环保"), ("包装", "包装印刷"),
    ("纺织", "纺织服装"), ("能源科技", "能源"), ("建材", "建材"), ("智能装备", "机械制造"),
    ("生物科技", "医药"), ("供应链管理", "物流"), ("家居", "家居"), ("信息技术", "软件"),
]
COMPANY_SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司"]
_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
]
_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("华", "hua"),
    ("建国", "jianguo"), ("志强", "zhiqiang"), ("晓东", "xiaodong"), ("海燕", "haiyan"), ("文博", "wenbo"),
    ("雨桐", "yutong"), ("浩然", "haoran"), ("思远", "siyuan"), ("佳怡", "jiayi"), ("子轩", "zixuan"),
]
_PRODUCTS = [  # product, spec, unit, price range, quantity range
    ("工业机器人", "ER20-1700", "台", (150000, 260000), (1, 3)),
    ("伺服电机", "1.5kW", "台", (2800, 4200), (4, 40)),
    ("PLC 控制器", "S7-1200", "套", (6000, 9800), (2, 20)),
    ("变频器", "7.5kW", "台", (3200, 5600), (2, 30)),
    ("传感器套件", "M18", "套", (800, 1500), (10, 80)),
    ("工业网关", "GW-200", "个", (2200, 3600), (2, 20)),
    ("MES 软件许可", "标准版", "套", (60000, 120000), (1, 2)),
    ("运维服务", "年度", "年", (20000, 50000), (1, 3)),
    ("视觉检测系统", "VS-3", "套", (85000, 150000), (1, 3)),
    ("减速机", "RV-40E", "台", (9000, 15000), (2, 12)),
]
_SUMMARIES = {
    "Visit": ["上门拜访，了解产线改造计划", "拜访采购部，介绍新品", "陪同技术总监参观现场"],
    "Call": ["电话沟通交付时间", "电话确认需求变更", "电话回访使用情况"],
    "Proposal": ["提交技术方案 V2", "提交报价及配置清单", "提交项目实施计划"],
    "Demo": ["现场演示视觉检测系统", "线上演示 MES 功能", "样机试用演示"],
    "Negotiation": ["商务谈判：付款条件", "价格谈判，客户要求再降 3%", "合同条款谈判"],
    "Email": ["邮件发送产品资料", "邮件确认会议纪要", "邮件发送报价单"],
    "Follow-up": ["售后回访，客户满意", "回访设备运行情况", "节后回访"],
    "Other": ["行业展会交流", "客户来访接待", "参加客户年度供应商大会"],
}
_OUTCOMES = ["客户有兴趣", "需内部评审", "待报价", "已约下次会议", "客户暂无预算", "进展顺利", None]
_NEXT_STEPS = ["发送报价", "安排演示", "跟进评审结果", "约技术交流", "准备合同草稿", None]
_NEEDS = ["产线自动化改造", "设备更新换代", "质量检测升级", "仓储物流优化", "能耗管理", "数字化工厂建设", None]
_PAYMENT_TERMS = ["30%预付，发货后60%，验收后10%", "款到发货", "月结 60 天", "50%预付，验收后50%"]
_COMPLAINT_CATEGORIES = [("质量", "设备运行异响"), ("交付", "到货延迟三天"), ("服务", "售后响应慢"), ("价格", "对增项费用有异议"), ("质量", "传感器读数漂移")]
_EXPENSE_NOTES = {
    "Travel": "出差拜访客户", "Entertainment": "客户商务宴请", "Marketing": "行业展会展位费",
    "Transport": "市内交通", "Telecom": "话费补贴", "Other": "资料打印",
}
_EXPENSE_RANGES = {
    "Travel": (200, 4800), "Entertainment": (300, 1900), "Marketing": (2000, 18000),
    "Transport": (20, 900), "Telecom": (50, 450), "Other": (50, 900),
}
EXPENSE_LIMITS = {"Travel": 5000, "Entertainment": 2000, "Marketing": 20000, "Transport": 1000, "Telecom": 500, "Other": 1000}
# fmt: on

TEAMS = [  # file name, team, region, manager
    ("team_east.xlsx", "华东销售部", "华东", "周建华"),
    ("team_south.xlsx", "华南销售部", "华南", "梁志明"),
    ("team_north.xlsx", "华北销售部", "华北", "韩立群"),
]
PERSONAL_FILE = "personal_S006.xlsx"
LEFT_REP = "S008"
NO_COLLECTIONS_TARGET_REP = "S011"
ACTIVITIES_PER_DAY = int(DEFAULTS["activity.max_per_day"])
# fmt: off
# The demo's commission plans (SPEC §10), as the master's 提成方案 sheet holds them: a progressive
# plan on collections by attainment, and a whole plan on signed revenue by amount.
DEMO_PLANS = [
    {"plan": "回款累进", "base": "Collections", "tier_basis": "Attainment", "tier_from": "0%", "tier_to": "80%", "rate": "1%", "method": "Progressive"},
    {"plan": "回款累进", "base": "Collections", "tier_basis": "Attainment", "tier_from": "80%", "tier_to": "100%", "rate": "2%", "method": "Progressive"},
    {"plan": "回款累进", "base": "Collections", "tier_basis": "Attainment", "tier_from": "100%", "tier_to": "120%", "rate": "3%", "method": "Progressive"},
    {"plan": "回款累进", "base": "Collections", "tier_basis": "Attainment", "tier_from": "120%", "tier_to": None, "rate": "4%", "method": "Progressive"},
    {"plan": "签约全额", "base": "Revenue", "tier_basis": "Amount", "tier_from": 0, "tier_to": 200000, "rate": "0.8%", "method": "Whole"},
    {"plan": "签约全额", "base": "Revenue", "tier_basis": "Amount", "tier_from": 200000, "tier_to": 500000, "rate": "1.2%", "method": "Whole"},
    {"plan": "签约全额", "base": "Revenue", "tier_basis": "Amount", "tier_from": 500000, "tier_to": None, "rate": "1.5%", "method": "Whole"},
]
# fmt: on
DEMO_DEFAULT_PLAN = "回款累进"  # commission.default_plan: reps whose roster cell is blank
_PLAN_OF = {"team_east.xlsx": "回款累进", "team_south.xlsx": "签约全额"}
_NORTH_PLANS = ["签约全额", None, "回款累进", None]  # S009…S012: two on the default plan


# ---------------------------------------------------------------- rules the clean data must satisfy


def compute_grade(
    size: str | None, potential: float | None, willingness: str | None, history: float | None
) -> str:
    """The customer grade of SPEC §5 from size, potential and history (10k CNY) and willingness."""
    points = {"Large": 40, "Medium": 30, "Small": 20, "Micro": 10}.get(size or "", 0)
    p = potential or 0
    points += 30 if p >= 500 else 20 if p >= 100 else 10 if p >= 20 else 0
    points += {"High": 20, "Medium": 10}.get(willingness or "", 0)
    h = history or 0
    points += 10 if h >= 100 else 5 if h > 0 else 0
    return "A" if points >= 80 else "B" if points >= 60 else "C" if points >= 40 else "D"


_SUFFIX_RE = re.compile(r"(股份有限公司|有限责任公司|有限公司|公司|co\.,ltd\.?|co\.ltd\.?|ltd\.?)$")


def normalise_company(name: str) -> str:
    """A company name as compared for `customer-conflict`: NFKC, no whitespace, casefolded, no suffix."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()
    return _SUFFIX_RE.sub("", text)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period such as '2026-11' or '2026-Q4'."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", period.strip())
    if m:
        y, mo = int(m[1]), int(m[2])
        first_month = last_month = mo
    else:
        m = re.fullmatch(r"(\d{4})-[Qq]([1-4])", period.strip())
        if not m:
            raise ValueError(f"Period {period!r} is not like 2026-11 or 2026-Q4.")
        y, q = int(m[1]), int(m[2])
        first_month, last_month = 3 * q - 2, 3 * q
    if not 1 <= last_month <= 12:
        raise ValueError(f"Period {period!r} has no such month.")
    return date(y, first_month, 1), date(y, last_month, calendar.monthrange(y, last_month)[1])


# ---------------------------------------------------------------- the in-memory demo


def _row(**values: object) -> dict:
    values.setdefault("_d", [])
    return dict(values)


class TeamBuilder:
    """Builds every row of the demo in memory; rows are dicts of schema keys plus `_d` defects.

    Public so that other generators (the benchmark's many team files) subclass it and change how
    ids, companies and reps are made, then write the rows with `write_team`.
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

    # -- opportunities, contracts and what hangs on them
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

    # -- injected defects: each one row, one defect, at one cell
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
        thread = "".join(f"转发：第 {i} 封邮件。王经理您好，关于扩容项目的报价和交付安排，详见附件，请审阅后回复。"
                         for i in range(1, 120))
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


# ---------------------------------------------------------------- writing workbooks


def _columns(sheet: str) -> list[dict]:
    return _SCHEMAS["sheets"][sheet]["columns"]


def _enum_zh(enum: str, value: object, lang: str) -> object:
    if lang != "zh" or not isinstance(value, str):
        return value
    for en, zh in _SCHEMAS["enums"][enum]["values"]:
        if en == value:
            return zh
    return value


@dataclass
class SheetLayout:
    """How one sheet is written: its name, headers as written, a title row, extras, a totals row."""

    sheet: str
    lang: str = "zh"
    title: str | None = None
    header_text: dict[str, str] = field(default_factory=dict)  # column key -> header as written
    extra: tuple[str, str, object] | None = None  # (after column key, header, row -> value)
    drop: tuple[str, ...] = ()
    doubled: tuple[str, str] | None = None  # (column key, second header) -> an ambiguous header
    totals: str | None = None  # column key summed on a trailing 合计 row

    @property
    def name(self) -> str:
        return _SCHEMAS["sheets"][self.sheet]["en" if self.lang == "en" else "zh"]


class _WorkbookWriter:
    """Writes rows into one workbook with XlsxWriter and resolves each row's defects to a cell."""

    def __init__(self, target: Path | io.BytesIO, file_name: str, defects: list[dict]) -> None:
        self.wb = xlsxwriter.Workbook(
            str(target) if isinstance(target, Path) else target, {"in_memory": True}
        )
        self.wb.set_properties({"created": CREATED, "author": "salesbook demo"})
        self.file = file_name
        self.defects = defects
        self.f_head = self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.f_title = self.wb.add_format({"bold": True, "font_size": 14, "align": "center"})
        self.f_date = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        self.f_money = self.wb.add_format({"num_format": "#,##0.00"})
        self.f_pct = self.wb.add_format({"num_format": "0%"})
        self.f_total = self.wb.add_format({"bold": True, "top": 1})

    def note(self, sheet: str, row: int, column: str, code: str) -> None:
        self.defects.append({"file": self.file, "sheet": sheet, "row": row, "column": column, "code": code})

    def sheet(self, layout: SheetLayout, rows: list[dict]) -> None:
        ws = self.wb.add_worksheet(layout.name)
        cols = [c for c in _columns(layout.sheet) if c["key"] not in layout.drop]
        spec: list[tuple[str | None, str, dict | None]] = []  # (key, header, schema column)
        for c in cols:
            spec.append(
                (c["key"], layout.header_text.get(c["key"], c["en"] if layout.lang == "en" else c["zh"]), c)
            )
            if layout.extra and layout.extra[0] == c["key"]:
                spec.append((None, layout.extra[1], None))
            if layout.doubled and layout.doubled[0] == c["key"]:
                spec.append((c["key"], layout.doubled[1], c))
        head = 0
        if layout.title:
            ws.merge_range(0, 0, 0, len(spec) - 1, layout.title, self.f_title)
            head = 1
        for j, (key, text, _) in enumerate(spec):
            ws.write_string(head, j, text, self.f_head)
            ws.set_column(j, j, max(10, min(28, 2 * len(text) + 2)))
            if key is None:
                self.note(layout.name, head + 1, text, "unknown-column")
        if layout.doubled:
            self.note(layout.name, head + 1, layout.doubled[1], "ambiguous-column")
        for i, row in enumerate(rows):
            r = head + 1 + i
            for j, (key, _, col) in enumerate(spec):
                value = layout.extra[2](row) if key is None and layout.extra else row.get(key)
                if col is not None and col["type"] == "enum":
                    value = _enum_zh(col["enum"], value, layout.lang)
                self.cell(ws, r, j, value, col["type"] if col else "text")
            for key, code in row["_d"]:
                header = next(text for k, text, _ in spec if k == key)
                self.note(layout.name, r + 1, header.strip(), code)  # findings name the header trimmed
        if layout.totals:
            r = head + 1 + len(rows)
            ws.write_string(r, 0, "合计", self.f_total)
            j = next(j for j, (k, _, _) in enumerate(spec) if k == layout.totals)
            total = sum(v[layout.totals] for v in rows if isinstance(v[layout.totals], int | float))
            ws.write_number(r, j, round(total, 2), self.f_total)
            self.note(layout.name, r + 1, "", "totals-row-skipped")
        ws.freeze_panes(head + 1, 0)

    def cell(self, ws, r: int, j: int, value: object, kind: str) -> None:
        if value is None:
            return
        if isinstance(value, date):
            ws.write_datetime(r, j, datetime(value.year, value.month, value.day), self.f_date)
        elif isinstance(value, int | float):
            fmt = self.f_money if kind == "money" else self.f_pct if kind == "pct" else None
            ws.write_number(r, j, value, fmt)
        else:
            ws.write_string(r, j, str(value))

    def close(self) -> None:
        self.wb.close()


def team_layouts(file: str, period_start: date) -> dict[str, SheetLayout]:
    """The demo's workbook styles by team file: a title row (east), English headers (north), a totals
    row and an extra column (south), the template's layout otherwise."""
    layouts = {s: SheetLayout(s) for s in TEAM_SHEETS}
    if file == "team_east.xlsx":
        layouts["activities"].title = f"{period_start.year}年{period_start.month}月 销售活动记录表"
        layouts["customers"].header_text = {
            "customer_name": " 客户 名称 ",
            "annual_potential": "年采购潜力（万元）",
            "historical_revenue": "历史成交额（万元）",
        }
    elif file == "team_north.xlsx":
        for s in ("activities", "opportunities", "contracts", "contract_lines"):
            layouts[s].lang = "en"
    elif file == "team_south.xlsx":
        layouts["expenses"].totals = "amount"
        layouts["customers"].extra = ("phone", "微信号", _wechat)
    return layouts


def _wechat(row: dict) -> str | None:
    """A WeChat id for every third customer, derived from its id (no randomness needed)."""
    n = int(re.sub(r"\D", "", str(row.get("customer_id"))) or 0)
    return f"wxid_{n * 7919 % 1000003:07d}" if n % 3 == 0 else None


def write_team(
    path: Path,
    file: str,
    sheets: dict[str, list[dict]],
    layouts: dict[str, SheetLayout],
    defects: list[dict],
) -> None:
    """One team workbook of `sheets` (sheet key -> row dicts) in the given layouts, with `defects` applied."""
    w = _WorkbookWriter(path, file, defects)
    for s in TEAM_SHEETS:
        if s in sheets:
            w.sheet(layouts[s], sheets[s])
    w.close()


def write_master_xlsx(
    path: Path,
    settings_rows: list[tuple[str, str, str]],
    roster: list[dict],
    targets: list[dict],
    plans: list[dict] | None = None,
) -> None:
    """Write the master data (设置, 花名册, 提成方案, 目标) as an .xlsx; dict values use the schema keys."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": CREATED, "author": "salesbook demo"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0"})
    ws = wb.add_worksheet(_SCHEMAS["sheets"]["settings"]["zh"])
    for j, text in enumerate(c["zh"] for c in _columns("settings")):
        ws.write_string(0, j, text, head)
    for i, row in enumerate(settings_rows, start=1):
        for j, v in enumerate(row):
            ws.write_string(i, j, str(v))
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 70)
    sheets = [("roster", roster), ("commission_plans", plans), ("targets", targets)]
    for sheet, rows in ((k, r) for k, r in sheets if r is not None):
        ws = wb.add_worksheet(_SCHEMAS["sheets"][sheet]["zh"])
        cols = _columns(sheet)
        for j, c in enumerate(cols):
            ws.write_string(0, j, c["zh"], head)
            ws.set_column(j, j, 14)
        for i, row in enumerate(rows, start=1):
            for j, c in enumerate(cols):
                v = row.get(c["key"])
                if v is None or v == "":
                    continue
                if c["type"] == "enum":
                    ws.write_string(i, j, str(_enum_zh(c["enum"], v, "zh")))
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v, money if c["type"] == "money" else None)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()


def demo_master_data(
    seed: int = 2026, period: str = "2026-11"
) -> tuple[list[tuple[str, str, str]], list[dict], list[dict]]:
    """(settings rows, roster rows, target rows) of the demo; roster status is 'Active' / 'Left'."""
    b = TeamBuilder(seed, period)
    b.build()
    return demo_settings_rows(), [dict(r) for r in b.reps], b.targets()


def demo_settings_rows(**overrides: str) -> list[tuple[str, str, str]]:
    """The Settings rows of the demo: the defaults, with the demo's default commission plan."""
    values = {"commission.default_plan": DEMO_DEFAULT_PLAN, **overrides}
    return [(k, values.get(k, v), n) for k, v, n in default_rows()]


# ---------------------------------------------------------------- the files that are not team data


def _encrypt(plain: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


def _small_workbook(b: TeamBuilder, file: str, defects: list[dict]) -> bytes:
    """A small clean workbook (a copy of a few customers) used for the encrypted file."""
    buf = io.BytesIO()
    w = _WorkbookWriter(buf, file, defects)
    rows = [
        _row(**{k: v for k, v in c.items() if not k.startswith("_")}) for c in list(b.customers.values())[:3]
    ]
    w.sheet(SheetLayout("customers"), rows)
    w.close()
    return buf.getvalue()


# ---------------------------------------------------------------- entry point


def generate_demo(root: Path, *, seed: int = 2026, period: str = "2026-11") -> DemoData:
    """Write the demo workspace under `root` (team/, master.xlsx, defects.json) and describe it."""
    root = Path(root)
    team_dir = root / "team"
    team_dir.mkdir(parents=True, exist_ok=True)
    b = TeamBuilder(seed, period)
    b.build()
    targets = b.targets()
    defects: list[dict] = []

    for file, *_ in TEAMS:
        write_team(team_dir / file, file, b.rows[file], team_layouts(file, b.start), defects)

    personal_layouts = {
        "customers": SheetLayout("customers", doubled=("customer_id", "Customer ID")),
        "activities": SheetLayout("activities", drop=("summary",)),
        "expenses": SheetLayout("expenses"),
    }
    w = _WorkbookWriter(team_dir / PERSONAL_FILE, PERSONAL_FILE, defects)
    for s in TEAM_SHEETS:
        if s in b.personal:
            w.sheet(personal_layouts[s], b.personal[s])
    # A second expenses sheet (English name): which one is real cannot be known, so neither is used.
    w.sheet(SheetLayout("expenses", lang="en"), b.personal["expenses"][:2])
    w.close()
    for name in ("费用", "Expenses"):
        defects.append({"file": PERSONAL_FILE, "sheet": name, "row": 0, "column": "", "code": "ambiguous-sheet"})
    for s in TEAM_SHEETS:
        if s not in b.personal:
            defects.append(
                {
                    "file": PERSONAL_FILE,
                    "sheet": _SCHEMAS["sheets"][s]["zh"],
                    "row": 0,
                    "column": "",
                    "code": "missing-sheet",
                }
            )
    defects.append(
        {"file": PERSONAL_FILE, "sheet": "活动", "row": 0, "column": "内容摘要", "code": "missing-column"}
    )

    rng = b.rng
    (team_dir / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2048)))
    defects.append({"file": "corrupt.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-unreadable"})
    (team_dir / "encrypted.xlsx").write_bytes(
        _encrypt(_small_workbook(b, "encrypted.xlsx", []), ENCRYPTION_PASSWORD)
    )
    defects.append({"file": "encrypted.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-encrypted"})
    (team_dir / "notes.xlsx").write_text("会议纪要：11 月销售例会\n1. 月底前完成回款跟进\n", encoding="utf-8")
    defects.append({"file": "notes.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-unsupported"})
    # a price list someone dropped into the team folder: a real workbook, but no sheet salesbook knows
    prices = xlsxwriter.Workbook(str(team_dir / "价目表.xlsx"))
    prices.set_properties({"created": CREATED})
    ws = prices.add_worksheet("价目表")
    for i, row in enumerate([["产品", "单价（元）"], ["服务器", 52000], ["存储阵列", 86000], ["实施服务（人天）", 2400]]):
        ws.write_row(i, 0, row)
    prices.close()
    defects.append({"file": "价目表.xlsx", "sheet": "", "row": 0, "column": "", "code": "no-team-sheet"})
    # skipped: Excel's lock file (noted: someone has team_east.xlsx open) and a hidden copy (which
    # would raise duplicates if read)
    (team_dir / "~$team_east.xlsx").write_bytes(b"\x05demo " + b"\x20" * 48 + b"\x00" * 110)
    defects.append({"file": "team_east.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-open-elsewhere"})
    (team_dir / ".team_east_backup.xlsx").write_bytes((team_dir / "team_east.xlsx").read_bytes())

    settings_rows = demo_settings_rows()
    master = root / "master.xlsx"
    write_master_xlsx(master, settings_rows, b.reps, targets, DEMO_PLANS)

    defects.sort(key=lambda d: (d["file"], d["sheet"], d["row"], d["column"], d["code"]))
    (root / "defects.json").write_text(
        json.dumps(defects, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    notes = [
        {
            "rep_id": NO_COLLECTIONS_TARGET_REP,
            "period": period,
            "kpi": "collections",
            "code": code,
        }
        for code in ("missing-target", "commission-no-target")
    ]
    return DemoData(
        root=root,
        team_dir=team_dir,
        master_path=master,
        period=period,
        as_of=b.as_of,
        defects=defects,
        scoring_notes=notes,
        reps=[dict(r) for r in b.reps],
    )
