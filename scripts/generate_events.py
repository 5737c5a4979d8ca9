#!/usr/bin/env python3
"""Compatibility entry point for the seed's ``python scripts/generate_events.py --stream-name <name>
--count 100``. It runs the same code as ``clickstream-generate`` (every option works here too);
the source paths are added so it also works from a checkout that was never ``pip install``-ed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for src in (ROOT / "services" / "generator", ROOT / "services" / "common"):
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))

from generator.cli import main  # noqa: E402 - needs the paths above

if __name__ == "__main__":
    sys.exit(main())
