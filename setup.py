"""Build the one C extension: the step launcher of the local engine.

Everything else about the package lives in pyproject.toml.  The extension is
optional: without a C compiler the engine falls back to ``unshare`` + ``sh``
(slower per step, same isolation), so an install never fails for want of gcc.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "clusterforge.engine.local._spawn",
            sources=["src/clusterforge/engine/local/_spawn.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
