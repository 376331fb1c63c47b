"""Atomic file writes: a reader, or a run killed at any moment, sees the old file or the new one, never half of one."""

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Calls write(tmp) on a temporary name beside `path`, then moves it into place; no temporary is left behind."""
    path = Path(path)
    tmp = path.with_name(f".tmp.{os.getpid()}.{path.name}")  # keeps the suffix Keras checks (.keras, .weights.h5)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))
