"""The indicator catalogue and settings, loaded from catalogue.toml.

`Standards` is one complete set of thresholds and settings: the policy default,
or a what-if variant made with `with_overrides`. Queries receive it as bound
parameters (`thresholds_param`, `settings`), never as SQL text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")

Dimension = Literal["facilities", "funding", "safety", "organisation"]
Direction = Literal["at_least", "below", "at_most", "none"]

DIMENSIONS: tuple[Dimension, ...] = ("facilities", "funding", "safety", "organisation")

STATUSES = ("met", "partly_met", "not_met", "no_data", "not_rated")


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: Dimension
    name: str
    unit: str
    formula: str
    direction: Direction
    source: str
    quote: str
    floor: float | None = None
    target: float | None = None
    settings: tuple[str, ...] = ()
    decimals: int = 1
    # queries/<query>.sql computes it per community; <trend_query>.sql by month.
    query: str = ""
    trend_query: str | None = None

    @property
    def has_standard(self) -> bool:
        return self.direction != "none"


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any
    unit: str
    label: str
    help: str


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    settings: tuple[Setting, ...]
    sources: Mapping[str, str]

    def indicator(self, indicator_id: str) -> Indicator:
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise KeyError(indicator_id)

    def by_dimension(self, dimension: Dimension) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.dimension == dimension)

    def setting(self, key: str) -> Setting:
        for item in self.settings:
            if item.key == key:
                return item
        raise KeyError(key)

    def source_text(self, indicator: Indicator) -> str:
        """`002《…》：“quote”` — what the UI shows beside a threshold."""
        title = self.sources.get(indicator.source, indicator.source)
        return f"{indicator.source} {title}：“{indicator.quote}”"


def _load(path: Path) -> Catalogue:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    indicators = tuple(
        Indicator(
            id=item["id"],
            dimension=item["dimension"],
            name=item["name"],
            unit=item["unit"],
            formula=item["formula"],
            direction=item["direction"],
            source=item["source"],
            quote=item["quote"],
            floor=item.get("floor"),
            target=item.get("target"),
            settings=tuple(item.get("settings", ())),
            decimals=item.get("decimals", 1),
            query=item["query"],
            trend_query=item.get("trend_query"),
        )
        for item in raw["indicators"]
    )
    settings = tuple(
        Setting(key, spec["value"], spec["unit"], spec["label"], spec["help"])
        for key, spec in raw["settings"].items()
    )
    return Catalogue(indicators, settings, MappingProxyType(dict(raw["sources"])))


@cache
def load_catalogue() -> Catalogue:
    return _load(CATALOGUE_PATH)


@dataclass(frozen=True)
class Standards:
    """Thresholds and settings in force for one computation."""

    indicators: tuple[Indicator, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Standards:
        catalogue = load_catalogue()
        return cls(
            catalogue.indicators,
            MappingProxyType({s.key: s.value for s in catalogue.settings}),
        )

    def with_overrides(
        self,
        thresholds: Mapping[str, Mapping[str, float | None]] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Standards:
        """A copy with some floors/targets and settings replaced.

        `thresholds` maps indicator id → {"floor": x, "target": y}.
        Unknown ids or setting keys raise KeyError rather than being ignored.
        """
        thresholds = thresholds or {}
        known = {i.id for i in self.indicators}
        for indicator_id in thresholds:
            if indicator_id not in known:
                raise KeyError(indicator_id)
        indicators = tuple(
            replace(i, **dict(thresholds[i.id])) if i.id in thresholds else i
            for i in self.indicators
        )
        merged = dict(self.settings)
        for key, value in (settings or {}).items():
            if key not in merged:
                raise KeyError(key)
            merged[key] = value
        return Standards(indicators, MappingProxyType(merged))

    def thresholds_param(self) -> list[dict[str, Any]]:
        """The `$thresholds` query parameter: a list of structs."""
        return [
            {
                "indicator_id": i.id,
                "direction": i.direction,
                "floor_value": None if i.floor is None else float(i.floor),
                "target_value": None if i.target is None else float(i.target),
            }
            for i in self.indicators
        ]

    def indicator(self, indicator_id: str) -> Indicator:
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise KeyError(indicator_id)
