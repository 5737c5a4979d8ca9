"""The Lambda zip build: content, trimming, reproducibility and the 250 MB limit.

Uses the real build (uv, or pip, for the Lambda platform, cached under build/lambda/cache),
writing into a temporary directory so the deployable build/lambda/transformer.zip is left alone.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("build_lambda", ROOT / "scripts" / "build_lambda.py")
assert spec and spec.loader
build_lambda = importlib.util.module_from_spec(spec)
sys.modules["build_lambda"] = build_lambda
spec.loader.exec_module(build_lambda)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> build_lambda.BuildResult:
    return build_lambda.build(tmp_path_factory.mktemp("zip") / "transformer.zip")


def test_zip_carries_code_and_trimmed_pyarrow(built: build_lambda.BuildResult) -> None:
    names = set(zipfile.ZipFile(built.zip_path).namelist())
    assert "transformer/__init__.py" in names
    assert "clickstream_common/schema.py" in names
    assert "pyarrow/parquet/__init__.py" in names
    assert "pyarrow/lib.cpython-313-x86_64-linux-gnu.so" in names, "cp313 manylinux wheel expected"
    assert any(n.startswith("pyarrow/libparquet.so.") for n in names)
    # trimmed: tests, headers, Cython sources, Flight, pyarrow's S3 filesystem
    assert not any(n.startswith(("pyarrow/tests/", "pyarrow/include/")) for n in names)
    assert not any(n.endswith((".pyx", ".pxd", ".h")) for n in names)
    assert not any("flight" in n or "libarrow_s3" in n for n in names)
    # boto3 comes from the Lambda runtime
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)


def test_zip_is_within_lambda_limit_and_sizes_are_reported(built: build_lambda.BuildResult) -> None:
    assert 0 < built.unzipped_bytes <= build_lambda.MAX_UNZIPPED_BYTES
    assert built.zipped_bytes < built.unzipped_bytes
    with zipfile.ZipFile(built.zip_path) as zf:
        assert sum(i.file_size for i in zf.infolist()) == built.unzipped_bytes


def test_rebuild_is_byte_identical(built: build_lambda.BuildResult, tmp_path: Path) -> None:
    again = build_lambda.build(tmp_path / "again.zip")
    assert again.sha256 == built.sha256


def test_entries_are_sorted_with_fixed_timestamps(built: build_lambda.BuildResult) -> None:
    infos = zipfile.ZipFile(built.zip_path).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {build_lambda.FIXED_DATE}


def test_every_pyc_is_hash_based(built: build_lambda.BuildResult) -> None:
    """Timestamp-based .pyc carry the build's mtimes and paths: the zip would differ per build."""
    with zipfile.ZipFile(built.zip_path) as zf:
        flags = {
            name: struct.unpack("<I", zf.read(name)[4:8])[0]
            for name in zf.namelist()
            if name.endswith(".pyc")
        }
    assert flags and {n: f for n, f in flags.items() if f != 3} == {}  # 3 = checked hash


@pytest.mark.slow
def test_uv_and_pip_builds_are_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each installer in its own dependency cache: the zip does not depend on who installed."""
    shas = {}
    for installer in ("uv", "pip"):
        monkeypatch.setenv("CLICKSTREAM_INSTALLER", installer)
        monkeypatch.setattr(build_lambda, "BUILD_DIR", tmp_path / installer)
        shas[installer] = build_lambda.build(tmp_path / f"{installer}.zip").sha256
    assert shas["uv"] == shas["pip"]


def test_build_fails_clearly_above_the_unzipped_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "too-big.zip"
    rc = build_lambda.main(["--out", str(out), "--max-unzipped-bytes", "1000000"])
    assert rc == 1
    assert "exceeds the Lambda limit" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("libarrow.so.2600", True),
        ("libarrow_python.so.2600", True),
        ("libarrow_python.so", False),
        ("libarrow_python.so.2600.1.0", False),
    ],
)
def test_only_sonames_of_bundled_libraries_are_kept(name: str, expected: bool) -> None:
    assert build_lambda._is_soname(Path(name)) is expected


def test_lambda_and_dev_pyarrow_pins_agree() -> None:
    lam = build_lambda.pinned_version(build_lambda.LOCK_FILE, "pyarrow")
    dev = build_lambda.pinned_version(build_lambda.DEV_LOCK_FILE, "pyarrow")
    assert lam is not None and lam == dev


def test_arrow_so_version_is_read_from_the_wheel(tmp_path: Path) -> None:
    pa = tmp_path / "pyarrow"
    pa.mkdir()
    for name in ("libarrow.so", "libarrow.so.2700", "libarrow.so.2700.0.0", "libparquet.so.2700"):
        (pa / name).touch()
    assert build_lambda.arrow_so_version(tmp_path) == "2700"


def test_trim_fails_when_a_named_library_is_missing(tmp_path: Path) -> None:
    """A pyarrow upgrade that renames a trimmed library stops the build, not the trim."""
    pa = tmp_path / "pyarrow"
    pa.mkdir()
    (pa / "libarrow.so.2700").touch()
    (pa / "libarrow_s3.so.2700").touch()  # libarrow_flight.so.2700 is absent
    with pytest.raises(build_lambda.BuildError, match=r"libarrow_flight\.so\.2700"):
        build_lambda.trim(tmp_path)


def test_the_compactor_zip_runs_the_tests_pins_and_imports_duckdb() -> None:
    """`--function compactor` builds from requirements/compactor.txt (pyarrow + DuckDB): both must
    be the versions the tests run (`make up` builds and deploys that zip; the e2e suite runs it)."""
    compactor = build_lambda.FUNCTIONS["compactor"]
    lock = compactor["LOCK_FILE"]
    for package in ("pyarrow", "duckdb"):
        pin = build_lambda.pinned_version(lock, package)
        assert pin is not None and pin == build_lambda.pinned_version(
            build_lambda.DEV_LOCK_FILE, package
        )
    assert "duckdb" in compactor["REQUIRED_IMPORTS"]
    assert set(compactor["PACKAGES"]) == {"compactor", "transformer", "clickstream_common"}
