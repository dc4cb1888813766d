"""Build step of the grugan package beyond pyproject.toml: bundling libgrugan.

The library bundled into the package is GRUGAN_LIBRARY when that is set at build
time (an error if it is not a file), else the source tree's lib/libgrugan.so.0 when
`make` has built it; without either the package is pure Python and loads the
system's libgrugan.so.0 at run time.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
TREE_LIBRARY = os.path.join(HERE, "..", "lib", "libgrugan.so.0")


def library_to_bundle():
    """The path of the library to bundle, or None."""
    given = os.environ.get("GRUGAN_LIBRARY")
    if given:
        if not os.path.isfile(given):
            raise SystemExit(f"GRUGAN_LIBRARY={given} is not a file")
        return given
    return TREE_LIBRARY if os.path.isfile(TREE_LIBRARY) else None


class BuildWithLibrary(build_py):
    """build_py, then a copy of the library (symbolic links followed) beside the code."""

    def run(self):
        super().run()
        source = library_to_bundle()
        if source is None:
            print("grugan: no libgrugan.so.0 to bundle (run make first, or set "
                  "GRUGAN_LIBRARY): the package will load the system's library")
            return
        target = os.path.join(self.build_lib, "grugan", "libgrugan.so.0")
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        print(f"grugan: bundled {os.path.realpath(source)}")


class Binary(Distribution):
    """A platform wheel when it carries the compiled library, a pure one otherwise."""

    def has_ext_modules(self):
        return library_to_bundle() is not None


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=Binary)
