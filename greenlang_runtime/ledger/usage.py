"""``greenlang-runtime usage``: calls, tokens and cost from the ledger, totals by the database.

The database does the grouping and the sums (``GROUPING SETS``), so the
totals printed are exactly what a platform's own SQL over the table gives.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from greenlang_runtime._redact import error_line, url_secrets
from greenlang_runtime.exceptions import GreenlangRuntimeError
from greenlang_runtime.ledger._sql import GROUP_KEYS, usage_statement

__all__ = ["COUNTS", "FORMATS", "UsageError", "UsageReport", "parse_by", "parse_when", "query"]

FORMATS: Final = ("table", "csv", "json")
COUNTS: Final = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
)
_CONNECT_TIMEOUT: Final = 10.0


class UsageError(GreenlangRuntimeError):
    """The ledger could not be read (the message names why, with no password)."""


def parse_when(option: str, text: str) -> datetime.datetime:
    """An ISO date (midnight UTC) or datetime (UTC unless it says otherwise), for ``option``."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not an ISO date (2026-12-01) or UTC datetime "
            "(2026-12-01T10:00:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def parse_by(text: str | None) -> tuple[str, ...]:
    """The ``--by`` keys, in the order given; each one of :data:`GROUP_KEYS`, once."""
    if not text:
        return ()
    keys = tuple(key.strip() for key in text.split(","))
    for key in keys:
        if key not in GROUP_KEYS:
            raise ValueError(f"--by {text!r}: {key!r} is not one of {', '.join(GROUP_KEYS)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"--by {text!r} names a key twice")
    return keys


class UsageReport:
    """The groups and the total the database returned, and their three renderings.

    Args:
        by: the ``--by`` keys.
        groups: one dict per group: each key, then :data:`COUNTS`.
        total: :data:`COUNTS` over every group.
    """

    def __init__(
        self, by: Sequence[str], groups: list[dict[str, Any]], total: dict[str, Any]
    ) -> None:
        self.by = tuple(by)
        self.groups = groups
        self.total = total

    def render(self, output_format: str) -> str:
        """The report as ``table``, ``csv`` or ``json`` text."""
        if output_format == "json":
            return json.dumps(
                {
                    "groups": [_json_entry(group) for group in self.groups],
                    "total": _json_entry(self.total),
                },
                indent=2,
            )
        header = [*self.by, *COUNTS]
        lines = [
            [*(_text(group[key]) for key in self.by), *(_text(group[c]) for c in COUNTS)]
            for group in self.groups
        ]
        total = [*(["total"] if self.by else []), *([""] * max(0, len(self.by) - 1))]
        lines.append([*total, *(_text(self.total[c]) for c in COUNTS)])
        if output_format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(lines)
            return out.getvalue().rstrip("\n")
        return _table(header, lines, numeric_from=len(self.by))


async def query(
    url: str,
    table: str,
    by: Sequence[str],
    since: datetime.datetime | None,
    until: datetime.datetime | None,
) -> UsageReport:
    """Read the totals from the ledger at ``url``; :class:`UsageError` when it cannot."""
    import asyncpg

    secrets = url_secrets(url)
    try:
        connection = await asyncpg.connect(url, timeout=_CONNECT_TIMEOUT)
    except Exception as error:
        raise UsageError(f"Cannot reach the ledger's database: {_reason(error, secrets)}") from None
    try:
        records = await connection.fetch(usage_statement(table, by), since, until)
    except asyncpg.UndefinedTableError:
        raise UsageError(
            f"The ledger table {table} does not exist: no agent has reached this database "
            "with GL_LLM_LEDGER_URL yet (or GL_LLM_LEDGER_TABLE names another table)."
        ) from None
    except Exception as error:
        raise UsageError(f"Reading the ledger failed: {_reason(error, secrets)}") from None
    finally:
        await connection.close()
    groups = [_entry(record, by) for record in records if not record["total"]]
    (total,) = [_entry(record, ()) for record in records if record["total"]]
    return UsageReport(by, groups, total)


def _entry(record: Any, by: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {key: record[key] for key in by}
    for count in COUNTS[:-1]:
        entry[count] = int(record[count])
    entry["cost_usd"] = Decimal(record["cost_usd"])
    return entry


def _json_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in entry.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _table(header: list[str], lines: list[list[str]], numeric_from: int) -> str:
    """Columns padded to their widest cell; the counts right-aligned."""
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if i >= numeric_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join(
        [line(header), rule, *(line(row) for row in lines[:-1]), rule, line(lines[-1])]
    )


def _reason(error: BaseException, secrets: tuple[str, ...]) -> str:
    return error_line(error, 300, secrets)
