"""The C unit tests and fuzzer of native/ pass, plain and under the sanitizers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parents[2] / "native"

needs_toolchain = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("cc") is None,
    reason="make and a C compiler are needed to build native/",
)


def run_make(target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(NATIVE), target],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@needs_toolchain
@pytest.mark.parametrize("target", ["test", "sanitize"])
def test_c_suite_passes_without_warnings(target: str) -> None:
    result = run_make(target)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower()
    assert any(line.endswith(" passed, 0 failed") for line in output.splitlines())
