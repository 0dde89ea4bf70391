"""Build the project's sdist and wheel once per test session, the way a release would.

``python -m build`` makes the sdist from a copy of the source tree and then the wheel *from the sdist*, so
a file the sdist forgets is missing from the wheel too. When ``build`` is not importable here, a small venv
in the temporary folder gets it (from pip's cache after the first time). The copy keeps the build from
writing ``*.egg-info`` or ``build/`` into the work tree that other processes are using.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Never part of a build: venvs, VCS data, caches, earlier build output.
_IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    "build",
    "dist",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "artifacts",
    "node_modules",
    "results",  # benchmarks/results: run output, not source
    "site",  # a built docs site
)


@dataclass(frozen=True)
class Distributions:
    """The built files.

    :param wheel: The ``.whl``.
    :param sdist: The ``.tar.gz``.
    """

    wheel: Path
    sdist: Path


_built: dict[str, Distributions] = {}


def _python_with_build(workdir: Path) -> Path:
    try:
        import build  # noqa: F401

        return Path(sys.executable)
    except ImportError:
        pass
    tools = workdir / "build-venv"
    venv.EnvBuilder(with_pip=True).create(tools)
    python = tools / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "build"], check=True, timeout=600)
    return python


def build_distributions(workdir: Path) -> Distributions:
    """The sdist and the wheel of the current source tree (built once per session, then reused).

    :param workdir: An empty folder for the copy, the build tools and the output.
    """
    if "built" in _built:
        return _built["built"]
    source = workdir / "source"
    shutil.copytree(ROOT, source, ignore=_IGNORED)
    out = workdir / "dist"
    python = _python_with_build(workdir)
    done = subprocess.run(
        [str(python), "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    _built["built"] = Distributions(wheel=wheels[0], sdist=sdists[0])
    return _built["built"]
