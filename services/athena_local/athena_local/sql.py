"""The query files in ``queries/``: find them, read their header, render ``${database}``.

The same files are deployed by Terraform as ``aws_athena_named_query`` resources through
``templatefile(file, {database = ...})``. So each file must be a valid Terraform template whose
only interpolation is ``${database}``: any other ``${`` or ``%{`` would be evaluated (or rejected)
by Terraform. :func:`template_problems` checks exactly that, and :func:`render` refuses a file
that breaks it, so a query cannot work locally and fail in ``terraform plan``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: The only placeholder a query file may contain (Terraform templatefile syntax).
PLACEHOLDER = "${database}"

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_QUERIES_DIR = REPO_ROOT / "queries"

_TEMPLATE_SEQUENCE = re.compile(r"[$%]\{")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class QueryFileError(ValueError):
    """A query file is missing, badly named, or not a valid Terraform template."""


@dataclass(frozen=True, slots=True)
class QueryFile:
    """One ``queries/<name>.sql`` file."""

    name: str
    path: Path
    template: str

    @property
    def header(self) -> list[str]:
        """The leading ``--`` comment lines, without the dashes."""
        lines: list[str] = []
        for line in self.template.splitlines():
            stripped = line.strip()
            if not stripped.startswith("--"):
                break
            lines.append(stripped.removeprefix("--").strip())
        return lines

    @property
    def description(self) -> str:
        """What the query answers: the first header line, without the ``name:`` prefix."""
        first = self.header[0] if self.header else ""
        return first.removeprefix(f"{self.name}:").strip()

    @property
    def body(self) -> str:
        """The SQL without the header comment (what the seed README printed)."""
        lines = self.template.splitlines()
        while lines and lines[0].strip().startswith("--"):
            lines.pop(0)
        return "\n".join(lines).strip()

    def render(self, database: str) -> str:
        """The SQL with ``${database}`` filled in (see :func:`render`)."""
        return render(self.template, database, origin=str(self.path))


def queries_dir() -> Path:
    """Where the query files live (``CLICKSTREAM_QUERIES_DIR`` overrides, e.g. for tests)."""
    return Path(os.environ.get("CLICKSTREAM_QUERIES_DIR", DEFAULT_QUERIES_DIR))


def template_problems(text: str) -> list[str]:
    """Why ``text`` is not a Terraform template with ``${database}`` as its only interpolation."""
    problems = []
    remaining = text.replace(PLACEHOLDER, "")
    for match in _TEMPLATE_SEQUENCE.finditer(remaining):
        line = remaining.count("\n", 0, match.start()) + 1
        problems.append(
            f"line {line}: {match.group()!r} is a Terraform template sequence; only "
            f"{PLACEHOLDER} may appear"
        )
    if PLACEHOLDER not in text:
        problems.append(f"no {PLACEHOLDER} placeholder: the table must be {PLACEHOLDER}.events")
    return problems


def render(template: str, database: str, origin: str = "<sql>") -> str:
    """Substitute ``${database}`` like Terraform's templatefile does, after checking the template."""
    if not _NAME.match(database):
        raise QueryFileError(f"database name {database!r} is not a plain lower-case identifier")
    problems = template_problems(template)
    if problems:
        raise QueryFileError(f"{origin}: " + "; ".join(problems))
    return template.replace(PLACEHOLDER, database)


def list_queries(directory: Path | None = None) -> list[QueryFile]:
    """All ``*.sql`` files in the queries directory, sorted by name."""
    root = directory or queries_dir()
    if not root.is_dir():
        raise QueryFileError(f"queries directory {root} does not exist")
    files = []
    for path in sorted(root.glob("*.sql")):
        name = path.stem
        if not _NAME.match(name):
            raise QueryFileError(f"{path}: file names must be lower_snake_case")
        files.append(QueryFile(name=name, path=path, template=path.read_text(encoding="utf-8")))
    return files


def load_query(name: str, directory: Path | None = None) -> QueryFile:
    """One query by name (the file stem), with the known names in the error if it is unknown."""
    queries = {q.name: q for q in list_queries(directory)}
    try:
        return queries[name]
    except KeyError:
        known = ", ".join(sorted(queries)) or "(none)"
        raise QueryFileError(f"unknown query {name!r}; known: {known}") from None
