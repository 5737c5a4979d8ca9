"""One module per kind of statement; :mod:`clickstream_emulator.athena.engine` dispatches to them.

Each module exposes ``run(statement, context, catalog, execution) -> Outcome``.
"""
