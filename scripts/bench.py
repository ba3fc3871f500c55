#!/usr/bin/env python3
"""salesbook benchmark: consolidate, validate and contracts, each against the usual tools.

    python scripts/bench.py                 # 200 team workbooks, 100k-row sheet, 500 contracts, 3 runs
    python scripts/bench.py --quick         # 10 workbooks, 10k rows, 50 contracts, 1 run (< 1 min)
    python scripts/bench.py --profile       # also a pyinstrument profile of consolidate (bench/profile-*)

The data set is generated once per parameters under bench/data/ (see scripts/bench_data.py).
Every figure runs in a fresh subprocess (`--child KIND`): the child imports what it needs, then
times only the work and prints the seconds. The parent collects the child tree's peak RSS with
wait4() (the largest single process of the tree: the child or one of its reader workers).
Runs of the figures are interleaved (a, b, c, a, b, c, …) so drift hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

GIB = 2**30

# ---------------------------------------------------------------------------- children (timed work)


def _child(kind: str, a: dict) -> dict:
    """Run one figure once in this (fresh) process; returns {"seconds": …, …}."""
    extra: dict = {}
    if kind == "consolidate":
        from salesbook.exports import write_consolidation
        from salesbook.pipeline import consolidate

        t = time.perf_counter()
        c = consolidate(Path(a["team_dir"]), master=Path(a["master"]), period=a["period"], outputs=True)  # as the CLI
        write_consolidation(c, Path(a["out"]), full=False)
        seconds = time.perf_counter() - t
        extra = {
            "rows": sum(f.rows for f in c.run.files),
            "findings": len(c.run.findings),
            "errors": c.run.error_count,
            "scorecards": len(c.scorecards),
        }
    elif kind == "floor":
        from python_calamine import CalamineWorkbook

        files = sorted(Path(a["team_dir"]).glob("*.xlsx"))
        t = time.perf_counter()
        rows = 0
        for f in files:
            wb = CalamineWorkbook.from_path(str(f))
            for name in wb.sheet_names:
                data = wb.get_sheet_by_name(name).to_python()
                rows += len(data)
            wb.close()
        seconds = time.perf_counter() - t
        extra = {"rows": rows}
    elif kind == "common":
        import pandas as pd

        files = sorted(Path(a["team_dir"]).glob("*.xlsx"))
        t = time.perf_counter()
        rows = 0
        for f in files:
            frames = pd.read_excel(f, sheet_name=None, engine="openpyxl")
            rows += sum(len(x) for x in frames.values())
        seconds = time.perf_counter() - t
        extra = {"rows": rows}
    elif kind == "validate":
        from salesbook.pipeline import validate

        t = time.perf_counter()
        run = validate([Path(a["file"])], master=Path(a["master"]), period=a["period"])
        seconds = time.perf_counter() - t
        extra = {
            "rows": sum(f.rows for f in run.files),
            "findings": len(run.findings),
            "errors": run.error_count,
        }
    elif kind == "read_calamine":
        import pandas as pd

        t = time.perf_counter()
        frames = pd.read_excel(a["file"], sheet_name=None, engine="calamine")
        seconds = time.perf_counter() - t
        extra = {"rows": sum(len(x) for x in frames.values())}
    elif kind in ("contracts", "docxtpl"):
        from bench_data import contract_contexts

        contexts = contract_contexts(int(a["n"]))
        out = Path(a["out"])
        out.mkdir(parents=True, exist_ok=True)
        if kind == "contracts":
            from salesbook.documents.contracts import render_contracts

            t = time.perf_counter()
            docs = render_contracts(contexts, out, template=Path(a["template"]))
            seconds = time.perf_counter() - t
            extra = {"documents": len(docs)}
        else:
            from docxtpl import DocxTemplate

            from salesbook.documents.env import checked_env

            env = checked_env(None)  # the same filters (money, rmb_upper, cn_date) the template uses
            t = time.perf_counter()
            for i, ctx in enumerate(contexts):
                tpl = DocxTemplate(a["template"])
                tpl.render(ctx, jinja_env=env)
                tpl.save(str(out / f"{i:05d}.docx"))
            seconds = time.perf_counter() - t
            extra = {"documents": len(contexts)}
    else:
        raise SystemExit(f"unknown child kind {kind}")
    return {"seconds": seconds, **extra}


def _run_child(kind: str, a: dict, log) -> dict:
    """One run of a figure in a subprocess: its seconds, and the peak RSS of the process tree."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--child-args", json.dumps(a)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed (exit {proc.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    # Linux: ru_maxrss in KiB, of the child or its largest reaped descendant (macOS: bytes)
    scale = 1 if sys.platform == "darwin" else 1024
    result["peak_rss_bytes"] = usage.ru_maxrss * scale
    result["wall_seconds"] = wall
    log(f"  {kind:<14} {result['seconds']:8.2f} s   peak RSS {result['peak_rss_bytes'] / 2**20:7.0f} MiB")
    return result


def _run_cli(args: list[str], log, label: str = "consolidate_cli") -> dict:
    """`salesbook …` as a user runs it: wall time including start-up, and the tree's peak RSS."""
    exe = Path(sys.executable).with_name("salesbook")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "salesbook.cli"]
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd + args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"salesbook {' '.join(args)} failed (exit {proc.returncode}):\n{text[-3000:]}")
    scale = 1 if sys.platform == "darwin" else 1024
    r = {"seconds": wall, "peak_rss_bytes": usage.ru_maxrss * scale, "wall_seconds": wall}
    log(f"  {label:<14} {wall:8.2f} s   peak RSS {r['peak_rss_bytes'] / 2**20:7.0f} MiB")
    return r


