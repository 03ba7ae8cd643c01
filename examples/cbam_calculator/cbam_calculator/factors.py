"""Emission factors: the bundled default table, or a PostgreSQL table seeded from it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "TABLE",
    "BundledFactors",
    "Factor",
    "FactorSource",
    "PostgresFactors",
    "bundled_table",
    "match",
    "source_citation",
]

TABLE = "cbam_default_values"

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    cn_code        text PRIMARY KEY CHECK (cn_code ~ '^[0-9]{{4}}([0-9]{{2}}){{0,2}}$'),
    description    text NOT NULL,
    sector         text NOT NULL,
    unit           text NOT NULL CHECK (unit IN ('t', 'MWh')),
    direct_tco2e   numeric NOT NULL CHECK (direct_tco2e >= 0),
    indirect_tco2e numeric NOT NULL CHECK (indirect_tco2e >= 0),
    source         text NOT NULL
)
"""
# Rows already there are left alone: an operator may have corrected or added values.
_SEED = f"""
INSERT INTO {TABLE} (cn_code, description, sector, unit, direct_tco2e, indirect_tco2e, source)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (cn_code) DO NOTHING
"""
_SELECT = f"""
SELECT cn_code, description, sector, unit, direct_tco2e, indirect_tco2e
FROM {TABLE} WHERE cn_code = ANY($1::text[])
"""
# Replicas starting together must not race on CREATE TABLE: one seeds, the others wait.
_LOCK = f"SELECT pg_advisory_xact_lock(hashtext('{TABLE}'))"


@dataclass(frozen=True)
class Factor:
    """The default values of one CN code: tCO2e per unit of the good."""

    cn_code: str
    description: str
    sector: str
    unit: str
    direct: Decimal
    indirect: Decimal


class FactorSource(Protocol):
    """Where the calculation finds the factors of a set of CN codes."""

    name: str

    async def lookup(self, codes: Iterable[str]) -> dict[str, Factor]:
        """The factor of each code of ``codes`` that has one (keyed by the table's code)."""
        ...


def _data() -> dict[str, Any]:
    """The bundled data file, parsed."""
    text = (
        resources.files(__package__ or "cbam_calculator")
        .joinpath("data/cbam_default_values.json")
        .read_text()
    )
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def bundled_table() -> dict[str, Factor]:
    """The default values shipped inside the package, by CN code."""
    return {
        row["cn_code"]: Factor(
            row["cn_code"],
            row["description"],
            row["sector"],
            row["unit"],
            Decimal(row["direct"]),
            Decimal(row["indirect"]),
        )
        for row in _data()["factors"]
    }


@cache
def source_citation() -> str:
    """The bundled table's source: title, publisher, date and address."""
    source = _data()["source"]
    return f"{source['title']} ({source['publisher']}, {source['date']}), {source['url']}"


def prefixes(cn_code: str) -> list[str]:
    """The codes a value may be published for, most specific first (8, 6, 4 digits)."""
    return [cn_code[:n] for n in (8, 6, 4) if len(cn_code) >= n]


def match(cn_code: str, table: Mapping[str, Factor]) -> Factor | None:
    """The factor of the longest code in ``table`` that ``cn_code`` starts with."""
    for prefix in prefixes(cn_code):
        factor = table.get(prefix)
        if factor is not None:
            return factor
    return None


class BundledFactors:
    """The table inside the package: the agent runs with nothing configured."""

    name = "bundled"

    async def lookup(self, codes: Iterable[str]) -> dict[str, Factor]:
        """The factors of ``codes`` from the bundled table."""
        table = bundled_table()
        return {code: table[code] for code in codes if code in table}


class PostgresFactors:
    """The ``cbam_default_values`` table of ``DATABASE_URL``, created and seeded at startup."""

    name = "postgres"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    async def open(self) -> None:
        """Connect, then create and seed the table if needed (idempotent, safe across replicas)."""
        import asyncpg

        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=4)
        citation = source_citation()
        rows = [
            (f.cn_code, f.description, f.sector, f.unit, f.direct, f.indirect, citation)
            for f in bundled_table().values()
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK)
            await connection.execute(_CREATE)
            await connection.executemany(_SEED, rows)

    async def lookup(self, codes: Iterable[str]) -> dict[str, Factor]:
        """The factors of ``codes`` from the database, in one query."""
        if self._pool is None:
            raise RuntimeError("PostgresFactors.open() has not run")
        records = await self._pool.fetch(_SELECT, list(codes))
        return {
            r["cn_code"]: Factor(
                r["cn_code"],
                r["description"],
                r["sector"],
                r["unit"],
                r["direct_tco2e"],
                r["indirect_tco2e"],
            )
            for r in records
        }

    async def close(self) -> None:
        """Close the pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
