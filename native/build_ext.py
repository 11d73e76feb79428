"""The setuptools build step for edge._ccodec that says when no compiler exists.

pyproject.toml points ``build_ext`` here. Before compiling, it looks for the
C compiler setuptools chose and, when there is none, stops the installation
with a message saying so, instead of a bare "command 'cc' failed".
"""

from __future__ import annotations

import shutil

from setuptools.command.build_ext import build_ext
from setuptools.errors import PlatformError

__all__ = ["CheckedBuildExt"]


class CheckedBuildExt(build_ext):
    """build_ext that fails with a clear message when no C compiler exists."""

    def build_extensions(self) -> None:
        command = getattr(self.compiler, "compiler_so", None)
        if command and shutil.which(command[0]) is None:
            raise PlatformError(
                "fleetlink needs a C compiler to build its CAN codec (edge._ccodec): "
                f"expected {command[0]!r} on PATH, found none. Install one "
                "(on Debian: apt-get install gcc) and install fleetlink again."
            )
        super().build_extensions()
