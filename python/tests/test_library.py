"""Finding and loading the library, the version check, and the pip installation."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import grugan
from grugan import _library

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, env):
    """Runs code in a fresh interpreter with `env` added to the environment."""
    full = dict(os.environ, PYTHONPATH=PYTHON_DIR, **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True)


def test_version_check_refuses_other_majors_and_older_minors():
    assert _library.check_version(100, "lib") == 100
    assert _library.check_version(199, "lib") == 199
    with pytest.raises(grugan.LibraryError, match=r"is libgrugan 1\.0\.0; this package needs 0\.1\.0"):
        _library.check_version(10000, "lib")
    with pytest.raises(grugan.LibraryError, match=r"libgrugan 0\.0\.9"):
        _library.check_version(9, "lib")


def test_the_loaded_library_is_the_one_given():
    path = grugan.library_path()
    assert os.path.exists(path)
    if os.environ.get("GRUGAN_LIBRARY"):
        assert path == os.environ["GRUGAN_LIBRARY"]
    assert grugan.load_library(path) == path  # the same library again: fine


def test_a_second_library_is_refused(tmp_path):
    other = tmp_path / "libgrugan.so.0"
    shutil.copyfile(os.path.realpath(grugan.library_path()), other)
    with pytest.raises(grugan.LibraryError, match="already loaded"):
        grugan.load_library(str(other))


def test_an_explicit_path_that_fails_is_an_error_naming_it(tmp_path):
    missing = str(tmp_path / "nothing.so")
    r = run_python("import grugan; grugan.version()", {"GRUGAN_LIBRARY": missing})
    assert r.returncode != 0
    assert "LibraryError: cannot load libgrugan from " + missing in r.stderr
    r = run_python(f"import grugan; grugan.load_library({missing!r})", {})
    assert "LibraryError: cannot load libgrugan from " + missing in r.stderr


def test_importing_does_not_load_the_library(tmp_path):
    r = run_python("import grugan; print(grugan._library._loaded is None)",
                   {"GRUGAN_LIBRARY": str(tmp_path / "nothing.so")})
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr


def pip_target(tmp_path, root):
    """A copy of python/ beside a link to the built lib/, installed with pip into a
    throwaway venv (python3-venv) or, without venv, a --target directory: returns
    (python, extra environment)."""
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, src / "python",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    (src / "lib").mkdir()
    shutil.copyfile(os.path.realpath(os.path.join(root, "lib", "libgrugan.so.0")),
                    src / "lib" / "libgrugan.so.0")
    flags = ["--no-build-isolation", "--no-index", "--quiet", str(src / "python")]
    env = {k: v for k, v in os.environ.items() if k not in ("GRUGAN_LIBRARY", "PYTHONPATH")}
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                          capture_output=True, text=True, env=env)
    if made.returncode == 0:
        python = str(venv / "bin" / "python")
        r = subprocess.run([python, "-m", "pip", "install"] + flags, capture_output=True,
                           text=True, env=env, cwd=tmp_path)
        return python, env, r
    target = tmp_path / "target"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                        str(target)] + flags, capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    return sys.executable, dict(env, PYTHONPATH=str(target)), r


def test_pip_installs_the_package_with_the_library_bundled(tmp_path, root):
    missing = [m for m in ("pip", "setuptools", "wheel") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip installation not tested")
    python, env, r = pip_target(tmp_path, root)
    assert r.returncode == 0, r.stdout + r.stderr
    code = ("import grugan, os; g = grugan.Generator.create(2, 3, seed=4); "
            "print(os.path.basename(os.path.dirname(grugan.library_path())), "
            "g.sample(2, 5, seed=1).shape)")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["grugan", "(2,", "5,", "3)"]
