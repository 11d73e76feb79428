"""The database schema of fleetlink, as versioned SQL migrations.

Each dialect has its own folder under ``migrations/`` holding files named
``NNNN_description.sql``; the four digits are the version, applied in order
and recorded in the ``schema_migrations`` table. A file holds statements ended
by a semicolon at the end of a line; lines starting with ``--`` are comments.
``app.store.migrate`` reads them and the stores apply them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError

__all__ = ["DIALECTS", "MIGRATIONS", "Migration", "migrations"]

MIGRATIONS = Path(__file__).with_name("migrations")
DIALECTS = ("mysql", "sqlite")


@dataclass(frozen=True)
class Migration:
    """One migration file: its version and the statements it runs, in order."""

    version: str
    path: Path
    statements: tuple[str, ...]


def migrations(dialect: str) -> list[Migration]:
    """The migrations of one dialect, oldest first."""
    if dialect not in DIALECTS:
        raise ConfigError(f"expected a dialect among {', '.join(DIALECTS)}, got {dialect!r}")
    found = []
    for path in sorted((MIGRATIONS / dialect).glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append(Migration(path.name[:4], path, _statements(path.read_text())))
    return found


def _statements(text: str) -> tuple[str, ...]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    statements = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    rest = "\n".join(current).strip()
    if rest:
        statements.append(rest)
    return tuple(statements)
