#!/usr/bin/env python3
"""Build a Lambda deployment zip: ``build/lambda/transformer.zip`` (``--function compactor``:
``build/lambda/compactor.zip``).

Why this is more than ``zip -r``:

* **Lambda's platform, not this machine's**: dependencies come from ``requirements/lambda.txt``
  as binary wheels for the runtime's CPython (``.python-version``, 3.13) on manylinux x86_64 (the
  python3.13 runtime runs Amazon Linux 2023, glibc 2.34, so manylinux_2_28 wheels such as
  pyarrow 26's are valid there).
* **Size**: pyarrow is ~170 MB unpacked; the parts the transformer never loads (Flight, the
  pyarrow S3 filesystem - the Lambda uses boto3 -, tests, C++ headers, Cython sources) are
  trimmed, and the trimmed tree is *verified* by importing the modules the transformer uses with
  the runtime's Python version that sees only the trimmed tree. Above Lambda's 250 MB unzipped limit the build
  fails with a clear message.
* **Reproducible**: sorted entries, fixed timestamps and permissions, hash-based ``.pyc`` files,
  so the zip (and Terraform's ``source_code_hash``) changes only when the content does.
* **Fast rebuilds**: the installed and trimmed dependencies are cached under
  ``build/lambda/cache/<key>``, keyed on the lock file and the target platform.
"""

from __future__ import annotations

import argparse
import compileall
import filecmp
import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# scripts/venv_install.py, the project's one installer (a sibling script, run as a file; mypy
# checks it as scripts.venv_install, so this plain import is unresolved there)
import venv_install  # type: ignore[import-not-found]

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO_ROOT / "requirements" / "lambda.txt"
DEV_LOCK_FILE = REPO_ROOT / "requirements" / "dev.txt"
BUILD_DIR = REPO_ROOT / "build" / "lambda"
ZIP_PATH = BUILD_DIR / "transformer.zip"

#: First-party packages shipped in the zip: import name -> source directory.
PACKAGES: dict[str, Path] = {
    "transformer": REPO_ROOT / "services" / "transformer" / "transformer",
    "clickstream_common": REPO_ROOT / "services" / "common" / "clickstream_common",
}

#: The second function, the compactor (services/compactor): its own lock file (pyarrow + DuckDB,
#: whose out-of-core sort and dedup bound its memory), zip and packages (it reads the
#: transformer's Parquet settings, so it carries that package too). ``--function compactor``.
FUNCTIONS: dict[str, dict[str, object]] = {
    "transformer": {},
    "compactor": {
        "LOCK_FILE": REPO_ROOT / "requirements" / "compactor.txt",
        "ZIP_PATH": BUILD_DIR / "compactor.zip",
        "PACKAGES": {
            "compactor": REPO_ROOT / "services" / "compactor" / "compactor",
            **PACKAGES,
        },
        "REQUIRED_IMPORTS": (
            "pyarrow",
            "pyarrow.compute",
            "pyarrow.json",
            "pyarrow.parquet",
            "duckdb",
        ),
    },
}


def select_function(name: str) -> None:
    """Point the build at one function's lock file, packages, imports and zip (module settings,
    so every step below reads them as it reads the transformer's)."""
    globals().update(FUNCTIONS[name])


#: Lambda runtime this zip targets: the project's one Python (tests/infra ties it to infra/lambda.tf).
PYTHON_VERSION = (REPO_ROOT / ".python-version").read_text().strip()
FIND_PYTHON = REPO_ROOT / "scripts" / "python.sh"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
#: The same target in uv's terms (it accepts every older manylinux tag too).
UV_PLATFORM = "x86_64-manylinux_2_28"

#: AWS limit for a function's unzipped code (and layers): 250 MB = 262,144,000 bytes.
MAX_UNZIPPED_BYTES = 262_144_000

#: Modules the transformer imports; the trimmed dependency tree must import all of them.
REQUIRED_IMPORTS = (
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.json",
    "pyarrow.parquet",
)

