"""Where the grammar and templates are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`grammar` or `templates`: inside the wheel they live in compiler/_data/,
    in a checkout at the top of the repository."""
    installed = _HERE / "_data" / name
    if installed.is_dir():
        return installed
    return _HERE.parent / name


def grammar_path() -> Path:
    return data_dir("grammar") / "mlx.lark"


def templates_dir() -> Path:
    return data_dir("templates")
