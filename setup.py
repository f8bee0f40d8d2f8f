"""Build the engine's two C parts: the step launcher (an extension module) and
the per-step supervisor ``_shim`` (a small program, see ``_shim.c``).

Everything else about the package lives in pyproject.toml.  Both are
optional: without a C compiler the engine falls back to ``unshare`` + ``sh``
(slower per step, same isolation), and without the shim a step does not
outlive its engine (a restarted engine ends it in Error), so an install never
fails for want of gcc.
"""

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SHIM_SOURCE = "src/clusterforge/engine/local/_shim.c"


class BuildWithShim(build_ext):
    """``build_ext`` that also links ``_shim`` next to the launcher extension."""

    def run(self) -> None:
        super().run()
        target = os.path.dirname(self.get_ext_fullpath("clusterforge.engine.local._spawn"))
        try:
            objects = self.compiler.compile(
                [SHIM_SOURCE], output_dir=self.build_temp, extra_postargs=["-O2", "-Wall"]
            )
            try:  # static: no dynamic loader to run for every step
                self.compiler.link_executable(
                    objects, "_shim", output_dir=target, extra_postargs=["-static"]
                )
            except Exception:  # noqa: BLE001 — no static libc: link dynamically
                self.compiler.link_executable(objects, "_shim", output_dir=target)
        except Exception as err:  # noqa: BLE001 — optional, like the extension
            print(f"warning: the step supervisor _shim was not built: {err}")


setup(
    cmdclass={"build_ext": BuildWithShim},
    ext_modules=[
        Extension(
            "clusterforge.engine.local._spawn",
            sources=["src/clusterforge/engine/local/_spawn.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ],
)
