"""Sheet schemas (declared in schemas.toml) and name normalisation for sheets, headers and enums."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

_SPACE = re.compile(r"\s+")


def normalize_name(text: object) -> str:
    """NFKC (full-width → half-width), trimmed, inner whitespace removed, case-folded."""
    if text is None:
        return ""
    if text.__class__ is str and text.isascii() and text.isprintable() and " " not in text:
        return text.lower()  # printable ASCII without spaces: NFKC changes nothing, casefold is lower
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


@dataclass(frozen=True)
class EnumSpec:
    name: str
    values: tuple[tuple[str, str], ...]  # (canonical English, Chinese)
    lookup: dict[str, str] = field(hash=False, compare=False)

    def allowed(self) -> str:
        return ", ".join(f"{zh}/{en}" if zh != en else en for en, zh in self.values)

    def zh(self, canonical: str) -> str:
        return next((zh for en, zh in self.values if en == canonical), canonical)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    zh: str
    en: str
    type: str
    required: bool = False
    unique: bool = False
    ref: str = ""
    roster: bool = False
    min: float | None = None
    max: float | None = None
    min_exclusive: float | None = None
    not_before: str = ""
    enum: EnumSpec | None = None
    default: object = None
    aliases: tuple[str, ...] = ()
    unit: str = ""  # "wan": a money column in 万元

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(normalize_name(n) for n in (self.zh, self.en, *self.aliases))

    @property
    def label(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class SheetSchema:
    name: str
    zh: str
    en: str
    scope: str
    key: str
    columns: tuple[ColumnSpec, ...]

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset({normalize_name(self.zh), normalize_name(self.en), normalize_name(self.name)})

    @cached_property
    def required(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)

    @property
    def label(self) -> str:
        return f"{self.zh} / {self.en}"


@cache
def load_schemas() -> dict[str, SheetSchema]:
    """Every sheet schema by its key (customers, activities, …, settings, roster, targets)."""
    data = tomllib.loads((Path(__file__).with_name("schemas.toml")).read_text(encoding="utf-8"))
    enums = {}
    for name, spec in data["enums"].items():
        values = tuple((en, zh) for en, zh in spec["values"])
        lookup = {}
        for en, zh in values:
            lookup[normalize_name(en)] = en
            lookup[normalize_name(zh)] = en
        enums[name] = EnumSpec(name, values, lookup)
    sheets = {}
    for name, spec in data["sheets"].items():
        cols = []
        for c in spec["columns"]:
            c = dict(c)
            c["enum"] = enums[c["enum"]] if "enum" in c else None
            c["aliases"] = tuple(c.get("aliases", ()))
            cols.append(ColumnSpec(**c))
        sheets[name] = SheetSchema(
            name=name, zh=spec["zh"], en=spec["en"], scope=spec["scope"], key=spec.get("key", ""),
            columns=tuple(cols),
        )
    return sheets


def team_schemas() -> list[SheetSchema]:
    return [s for s in load_schemas().values() if s.scope == "team"]


def master_schemas() -> list[SheetSchema]:
    return [s for s in load_schemas().values() if s.scope == "master"]


def match_sheet(sheet_name: str, scope: str = "team") -> SheetSchema | None:
    """The schema whose zh or en name equals `sheet_name` after normalising, if any."""
    n = normalize_name(sheet_name)
    for s in load_schemas().values():
        if s.scope == scope and n in s.names:
            return s
    return None
