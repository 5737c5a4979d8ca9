"""Rerunnable benchmarks: `python -m bench.<name>`; each reports ratios against a baseline measured in the same run."""
