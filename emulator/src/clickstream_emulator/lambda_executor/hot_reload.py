"""Hot reload for `make dev`: a function runs its first-party code from the working tree.

The deployed zip stays what Terraform deployed (dependencies included); when the sources file
exists, the runtime puts the directories it lists first on ``sys.path``, so the packages found
there (``transformer``, ``clickstream_common``) shadow the copies in the zip while pyarrow & co.
still come from the zip. Before each invocation the runtime compares a fingerprint of those
directories (path, mtime, size of every ``.py`` file) with the one it loaded: on a change it
drops exactly the modules of those packages from ``sys.modules`` and imports the handler again,
in the same process (so the already imported pyarrow is not paid for again: the next object runs
the new code a few hundred milliseconds after the edit, not after a ``make deploy``).

The sources file (``{"paths": [...]}``, named by ``LAMBDA_SUBPROCESS_HOT_RELOAD_FILE`` in
LocalStack's environment) is written by ``make dev`` and removed by ``make up``: the mode can
change without restarting LocalStack, and nothing of this exists on AWS, where a function only
ever runs its deployed zip. Relative paths in it are relative to the file's own directory, so
one file serves both stack modes: in docker mode the container sees the checkout's ``services/``
and the file's directory mounted at the same places relative to each other.

Standard library only: the bootstrap (``python -I -S``) loads this file by path.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCES_FILE_ENV = "LAMBDA_SUBPROCESS_HOT_RELOAD_FILE"
"""Environment variable (set by the executor) naming the sources file."""

SOURCES_FILE_NAME = "hot-reload.json"
"""The sources file's name (in ``.local/hot-reload/`` of the checkout)."""

Fingerprint = tuple[tuple[str, int, int], ...]


class SourcesFileError(ValueError):
    """The sources file exists but does not say which directories to load."""


def read_sources(sources_file: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """The source directories to load first (empty when hot reload is off)."""
    if not sources_file:
        return ()
    try:
        text = Path(sources_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    try:
        paths = json.loads(text)["paths"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourcesFileError(f'{sources_file}: expected {{"paths": [...]}} ({exc})') from exc
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise SourcesFileError(f"{sources_file}: paths must be a list of directory names")
    here = os.path.dirname(os.path.abspath(sources_file))
    return tuple(os.path.normpath(os.path.join(here, p)) for p in paths)


def fingerprint(paths: tuple[str, ...]) -> Fingerprint:
    """(file, mtime_ns, size) of every ``.py`` file under ``paths``: any edit changes it."""
    found: list[tuple[str, int, int]] = []
    for root in paths:
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    try:
                        stat = os.stat(path)
                    except FileNotFoundError:  # removed while we walk: the next check sees it
                        continue
                    found.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def top_level_names(paths: tuple[str, ...]) -> set[str]:
    """The importable top-level names the directories provide (packages and modules)."""
    names: set[str] = set()
    for root in paths:
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py")):
                names.add(entry.name)
            elif entry.is_file() and entry.name.endswith(".py"):
                names.add(entry.name[:-3])
    return names


def purge_modules(names: set[str], modules: MutableMapping[str, Any] | None = None) -> list[str]:
    """Drop ``names`` and their submodules from ``sys.modules``; return what was dropped."""
    table: MutableMapping[str, Any] = sys.modules if modules is None else modules
    dropped = [name for name in list(table) if name in names or name.split(".", 1)[0] in names]
    for name in dropped:
        del table[name]
    return sorted(dropped)


@dataclass
class Reloader:
    """Tracks what the runtime loaded and swaps in the working tree's code when it changes."""

    sources_file: str | None
    paths: tuple[str, ...] = ()
    loaded: Fingerprint | None = field(default=None, repr=False)

    def pending(self) -> tuple[tuple[str, ...], Fingerprint] | None:
        """The new (paths, fingerprint) if they differ from what is loaded, else None."""
        paths = read_sources(self.sources_file)
        if not paths and not self.paths:
            return None  # hot reload off and never on: one failed open per invocation
        state = fingerprint(paths)
        if paths == self.paths and state == self.loaded:
            return None
        return paths, state

    def apply(self, paths: tuple[str, ...], state: Fingerprint) -> list[str]:
        """Put ``paths`` first on ``sys.path`` and forget the modules they (or the old paths)
        provide, so the next import loads them from there; return the dropped module names."""
        dropped = purge_modules(top_level_names(paths) | top_level_names(self.paths))
        for old in self.paths:
            while old in sys.path:
                sys.path.remove(old)
        sys.path[0:0] = list(paths)
        importlib.invalidate_caches()
        self.paths, self.loaded = paths, state
        return dropped