#: Paths (relative to the dependency dir) removed after install: nothing the Lambda imports.
#: ``{so}`` is the Arrow shared-library version of the installed wheel (``libarrow.so.<so>``),
#: read from the wheel itself so a pyarrow upgrade cannot silently stop the trim.
TRIM_PATHS = (
    "pyarrow/tests",
    "pyarrow/conftest.py",
    "pyarrow/include",
    "pyarrow/includes",
    "pyarrow/src",
    "pyarrow/benchmark.py",
    "pyarrow/jvm.py",
    "pyarrow/cuda.py",
    # Arrow Flight RPC: never used by a batch Lambda (~33 MB).
    "pyarrow/flight.py",
    "pyarrow/libarrow_flight.so.{so}",
    # pyarrow's own cloud filesystems: the Lambda reads and writes S3 through boto3 (~17 MB).
    "pyarrow/libarrow_s3.so.{so}",
)
#: Filename patterns removed anywhere in the dependency tree.
TRIM_SUFFIXES = (".pyx", ".pxd", ".pxi", ".h", ".hpp", ".cc", ".cpp", ".pyc")
#: Filename prefixes removed inside pyarrow/ (extension modules of the trimmed features).
TRIM_PYARROW_PREFIXES = (
    "_flight.",
    "libarrow_python_flight.",
    "_s3fs.",
    "_gcsfs.",
    "_azurefs.",
    "_hdfs.",
    "_pyarrow_cpp_tests.",
)

#: ``*.dist-info`` files that record the installation, not the package (removed).
INSTALLER_FILES = ("INSTALLER", "RECORD", "REQUESTED", "direct_url.json")

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 1
LAMBDA_TASK_ROOT = "/var/task"


@dataclass(frozen=True)
class BuildResult:
    """What the build produced, for the summary and the tests."""

    zip_path: Path
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    sha256: str


class BuildError(RuntimeError):
    """A build step failed in a way the user can act on."""


def runtime_python() -> str:
    """A Python of the runtime's version, for .pyc and import checks (scripts/python.sh finds it)."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == PYTHON_VERSION:
        return sys.executable
    proc = subprocess.run([str(FIND_PYTHON), PYTHON_VERSION], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(
            f"python{PYTHON_VERSION} not found: it is needed to compile and verify the Lambda zip"
        )
    return proc.stdout.strip()


def pinned_version(lock: Path, package: str) -> str | None:
    """Return the ``==`` pin of ``package`` in a requirements file, if any."""
    for line in lock.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep and name.strip().lower() == package:
            return version.strip().split(";")[0].strip().split(" ")[0]
    return None


def check_pins_agree() -> None:
    """Fail if the Lambda's pyarrow (or DuckDB) differs from the one the tests run against."""
    lam, dev = pinned_version(LOCK_FILE, "pyarrow"), pinned_version(DEV_LOCK_FILE, "pyarrow")
    if lam is None:
        raise BuildError(f"{LOCK_FILE} must pin pyarrow with ==")
    for package in ("pyarrow", "duckdb"):
        lam, dev = pinned_version(LOCK_FILE, package), pinned_version(DEV_LOCK_FILE, package)
        if lam is not None and dev is not None and lam != dev:
            raise BuildError(
                f"{package} pins differ: {LOCK_FILE.name} has {lam}, {DEV_LOCK_FILE.name} has "
                f"{dev}; the Lambda must run the version the tests use"
            )


def cache_key() -> str:
    """Key of the dependency cache: lock content, target platform and the trimming rules."""
    h = hashlib.sha256()
    h.update(LOCK_FILE.read_bytes())
    for part in (PYTHON_VERSION, *PLATFORMS, *TRIM_PATHS, *TRIM_SUFFIXES, *TRIM_PYARROW_PREFIXES):
        h.update(part.encode() + b"\0")
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def uv_command(uv: Path, target: Path) -> list[str]:
    """`uv pip install` arguments of the same install as :func:`pip_command`."""
    return [
        "--no-deps",
        "--only-binary",
        ":all:",
        "--python-platform",
        UV_PLATFORM,
        "--python-version",
        PYTHON_VERSION,
        "--target",
        str(target),
        "-r",
        str(LOCK_FILE),
    ]


