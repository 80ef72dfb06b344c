"""`schemas/` is generated from the protocol's pydantic models and must be current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def check(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_agent", "schema", "--check", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_schemas_are_current() -> None:
    result = check(ROOT / "schemas")
    assert result.returncode == 0, (
        f"{result.stderr}\nRegenerate them: lsp-agent schema --out schemas"
    )


@pytest.mark.parametrize("damage", ["edited", "missing", "obsolete"])
def test_the_check_notices_stale_files(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", out)
    target = out / "methods" / "agent.session.prompt.params.json"
    if damage == "edited":
        target.write_text(target.read_text().replace('"sessionId"', '"sessionID"', 1))
    elif damage == "missing":
        target.unlink()
    else:
        (out / "updates" / "removed_update.json").write_text("{}\n")
    result = check(out)
    assert result.returncode != 0
    assert "stale" in result.stderr
    name = "updates/removed_update.json" if damage == "obsolete" else target.name
    assert name in result.stderr
