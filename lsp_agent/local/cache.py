"""The GGUF models in the Hugging Face cache, read with the standard library.

The layout is huggingface_hub's: `HUB/models--ORG--NAME/snapshots/REVISION/FILE`, each file
a symlink to `../../blobs/HASH` (a plain copy where symlinks are not allowed). Listing and
removing models does not need huggingface_hub installed; pulling does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def hub_cache(environ: Mapping[str, str] | None = None) -> Path:
    """Where huggingface_hub keeps downloads, by the same variables it reads."""
    env = os.environ if environ is None else environ
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(key):
            return Path(env[key]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    xdg = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(xdg).expanduser() / "huggingface" / "hub"


@dataclass(frozen=True)
class CachedModel:
    repo: str  # ORG/NAME
    file: str  # the path inside the repo
    path: Path  # the snapshot's entry
    size: int

    @property
    def ref(self) -> str:
        return f"{self.repo}:{self.file}"


def list_models(hub: Path | None = None) -> list[CachedModel]:
    """Every cached GGUF, newest snapshot of each file only, sorted by reference."""
    hub = hub or hub_cache()
    found: dict[str, CachedModel] = {}
    for repo_dir in sorted(hub.glob("models--*")):
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        snapshots = sorted(
            (d for d in (repo_dir / "snapshots").glob("*") if d.is_dir()),
            key=lambda d: d.stat().st_mtime,
        )
        for snap in snapshots:  # newest last, so it wins
            for entry in snap.rglob("*.gguf"):
                try:
                    size = entry.stat().st_size  # follows the link; a dangling one is skipped
                except OSError:
                    continue
                model = CachedModel(repo, entry.relative_to(snap).as_posix(), entry, size)
                found[model.ref] = model
    return sorted(found.values(), key=lambda m: m.ref)


class NotCached(LookupError):
    """No cached model (or more than one) matches; the message names the choices."""


def find_model(ref: str, hub: Path | None = None) -> CachedModel:
    """A cached model by `REPO:FILE`, `REPO` (if it holds one GGUF) or `FILE`."""
    models = list_models(hub)
    repo, _, file = ref.partition(":") if ":" in ref else ("", "", ref)
    if not repo and "/" in ref and not ref.endswith(".gguf"):
        repo, file = ref, ""
    matches = [
        m
        for m in models
        if (not repo or m.repo == repo) and (not file or file in (m.file, Path(m.file).name))
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotCached(
            f"no cached model matches {ref!r}: see `lsp-agent models list`, or "
            f"`lsp-agent models pull {ref if repo else 'REPO:FILE'}`"
        )
    names = ", ".join(m.ref for m in matches)
    raise NotCached(f"{ref!r} matches {len(matches)} cached models ({names}): name one")


def remove_model(model: CachedModel, hub: Path | None = None) -> list[Path]:
    """Delete a cached file: its snapshot entry, its blob unless another entry links to it,
    and the repository's folder when nothing is left. Returns what was deleted."""
    hub = hub or hub_cache()
    repo_dir = hub / ("models--" + model.repo.replace("/", "--"))
    deleted: list[Path] = []
    blob = model.path.resolve() if model.path.is_symlink() else None
    for snap in (repo_dir / "snapshots").glob("*"):
        entry = snap / model.file
        if entry.is_symlink() or entry.exists():
            entry.unlink()
            deleted.append(entry)
    if blob is not None and blob.exists() and not _linked(repo_dir, blob):
        blob.unlink()
        deleted.append(blob)
    if not any(p.is_file() or p.is_symlink() for p in (repo_dir / "snapshots").rglob("*")):
        shutil.rmtree(repo_dir, ignore_errors=True)
        deleted.append(repo_dir)
    return deleted


def _linked(repo_dir: Path, blob: Path) -> bool:
    for entry in (repo_dir / "snapshots").rglob("*"):
        if entry.is_symlink() and entry.resolve() == blob:
            return True
    return False
