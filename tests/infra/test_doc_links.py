"""Every relative link in the documentation resolves: the file or folder exists in the checkout,
and an anchor (``page.md#section``, ``#section``) names a heading of that page.

The README is a front page that links into ``docs/``; pages move and headings get renamed, and a
dead link is what a newcomer meets first. Anchors are computed as GitHub renders them (lowercase,
punctuation dropped, spaces to hyphens, ``-1``, ``-2`` for repeats).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The front page, every page under docs/, and the components' own READMEs.
PAGES = sorted(
    {ROOT / "README.md"}
    | set((ROOT / "docs").rglob("*.md"))
    | set(ROOT.glob("*/README.md"))
    | set(ROOT.glob("services/*/README.md"))
)

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _prose(markdown: str) -> str:
    """The text outside fenced code blocks (a link in a code block is an example, not a link)."""
    return _FENCE.sub("", markdown)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a page defines: its headings' slugs (repeats numbered) and HTML anchors."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    prose = _prose(markdown)
    for match in _HEADING.finditer(prose):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(_HTML_ANCHOR.findall(prose))
    return found


def links(markdown: str) -> list[str]:
    """Link targets outside code: inline links, images and reference definitions."""
    prose = _prose(markdown)
    # Code spans may hold brackets; blank their contents but keep link text that is code.
    prose = _CODE_SPAN.sub(lambda m: m.group(1) + "x" * len(m.group(2)) + m.group(1), prose)
    return _INLINE_LINK.findall(prose) + _REFERENCE.findall(prose)


def broken_links(page: Path, root: Path) -> list[str]:
    """One line per relative link of ``page`` that does not resolve inside ``root``."""
    problems: list[str] = []
    for target in links(page.read_text(encoding="utf-8")):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # an external URL: not checked offline
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(root)}: {target}"
        if not resolved.is_relative_to(root):
            problems.append(f"{where} points outside the repository")
            continue
        if not resolved.exists():
            problems.append(f"{where} does not exist")
            continue
        if anchor:
            if resolved.suffix != ".md" or not resolved.is_file():
                problems.append(f"{where} has an anchor but is not a Markdown page")
            elif anchor not in anchors(resolved.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading with that anchor")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page, ROOT) == []


def test_the_documentation_pages_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in PAGES}
    assert {"README.md", "docs/architecture.md", "infra/README.md"} <= names


def test_the_readme_is_a_front_page() -> None:
    """The README stays short: details belong in docs/ (at most 250 lines)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines: move details into a docs/ page"


def test_slug_follows_github() -> None:
    assert slug("Glue Data Catalog (catalog modes)") == "glue-data-catalog-catalog-modes"
    assert (
        slug("Athena (`src/clickstream_emulator/athena/`)")
        == "athena-srcclickstream_emulatorathena"
    )
    assert slug("Dialect traps (Athena = Trino, locally DuckDB)") == (
        "dialect-traps-athena--trino-locally-duckdb"
    )
    assert slug("Data across `make down`") == "data-across-make-down"
    assert anchors("# A\n## B\n## B\n```\n# not a heading\n```\n") == {"a", "b", "b-1"}


def test_broken_links_and_anchors_are_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Real section\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/page.md) [ok anchor](docs/page.md#real-section) [self](#top)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#nope) [web](https://example.com/x)\n"
        "[`code` text](docs/page.md) [out](../elsewhere.md)\n"
        "```\n[in a fence](docs/not-checked.md)\n```\n"
        "Inline `[not a link](nowhere.md)` code.\n"
        "[ref]: docs/also-missing.md\n"
        "# Top\n"
    )
    assert broken_links(tmp_path / "README.md", tmp_path) == [
        "README.md: docs/missing.md does not exist",
        "README.md: docs/page.md#nope: no heading with that anchor",
        "README.md: ../elsewhere.md points outside the repository",
        "README.md: docs/also-missing.md does not exist",
    ]
