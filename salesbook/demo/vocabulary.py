"""The demo's vocabulary: names, companies, products, wording, teams, plans and fixed constants."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

from salesbook.core.settings import DEFAULTS

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

_SCHEMAS = tomllib.loads((Path(__file__).parent.parent / "core" / "schemas.toml").read_text("utf-8"))

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