def pip_command(target: Path) -> list[str]:
    platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
    return [
        "install",
        "--quiet",
        "--no-compile",
        "--no-deps",  # the lock lists everything; no resolver surprises per platform
        "--only-binary=:all:",
        *platform_args,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--target",
        str(target),
        "-r",
        str(LOCK_FILE),
    ]


def pip_install(target: Path) -> None:
    """Install the locked dependencies as Lambda-platform wheels into ``target``.

    With the project's pinned uv (scripts/venv_install.py: from its cache, no index round trips)
    when it can be had, else with pip; both pick the same wheel of the same pin.
    """
    uv = None if venv_install.use_pip() else venv_install.ensure_uv()
    if uv is not None:
        print(f"build_lambda: uv pip install {' '.join(uv_command(uv, target))}", flush=True)
        if venv_install.uv_pip_install(uv, uv_command(uv, target)) == 0:
            (target / ".lock").unlink(missing_ok=True)  # uv's lock file for --target
            return
        print("build_lambda: uv install failed: retrying with pip", flush=True)
        shutil.rmtree(target)
        target.mkdir()
    if not venv_install.ensure_pip(sys.executable):
        raise BuildError(f"no pip for {sys.executable} (ensurepip failed) and no uv")
    cmd = [sys.executable, "-m", "pip", *pip_command(target)]
    print("build_lambda: pip " + " ".join(cmd[4:]), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"pip install failed:\n{proc.stdout}{proc.stderr}")


def trim(deps: Path) -> int:
    """Delete what the Lambda never loads; return the bytes removed."""
    removed = 0

    def drop(p: Path) -> None:
        nonlocal removed
        if p.is_dir() and not p.is_symlink():
            removed += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            removed += p.lstat().st_size
            p.unlink()

    so = arrow_so_version(deps)
    for rel in TRIM_PATHS:
        path = deps / rel.format(so=so)
        if rel.endswith(".so.{so}") and not path.exists():
            raise BuildError(f"{path.name} is not in the pyarrow wheel: update TRIM_PATHS")
        drop(path)
    for p in sorted(deps.rglob("__pycache__"), reverse=True):
        drop(p)
    # The installer's own bookkeeping (who installed it, file hashes): never read at run time, and
    # it differs between uv and pip, which would make the zip depend on the installer.
    for p in sorted(deps.glob("*.dist-info/*")):
        if p.name in INSTALLER_FILES:
            drop(p)
    for p in list(deps.rglob("*")):
        if p.is_file() and p.name.endswith(TRIM_SUFFIXES):
            drop(p)
    pa = deps / "pyarrow"
    if pa.is_dir():
        for p in list(pa.iterdir()):
            if p.name.startswith(TRIM_PYARROW_PREFIXES):
                drop(p)
        # Wheels flatten symlinks into copies: only the SONAME file (libX.so.NNNN) is loaded;
        # libX.so and libX.so.NNNN.x.y exist for building extensions against pyarrow.
        for p in list(pa.glob("lib*.so*")):
            if "cpython" not in p.name and not _is_soname(p):
                drop(p)
    return removed


def arrow_so_version(deps: Path) -> str:
    """The ``NNNN`` of ``pyarrow/libarrow.so.NNNN`` in the installed wheel."""
    found = [p.name for p in (deps / "pyarrow").glob("libarrow.so.*") if _is_soname(p)]
    if len(found) != 1:
        raise BuildError(f"expected one pyarrow/libarrow.so.<version> in the wheel, found {found}")
    return found[0].rsplit(".", 1)[1]


def _is_soname(p: Path) -> bool:
    """True for ``libname.so.NNNN`` (what extension modules record as NEEDED)."""
    stem, _, version = p.name.partition(".so")
    return bool(stem) and version.count(".") == 1 and version[1:].isdigit()