# ---------------------------------------------------------------------------- the benchmark


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "ram_bytes": ram,
        "ram_gib": round(ram / GIB, 1) if ram else None,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("salesbook", "pandas", "python-calamine", "openpyxl", "docxtpl", "XlsxWriter", "pyarrow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    try:
        out["salesbook_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out["salesbook_commit"] = None
    return out


def _contracts_available() -> tuple[bool, str, str]:
    template = ROOT / "templates" / "contract_zh.docx"
    try:
        from salesbook.documents.contracts import render_contracts  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - anything that keeps it from importing: skip the figure
        return (
            False,
            f"salesbook.documents.contracts.render_contracts not available ({type(exc).__name__}: {exc})",
            "",
        )
    if not template.exists():
        return False, f"template {template.relative_to(ROOT)} not available", ""
    return True, "", str(template)


def _stats(runs: list[dict]) -> dict:
    secs = [r["seconds"] for r in runs]
    return {
        "median": statistics.median(secs),
        "min": min(secs),
        "max": max(secs),
        "runs": secs,
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "peak_rss_mib": round(max(r["peak_rss_bytes"] for r in runs) / 2**20, 1),
        "detail": {
            k: v for k, v in runs[-1].items() if k not in ("seconds", "peak_rss_bytes", "wall_seconds")
        },
    }


FIGURES = {  # name -> description
    "consolidate": "consolidate {files} files: pipeline.consolidate + write_consolidation (in process)",
    "floor": "floor: python-calamine to_python of every sheet, 1 process",
    "common": "common path: pandas.read_excel(engine='openpyxl'), every sheet, 1 process",
    "consolidate_cli": "`salesbook consolidate` CLI, wall incl. start-up",
    "book": "`salesbook run consolidate --book SalesBook.xlsm`, wall incl. start-up",
    "consolidate_busy": "busy month, consolidate {files} files (in process)",
    "floor_busy": "busy month, floor: python-calamine to_python, 1 process",
    "common_busy": "busy month, common path: pandas.read_excel(engine='openpyxl'), 1 process",
    "consolidate_cli_busy": "busy month, `salesbook consolidate` CLI, wall incl. start-up",
    "book_busy": "busy month, `salesbook run consolidate --book`, wall incl. start-up",
    "validate": "validate one {rows}-row activities sheet",
    "read_calamine": "pandas.read_excel(engine='calamine') of that file",
    "contracts": "contracts: render_contracts, {contracts} contracts",
    "docxtpl": "plain docxtpl loop, {contracts} contracts, 1 process",
}

RATIOS = [  # name, numerator, denominator, target op, target, what
    ("consolidate_vs_floor", "consolidate", "floor", "<=", 1.5, "consolidate / floor"),
    ("common_vs_consolidate", "common", "consolidate", ">=", 8.0, "common path / consolidate"),
    ("consolidate_vs_floor_busy", "consolidate_busy", "floor_busy", "<=", 1.5, "consolidate / floor"),
    ("common_vs_consolidate_busy", "common_busy", "consolidate_busy", ">=", 8.0, "common path / consolidate"),
    ("book_vs_cli", "book", "consolidate_cli", "<=", 1.3, "run --book / consolidate CLI"),
    ("book_vs_cli_busy", "book_busy", "consolidate_cli_busy", "<=", 1.3, "run --book / consolidate CLI"),
    ("validate_vs_read_calamine", "validate", "read_calamine", "<=", 1.2, "validate / pandas calamine"),
    ("docxtpl_vs_contracts", "docxtpl", "contracts", ">=", 2.0, "docxtpl loop / contracts"),
]
PEAKS = [  # name, figure, target in MiB
    ("consolidate_peak_rss", "consolidate", 512),
    ("consolidate_peak_rss_busy", "consolidate_busy", 512),
    ("cli_peak_rss", "consolidate_cli", 512),
    ("cli_peak_rss_busy", "consolidate_cli_busy", 512),
    ("book_peak_rss", "book", 512),  # the 200-file sets from the workbook's button too
    ("book_peak_rss_busy", "book_busy", 512),
]


def make_workspace(ts: dict, folder: Path) -> Path:
    """A SalesBook.xlsm over the team set (roster, targets, period, team and output folders), built
    in a fresh subprocess so the timed runs start cold; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys, json; from pathlib import Path\n"
        "a = json.loads(sys.argv[1])\n"
        "from salesbook.pipeline import read_master\n"
        "from salesbook.core.settings import default_rows\n"
        "from salesbook.xlsm.builder import build_workbook, load_layout\n"
        "m = read_master(Path(a['master']))\n"
        "over = {'period': a['period'], 'team_folder': a['team_dir'], 'output_folder': a['out']}\n"
        "settings = [(k, over.get(k, v), n) for k, v, n in default_rows()]\n"
        "zh = {'Active': '在职', 'Left': '离职'}\n"
        "layout = load_layout()\n"
        "def rows(frame, sheet, keys):\n"
        "    heads = layout.sheet(sheet).headers\n"
        "    recs = frame.to_dict('records')\n"
        "    out = []\n"
        "    for r in recs:\n"
        "        vals = [zh.get(r.get(k), r.get(k)) if k == 'status' else r.get(k) for k in keys]\n"
        "        out.append([None if v != v else v for v in vals][: len(heads)])\n"
        "    return out\n"
        "roster = rows(m.roster, 'Roster', ['rep_id', 'name', 'employee_id', 'team', 'region', 'manager', 'status'])\n"
        "targets = rows(m.targets, 'Targets', ['rep_id', 'period', 'revenue_target', 'volume_target',"
        " 'collections_target', 'new_customers_target', 'activities_target'])\n"
        "build_workbook(Path(a['book']), settings_rows=settings, roster_rows=roster, targets_rows=targets)\n"
    )
    book = folder / "SalesBook.xlsm"
    a = {
        "master": ts["master"],
        "period": ts["period"],
        "team_dir": ts["team_dir"],
        "out": str(folder / "out"),
        "book": str(book),
    }
    subprocess.run([sys.executable, "-c", code, json.dumps(a)], check=True, cwd=ROOT)
    return book


def bench(args: argparse.Namespace) -> dict:
    from bench_data import big_sheet, team_set

    def log(msg: str) -> None:
        print(msg, flush=True)

    data_root = ROOT / "bench" / "data"
    # a private work folder: several benchmarks (e.g. the smoke test under pytest) may run at once
    (ROOT / "bench").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-run-", dir=ROOT / "bench"))
    t0 = time.perf_counter()
    ts = team_set(data_root, args.files, seed=args.seed, log=log)
    busy = team_set(data_root, args.files, seed=args.seed, log=log, shape="busy")
    bs = big_sheet(data_root, args.rows, seed=args.seed, log=log)
    gen_seconds = time.perf_counter() - t0
    for label, d in (("clean", ts), ("busy", busy)):
        log(
            f"data ({label}): {d['files']} team workbooks, {d['total_rows']:,} rows, {d['bytes'] / 2**20:.1f} MiB"
        )
    log(f"data: {bs['rows']['activities']:,}-row activities sheet ({gen_seconds:.1f} s to generate or load)")
    ok, why, template = _contracts_available()
    if not ok:
        log(f"contracts: not available — {why}")

    def team(d: dict) -> dict:
        return {"team_dir": d["team_dir"], "master": d["master"], "period": d["period"]}

    plan: list[tuple[str, str, dict]] = [  # figure, child kind, arguments
        ("consolidate", "consolidate", team(ts)),
        ("floor", "floor", {"team_dir": ts["team_dir"]}),
        ("common", "common", {"team_dir": ts["team_dir"]}),
        ("consolidate_busy", "consolidate", team(busy)),
        ("floor_busy", "floor", {"team_dir": busy["team_dir"]}),
        ("common_busy", "common", {"team_dir": busy["team_dir"]}),
        ("validate", "validate", {"file": bs["file"], "master": bs["master"], "period": bs["period"]}),
        ("read_calamine", "read_calamine", {"file": bs["file"]}),
    ]
    if ok:
        plan += [
            ("contracts", "contracts", {"n": args.contracts, "template": template}),
            ("docxtpl", "docxtpl", {"n": args.contracts, "template": template}),
        ]
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in plan}
    books: dict[str, Path] = {}
    if not args.no_cli:
        for name in ("consolidate_cli", "book", "consolidate_cli_busy", "book_busy"):
            runs[name] = []
        books = {
            "book": make_workspace(ts, work / "ws-clean"),
            "book_busy": make_workspace(busy, work / "ws-busy"),
        }
    for r in range(args.runs):
        log(f"run {r + 1}/{args.runs}")
        for name, kind, a in plan:
            a = dict(a)
            if kind in ("consolidate", "contracts", "docxtpl"):
                a["out"] = str(work / f"{name}-{r}")
            runs[name].append(_run_child(kind, a, log))
            if "out" in a:
                shutil.rmtree(a["out"], ignore_errors=True)
        if not args.no_cli:
            for suffix, d in (("", ts), ("_busy", busy)):
                out = work / f"cli{suffix}-{r}"
                cli = [
                    "consolidate",
                    d["team_dir"],
                    "--master",
                    d["master"],
                    "--period",
                    d["period"],
                    "--out",
                    str(out),
                    "--ledger",  # a ledger of this benchmark's own, not one beside the cached data
                    f"sqlite:///{(work / f'ledger{suffix}.db').as_posix()}",
                ]
                runs["consolidate_cli" + suffix].append(_run_cli(cli, log, "consolidate_cli" + suffix))
                shutil.rmtree(out, ignore_errors=True)
                book = books["book" + suffix]
                runs["book" + suffix].append(
                    _run_cli(["run", "consolidate", "--book", str(book)], log, "book" + suffix)
                )
                shutil.rmtree(book.parent / "out", ignore_errors=True)

    shutil.rmtree(work, ignore_errors=True)
    fmt = {"files": ts["files"], "rows": bs["rows"]["activities"], "contracts": args.contracts}
    figures: dict[str, dict] = {}
    for name, desc in FIGURES.items():
        if name in runs:
            figures[name] = {"available": True, "description": desc.format(**fmt), **_stats(runs[name])}
        else:
            figures[name] = {
                "available": False,
                "description": desc.format(**fmt),
                "reason": why if name in ("contracts", "docxtpl") else "not run (--no-cli)",
            }
    ratios: dict[str, dict] = {}
    for name, num, den, op, target, what in RATIOS:
        if figures[num]["available"] and figures[den]["available"]:
            value = figures[num]["median"] / figures[den]["median"]
            met = value <= target if op == "<=" else value >= target
            ratios[name] = {
                "what": what,
                "value": round(value, 3),
                "target": f"{op} {target:g}",
                "met": met,
                "available": True,
            }
        else:
            ratios[name] = {
                "what": what,
                "value": None,
                "target": f"{op} {target:g}",
                "met": None,
                "available": False,
                "reason": figures[num].get("reason") or figures[den].get("reason"),
            }
    for name, fig, target in PEAKS:
        if not figures[fig]["available"]:
            ratios[name] = {
                "what": f"{fig} peak RSS, MiB",
                "value": None,
                "target": f"<= {target} MiB",
                "met": None,
                "available": False,
                "reason": figures[fig].get("reason"),
            }
            continue
        peak = figures[fig]["peak_rss_mib"]
        ratios[name] = {
            "what": f"{fig} peak RSS (largest process), MiB",
            "value": peak,
            "target": f"<= {target} MiB",
            "met": peak <= target,
            "available": True,
        }
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "parameters": {
            "files": args.files,
            "rows": args.rows,
            "contracts": args.contracts,
            "runs": args.runs,
            "seed": args.seed,
        },
        "machine": _machine(),
        "versions": _versions(),
        "data": {
            "team_set": ts,
            "busy_set": busy,
            "big_sheet": bs,
            "generate_or_load_seconds": round(gen_seconds, 2),
        },
        "figures": figures,
        "ratios": ratios,
    }


# ---------------------------------------------------------------------------- profile


def profile(args: argparse.Namespace) -> int:
    """pyinstrument profiles: consolidate in the parent, and one process doing the workers' reading."""
    import pickle
    from datetime import date

    from bench_data import team_set
    from pyinstrument import Profiler

    from salesbook.exports import write_consolidation
    from salesbook.io.precheck import Limits
    from salesbook.io.team_reader import read_team_file
    from salesbook.pipeline import consolidate, limits_from, read_master

    out_dir = ROOT / "bench"
    out_dir.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-profile-", dir=out_dir))
    for shape in ("clean", "busy"):
        ts = team_set(ROOT / "bench" / "data", args.files, seed=args.seed, shape=shape)
        prof = Profiler(interval=0.001)
        prof.start()
        c = consolidate(Path(ts["team_dir"]), master=Path(ts["master"]), period=ts["period"])
        write_consolidation(c, work / shape, full=False)
        prof.stop()
        text = prof.output_text(unicode=True, show_all=False)
        (out_dir / f"profile-consolidate-{shape}.txt").write_text(text, "utf-8")
        (out_dir / f"profile-consolidate-{shape}.html").write_text(prof.output_html(), "utf-8")
        print(f"--- consolidate, {shape} set")
        print(text)
        del c

    # what each worker does, in one process: read + check every file, then pickle the result back
    m = read_master(Path(ts["master"]))
    limits = limits_from(m.settings) if m else Limits()
    files = sorted(Path(ts["team_dir"]).glob("*.xlsx"))
    prof = Profiler(interval=0.001)
    prof.start()
    pickled = 0
    for f in files:
        res = read_team_file(str(f), f.name, m.settings["min_date"], date(2027, 12, 31), limits)
        pickled += len(pickle.dumps(("ok", res), protocol=pickle.HIGHEST_PROTOCOL))
    prof.stop()
    (out_dir / "profile-read.txt").write_text(prof.output_text(unicode=True, show_all=False), "utf-8")
    print(prof.output_text(unicode=True, show_all=False))
    shutil.rmtree(work, ignore_errors=True)
    print(f"results pickled back by the workers: {pickled / 2**20:.1f} MiB for {len(files)} files")
    print(f"wrote {out_dir}/profile-consolidate-{{clean,busy}}.txt (and .html), profile-read.txt")
    return 0


# ---------------------------------------------------------------------------- output


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f} s"


def table(res: dict) -> str:
    """A Markdown table: figure, median, range, baseline median, ratio, target, met?"""
    f, r = res["figures"], res["ratios"]

    def mib(name: str) -> str:
        return f"{f[name]['peak_rss_mib']:.0f} MiB" if f[name]["available"] else "–"

    def rng(name: str) -> str:
        x = f[name]
        return f"{x['min']:.2f}–{x['max']:.2f} s" if x["available"] else "–"

    def med(name: str) -> str:
        return _s(f[name]["median"]) if f[name]["available"] else "not available"

    def met(key: str) -> str:
        m = r[key]["met"]
        return "n/a" if m is None else ("yes" if m else "**no**")

    def ratio(key: str) -> str:
        v = r[key]["value"]
        return "not available" if v is None else f"{v:.2f}"

    head = (
        "| figure | median | range | peak RSS | baseline | baseline median | baseline peak RSS "
        "| ratio | target | met? |"
    )
    lines = [head, "|" + "---|" * 10]
    rows = [
        ("consolidate", "floor", "consolidate_vs_floor"),
        ("consolidate", "common", "common_vs_consolidate"),
        ("consolidate_busy", "floor_busy", "consolidate_vs_floor_busy"),
        ("consolidate_busy", "common_busy", "common_vs_consolidate_busy"),
        ("book", "consolidate_cli", "book_vs_cli"),
        ("book_busy", "consolidate_cli_busy", "book_vs_cli_busy"),
        ("validate", "read_calamine", "validate_vs_read_calamine"),
        ("contracts", "docxtpl", "docxtpl_vs_contracts"),
    ]
    for a, b, key in rows:
        lines.append(
            f"| {f[a]['description']} | {med(a)} | {rng(a)} | {mib(a)} | {f[b]['description']} | "
            f"{med(b)} | {mib(b)} | {r[key]['what']} = {ratio(key)} | {r[key]['target']} | {met(key)} |"
        )
    for key, fig, _target in PEAKS:
        pr = r[key]
        value = "–" if pr["value"] is None else f"{pr['value']:.0f} MiB"
        lines.append(
            f"| {f[fig]['description']}: peak RSS (largest process) | {value} | | | | | | | "
            f"{pr['target']} | {met(key)} |"
        )
    return "\n".join(lines)


def machine_line(res: dict) -> str:
    m, v = res["machine"], res["versions"]
    d, busy = res["data"]["team_set"], res["data"]["busy_set"]
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; Python {m['python']}, {m['os']}. "
        f"salesbook {v['salesbook']} ({v['salesbook_commit']}), pandas {v['pandas']}, python-calamine "
        f"{v['python-calamine']}, openpyxl {v['openpyxl']}, docxtpl {v['docxtpl']}. "
        f"Data: {d['files']} team workbooks, {d['total_rows']:,} rows ({d['bytes'] / 2**20:.1f} MiB), and a busy "
        f"month of {busy['files']} workbooks, {busy['total_rows']:,} rows ({busy['bytes'] / 2**20:.1f} MiB); "
        f"medians of {res['parameters']['runs']} run(s)."
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10 files, 10k-row sheet, 50 contracts, 1 run")
    p.add_argument("--files", type=int, default=None, help="team workbooks (default 200; --quick 10)")
    p.add_argument(
        "--rows", type=int, default=None, help="rows of the big activities sheet (100000; --quick 10000)"
    )
    p.add_argument("--contracts", type=int, default=None, help="contracts rendered (500; --quick 50)")
    p.add_argument("--runs", type=int, default=None, help="runs per figure (3; --quick 1)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    p.add_argument("--no-cli", action="store_true", help="skip the `salesbook consolidate` CLI figure")
    p.add_argument(
        "--profile",
        action="store_true",
        help="only profile consolidate (and one process reading every file) with pyinstrument",
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-args", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, json.loads(args.child_args))))
        return 0
    q = args.quick
    args.files = args.files or (10 if q else 200)
    args.rows = args.rows or (10_000 if q else 100_000)
    args.contracts = args.contracts or (50 if q else 500)
    args.runs = args.runs or (1 if q else 3)
    if args.profile:
        return profile(args)
    res = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print()
    print(machine_line(res))
    print()
    print(table(res))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
