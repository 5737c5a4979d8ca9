"""Object bodies as Firehose writes them: concatenated records, optionally one GZIP stream.

AWS applies ``CompressionFormat`` to the whole object and names it with the format's extension
(``.gz`` for GZIP) unless the stream sets ``FileExtension``. GZIP is emulated (zlib, level 6:
fast enough to keep up with the generator, and a standard GZIP member any reader accepts).
ZIP, Snappy and HADOOP_SNAPPY are rejected at create/update time with a message saying they are
not emulated, rather than written uncompressed under a misleading configuration: their exact
framing (Hadoop block format, the archive entry name) is not documented well enough to reproduce.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

#: emulated formats -> default file extension
EXTENSIONS: dict[str, str] = {"UNCOMPRESSED": "", "GZIP": ".gz"}
#: formats the Firehose API accepts that are not emulated here
NOT_EMULATED = ("ZIP", "Snappy", "HADOOP_SNAPPY")
GZIP_LEVEL = 6


class CompressionNotEmulated(ValueError):
    """A valid AWS compression format this local Firehose does not produce."""


def check(fmt: str | None) -> str:
    """The normalised format (default UNCOMPRESSED); raises for formats not emulated."""
    fmt = fmt or "UNCOMPRESSED"
    if fmt in EXTENSIONS:
        return fmt
    if fmt in NOT_EMULATED:
        raise CompressionNotEmulated(
            f"CompressionFormat {fmt} is not emulated by the local Firehose "
            f"(clickstream_emulator.firehose supports {', '.join(EXTENSIONS)})"
        )
    raise CompressionNotEmulated(f"Unknown CompressionFormat {fmt!r}")


def extension(fmt: str | None, file_extension: str | None) -> str:
    """``FileExtension`` when set (AWS: it replaces the default), else the format's extension."""
    return file_extension if file_extension else EXTENSIONS[check(fmt)]


def encode(chunks: Iterable[bytes], fmt: str | None) -> bytes:
    """The object body: the chunks concatenated (no separator, as AWS), compressed as configured."""
    if check(fmt) == "UNCOMPRESSED":
        return b"".join(chunks)
    # wbits=31: a GZIP member with header and trailer; streaming avoids a second full-size copy
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    out = [compressor.compress(chunk) for chunk in chunks]
    out.append(compressor.flush())
    return b"".join(out)