def verify_imports(python: str, deps: Path, extra_paths: Iterable[Path] = ()) -> None:
    """Import the required modules from the trimmed tree only (site-packages disabled)."""
    script = "\n".join(
        [
            "import sys, importlib",
            f"sys.path[:0] = {[str(deps), *map(str, extra_paths)]!r}",
            f"mods = {list(REQUIRED_IMPORTS)!r}",
            "for m in mods: importlib.import_module(m)",
            "import pyarrow as pa, pyarrow.parquet as pq, io",
            f"assert pa.__file__.startswith({str(deps)!r}), pa.__file__",
            "buf = io.BytesIO()",
            "pq.write_table(pa.table({'x': [1, 2, 3]}), buf, compression='snappy')",
            "assert pq.read_table(io.BytesIO(buf.getvalue())).num_rows == 3",
            "print('pyarrow', pa.__version__, 'imports OK from', pa.__file__, flush=True)",
            # skip Arrow's native teardown, which can abort at exit (clickstream_common.process)
            "import os; os._exit(0)",
        ]
    )
    # -B: no __pycache__ in the cached tree (timestamp-based .pyc naming this temporary path
    # would otherwise reach the zip and make it differ from build to build)
    proc = subprocess.run([python, "-S", "-E", "-B", "-c", script], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(
            "the trimmed dependencies do not import; adjust TRIM_* in scripts/build_lambda.py:\n"
            + proc.stderr
        )
    print("build_lambda: " + proc.stdout.strip(), flush=True)


def dependencies() -> Path:
    """Return the cached, trimmed, verified dependency tree, building it on a cache miss."""
    cache = BUILD_DIR / "cache" / cache_key()
    if (cache / ".complete").exists():
        print(f"build_lambda: dependencies from cache {cache.relative_to(REPO_ROOT)}", flush=True)
        return cache
    python = runtime_python()
    tmp = Path(tempfile.mkdtemp(prefix="deps-", dir=BUILD_DIR))
    try:
        pip_install(tmp)
        before = tree_size(tmp)
        removed = trim(tmp)
        verify_imports(python, tmp)
        print(
            f"build_lambda: dependencies {mb(before)} installed, {mb(removed)} trimmed",
            flush=True,
        )
        (tmp / ".complete").write_text(cache.name + "\n")
        if cache.exists():
            shutil.rmtree(cache)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cache


def stage(deps: Path, staging: Path) -> None:
    """Lay out the zip content: dependencies, then first-party packages, then .pyc files."""
    shutil.copytree(deps, staging, ignore=shutil.ignore_patterns(".complete"), symlinks=False)
    for name, src in PACKAGES.items():
        if not src.is_dir():
            raise BuildError(f"package {name} not found at {src}")
        shutil.copytree(src, staging / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_pyc(runtime_python(), staging)


def compile_pyc(python: str, staging: Path) -> None:
    """Precompile with hash-based .pyc (/var/task is read-only on Lambda, so it cannot cache them).

    The recorded source path is the Lambda task root, not the random staging dir, so the bytes
    depend only on the sources.
    """
    if sys.executable == python:
        # The .pyc files belong beside the sources in the zip: a PYTHONPYCACHEPREFIX (the Makefile
        # sets one) would send them to the cache directory instead.
        prefix, sys.pycache_prefix = sys.pycache_prefix, None
        try:
            ok = compileall.compile_dir(
                str(staging),
                quiet=1,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
                stripdir=str(staging),
                prependdir=LAMBDA_TASK_ROOT,
                workers=1,
            )
        finally:
            sys.pycache_prefix = prefix
        if not ok:
            raise BuildError("byte-compiling the zip content failed (syntax error?)")
        return
    proc = subprocess.run(
        [
            python,
            "-E",  # no PYTHONPYCACHEPREFIX: the .pyc files go beside the sources, into the zip
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "checked-hash",
            "-s",
            str(staging),
            "-p",
            LAMBDA_TASK_ROOT,
            str(staging),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BuildError(f"byte-compiling the zip content failed:\n{proc.stdout}{proc.stderr}")


def iter_files(root: Path) -> Iterator[Path]:
    """All files under ``root`` in a stable order."""
    return iter(sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.as_posix()))


def write_zip(staging: Path, out: Path) -> None:
    """Write a byte-for-byte reproducible zip of ``staging``."""
    tmp = out.with_suffix(".zip.tmp")
    # Deflate level 1: ~38 MB instead of ~34 MB at level 6, in a third of the time (4.3 s -> 1.3 s
    # here, on every build); the code goes to Lambda through S3, far below its 250 MB limit.
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zf:
        for path in iter_files(staging):
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=FIXED_DATE)
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.compress_level = ZIP_LEVEL  # a hand-made ZipInfo ignores the ZipFile's level
            info.create_system = 3  # Unix, so the permissions above are honoured
            with path.open("rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    if out.is_file() and filecmp.cmp(tmp, out, shallow=False):
        tmp.unlink()  # same bytes: keep the old file and its mtime, so `make up` skips the apply
        return
    tmp.replace(out)


def tree_size(root: Path) -> int:
    """Total size of the files under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def mb(n: int) -> str:
    """Human-readable MB (10^6, as AWS states its limits)."""
    return f"{n / 1_000_000:.1f} MB"


def sha256_file(p: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def top_level_sizes(staging: Path, limit: int = 8) -> list[tuple[str, int]]:
    """Largest top-level entries, to show where the bytes are."""
    sizes = []
    for p in staging.iterdir():
        sizes.append((p.name, tree_size(p) if p.is_dir() else p.stat().st_size))
    return sorted(sizes, key=lambda t: -t[1])[:limit]


def build(out: Path = ZIP_PATH, max_unzipped: int = MAX_UNZIPPED_BYTES) -> BuildResult:
    """Build the zip and return its sizes; raise BuildError above the unzipped limit."""
    check_pins_agree()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    deps = dependencies()
    staging = Path(tempfile.mkdtemp(prefix="stage-", dir=BUILD_DIR)) / "root"
    try:
        stage(deps, staging)
        unzipped = tree_size(staging)
        files = sum(1 for _ in iter_files(staging))
        for name, size in top_level_sizes(staging):
            print(f"build_lambda:   {mb(size):>10}  {name}", flush=True)
        if unzipped > max_unzipped:
            raise BuildError(
                f"unzipped size {mb(unzipped)} exceeds the Lambda limit of {mb(max_unzipped)}: "
                "trim more in scripts/build_lambda.py or move pyarrow to a layer"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        write_zip(staging, out)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    return BuildResult(out, out.stat().st_size, unzipped, files, sha256_file(out))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: build, print sizes, exit non-zero with a clear message on failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--function", choices=sorted(FUNCTIONS), default="transformer", help="which Lambda"
    )
    parser.add_argument(
        "--out", type=Path, help="zip to write (default build/lambda/<function>.zip)"
    )
    parser.add_argument(
        "--max-unzipped-bytes",
        type=int,
        default=MAX_UNZIPPED_BYTES,
        help="fail above this unzipped size (default: the Lambda limit, 262144000)",
    )
    args = parser.parse_args(argv)
    select_function(args.function)
    try:
        result = build(args.out or ZIP_PATH, args.max_unzipped_bytes)
    except BuildError as exc:
        print(f"build_lambda: ERROR: {exc}", file=sys.stderr)
        return 1
    print(
        f"build_lambda: {result.zip_path.relative_to(REPO_ROOT) if result.zip_path.is_relative_to(REPO_ROOT) else result.zip_path}: "
        f"{mb(result.zipped_bytes)} zipped, {mb(result.unzipped_bytes)} unzipped "
        f"(limit {mb(args.max_unzipped_bytes)}), {result.files} files, sha256 {result.sha256[:16]}"
    )
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
