"""A generated repository to search: many small Python files, some JSON, a .gitignore.

    pkg_XX/sub_YY/mod_NNNNN.py   most files; every 10th is test_mod_NNNNN.py
    pkg_XX/sub_YY/data_NNNNN.json every 100th file
    build/                        ignored by .gitignore (it holds needles too)

`needle_<n>` appears in the files numbered 1 + a multiple of 10,007 (5 of 50,000).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NEEDLE_EVERY = 10_007
PER_DIR = 50
SUBDIRS = 20

PY = '''"""Module {n}: generated for the search benchmark."""

import os


class Widget{n}:
    """A widget."""

    def handle_{h}(self, value: int) -> int:
        total = value * {m}
        return total + len(os.sep)
'''
JSON = '{{"id": {n}, "name": "widget-{n}", "tags": ["a", "b"]}}\n'


@dataclass(frozen=True)
class Repo:
    root: Path
    files: int
    needles: int  # files holding a needle (outside build/)
    json_files: int


def file_name(n: int) -> str:
    if n % 100 == 0:
        return f"data_{n:05d}.json"
    return f"{'test_' if n % 10 == 0 else ''}mod_{n:05d}.py"


def generate(root: Path, files: int) -> Repo:
    """Write `files` files under root (fast: one open and write each)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("build/\n*.log\n")
    needles = json_files = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    folder = str(root)
    for n in range(files):
        if n % PER_DIR == 0:
            pkg, sub = n // (PER_DIR * SUBDIRS), (n // PER_DIR) % SUBDIRS
            folder = os.path.join(root, f"pkg_{pkg:02d}", f"sub_{sub:02d}")
            os.makedirs(folder, exist_ok=True)
        name = file_name(n)
        if name.endswith(".json"):
            text = JSON.format(n=n)
            json_files += 1
        else:
            text = PY.format(n=n, h=n % 97, m=n % 13)
            if n % NEEDLE_EVERY == 1:
                text += f"\nNEEDLE = 'needle_{n}'\n"
                needles += 1
        fd = os.open(os.path.join(folder, name), flags, 0o644)
        os.write(fd, text.encode())
        os.close(fd)
    build = root / "build"
    build.mkdir(exist_ok=True)
    for i in range(100):
        (build / f"gen_{i}.py").write_text(f"NEEDLE = 'needle_{i}'\n")
    return Repo(root, files, needles, json_files)
