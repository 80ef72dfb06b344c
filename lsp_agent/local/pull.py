"""Download a GGUF from Hugging Face into its cache (`lsp-agent models pull REPO[:FILE]`).

huggingface_hub does the download, so HF_ENDPOINT (a mirror), HF_HOME / HF_HUB_CACHE
(where), HF_TOKEN (gated models) and its progress bar all behave as they do elsewhere.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFERRED_QUANTS = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "Q8_0")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
_SPLIT = re.compile(r"-\d{5}-of-\d{5}\.gguf$")


@dataclass(frozen=True)
class Recommended:
    ref: str  # REPO:FILE
    size_gb: float  # about
    note: str


RECOMMENDED = [
    Recommended(
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF:qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        0.4,
        "tiny, for trying it out; tool calls work, answers are weak",
    ),
    Recommended(
        "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        1.1,
        "laptop CPU, small edits",
    ),
    Recommended(
        "Qwen/Qwen2.5-Coder-3B-Instruct-GGUF:qwen2.5-coder-3b-instruct-q4_k_m.gguf",
        2.1,
        "laptop CPU, a good first choice",
    ),
    Recommended(
        "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF:Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf",
        4.7,
        "16 GB of RAM or a GPU; the best of these at code",
    ),
    Recommended(
        "bartowski/Llama-3.2-3B-Instruct-GGUF:Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2.0,
        "general purpose, Llama 3 template",
    ),
    Recommended(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF:smollm2-1.7b-instruct-q4_k_m.gguf",
        1.1,
        "small and fast, ChatML template",
    ),
]


class PullError(Exception):
    """The download cannot start or failed; the message says why and what to do."""


def parse_ref(ref: str) -> tuple[str, str | None]:
    repo, _, file = ref.partition(":")
    if not _REPO.match(repo):
        raise PullError(f"{ref!r} is not REPO[:FILE]: a repository looks like ORG/NAME")
    if file and not file.endswith(".gguf"):
        raise PullError(f"{file!r} is not a .gguf file: name the GGUF file after the colon")
    return repo, file or None


def pick_file(files: list[str], repo: str) -> str:
    """The GGUF to fetch from a repository's file list: the only one, else a Q4_K_M-like
    quant; split files and multimodal projectors are never picked."""
    ggufs = [f for f in files if f.endswith(".gguf") and not _SPLIT.search(f)]
    ggufs = [f for f in ggufs if "mmproj" not in f.lower()]
    if len(ggufs) == 1:
        return ggufs[0]
    for quant in PREFERRED_QUANTS:
        hits = [f for f in ggufs if quant.lower() in f.lower()]
        if hits:
            return sorted(hits, key=len)[0]
    if not ggufs:
        raise PullError(f"{repo} has no single-file GGUF model to pull")
    shown = ", ".join(ggufs[:10])
    raise PullError(f"{repo} has several GGUF files ({shown}): pull {repo}:FILE")


def _bar() -> dict[str, Any]:
    """A progress bar on stderr even when it is not a terminal (huggingface_hub's own one
    only shows on a terminal), unless HF_HUB_DISABLE_PROGRESS_BARS is set."""
    import huggingface_hub
    from tqdm import tqdm

    params = inspect.signature(huggingface_hub.hf_hub_download).parameters
    if "tqdm_class" not in params or os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS"):
        return {}
    return {"tqdm_class": tqdm}


def _cached_file(repo: str) -> str | None:
    """The file already pulled from this repository, if it is the only one (no network)."""
    from lsp_agent.local.cache import list_models

    files = [m.file for m in list_models() if m.repo == repo]
    return files[0] if len(files) == 1 else None


def pull(ref: str, revision: str | None = None) -> Path:
    """Download (or find already cached) one GGUF; its path in the cache."""
    repo, file = parse_ref(ref)
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:
        raise PullError(
            "pulling models needs huggingface_hub: pip install 'lsp-agent[local]'"
        ) from None
    try:
        if file is None:
            file = _cached_file(repo) or pick_file(
                list(huggingface_hub.list_repo_files(repo, revision=revision)), repo
            )
        path = huggingface_hub.hf_hub_download(repo, file, revision=revision, **_bar())
    except errors.GatedRepoError:
        raise PullError(f"{repo} is gated: accept its licence, then export HF_TOKEN") from None
    except errors.RepositoryNotFoundError:
        raise PullError(
            f"no repository {repo} (or it is private: log in with `hf auth login` or export "
            "HF_TOKEN)"
        ) from None
    except errors.RevisionNotFoundError:
        raise PullError(f"{repo} has no revision {revision!r}") from None
    except errors.LocalEntryNotFoundError as e:  # offline, or the endpoint is unreachable
        raise PullError(f"cannot download {repo}:{file}: {e} (is HF_ENDPOINT right?)") from None
    except errors.EntryNotFoundError:
        raise PullError(f"{repo} has no file {file}: check the name on its Files page") from None
    except Exception as e:  # network errors come as httpx's or httpx2's, by version
        what = f"{repo}:{file}" if file else repo
        raise PullError(
            f"cannot download {what}: {e.__class__.__name__}: {e} (offline? HF_ENDPOINT?)"
        ) from None
    return Path(path)
