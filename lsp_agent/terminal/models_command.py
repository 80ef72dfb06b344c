"""`lsp-agent models list [--recommended] | pull REPO[:FILE] | rm MODEL`."""

from __future__ import annotations

import argparse
import sys

from lsp_agent.cli import EXIT_ERROR, EXIT_OK, fail
from lsp_agent.local import cache
from lsp_agent.local.pull import RECOMMENDED, PullError, parse_ref, pull


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help="list, pull or remove local GGUF models")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the cached models (in the Hugging Face cache)")
    listing.add_argument(
        "--recommended", action="store_true", help="a short list of coding models to pull"
    )
    get = actions.add_parser("pull", help="download a GGUF from Hugging Face")
    get.add_argument("ref", metavar="REPO[:FILE]", help="e.g. Qwen/Qwen2.5-Coder-3B-Instruct-GGUF")
    get.add_argument("--revision", metavar="REV", help="a branch, tag or commit")
    remove = actions.add_parser("rm", help="delete a cached model")
    remove.add_argument("ref", metavar="MODEL", help="REPO:FILE, or FILE (see models list)")


def main(args: argparse.Namespace) -> int:
    if args.action == "list":
        return recommended() if args.recommended else listing()
    if args.action == "pull":
        return _pull(args.ref, args.revision)
    return _remove(args.ref)


def _mib(size: float) -> str:
    return f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size / (1 << 20):.0f} MiB"


def listing() -> int:
    hub = cache.hub_cache()
    models = cache.list_models(hub)
    if not models:
        print(
            f"no models in {hub}: pull one with `lsp-agent models pull REPO:FILE` "
            "(see `lsp-agent models list --recommended`)",
            file=sys.stderr,
        )
        return EXIT_OK
    for m in models:
        print(f"{m.ref}  {_mib(m.size)}")
    print(f"{len(models)} model(s) in {hub}; use one with --model local:FILE", file=sys.stderr)
    return EXIT_OK


def recommended() -> int:
    width = max(len(r.ref) for r in RECOMMENDED)
    for r in RECOMMENDED:
        print(f"{r.ref:<{width}}  ~{r.size_gb:.1f} GB  {r.note}")
    print("pull one with `lsp-agent models pull REPO:FILE`", file=sys.stderr)
    return EXIT_OK


def _pull(ref: str, revision: str | None) -> int:
    try:
        parse_ref(ref)
    except PullError as e:
        return fail(str(e))
    try:
        path = pull(ref, revision)
    except PullError as e:
        return fail(str(e), EXIT_ERROR)
    except KeyboardInterrupt:
        return fail("cancelled; run the same command again to resume", 130)
    print(path)
    print(f"run it with: lsp-agent run PROMPT --model local:{path.name}", file=sys.stderr)
    return EXIT_OK


def _remove(ref: str) -> int:
    hub = cache.hub_cache()
    try:
        model = cache.find_model(ref, hub)
    except cache.NotCached as e:
        return fail(str(e))
    cache.remove_model(model, hub)
    print(f"removed {model.ref} ({_mib(model.size)})")
    return EXIT_OK
