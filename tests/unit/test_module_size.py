"""No module in ``videogen/`` over 400 lines: a longer one is doing more than one job."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def oversized_modules(package_dir: Path, limit: int = MAX_LINES) -> list[str]:
    """``"path: N lines"`` for every ``.py`` under ``package_dir`` longer than ``limit``, longest first."""
    sizes = []
    for path in package_dir.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            sizes.append((lines, path.relative_to(package_dir.parent).as_posix()))
    return [f"{name}: {lines} lines" for lines, name in sorted(sizes, key=lambda item: (-item[0], item[1]))]


def test_no_module_over_the_limit():
    offenders = oversized_modules(REPO / "videogen")
    assert not offenders, f"modules over {MAX_LINES} lines:\n  " + "\n  ".join(offenders)


def test_the_check_sees_the_real_tree():
    assert oversized_modules(REPO / "videogen", limit=0), "no modules found under videogen/"


def test_oversized_module_is_reported(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "ok.py").write_text("x = 1\n" * MAX_LINES)
    (package / "sub" / "big.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (package / "bigger.py").write_text("x = 1\n" * 900)
    assert oversized_modules(package) == ["pkg/bigger.py: 900 lines", f"pkg/sub/big.py: {MAX_LINES + 1} lines"]
