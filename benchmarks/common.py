"""Shared benchmark plumbing: machine and version facts, medians, and dated entries in docs/benchmarks.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"


def cpu_model() -> str:
    """The CPU's model name (Linux)."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpu_name() -> str:
    """The first CUDA device's name, or "none"."""
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except Exception:
        return "none"


def git_commit() -> str:
    """The checkout's commit (short), with "+dirty" when files changed; ``IHE_GIT_COMMIT`` overrides it (a copied
    tree whose ``.git`` is older than its files, as on the lent GPU machine)."""
    if os.environ.get("IHE_GIT_COMMIT"):
        return os.environ["IHE_GIT_COMMIT"]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return (commit or "unknown") + ("+dirty" if dirty else "")
    except Exception:
        return os.environ.get("IHE_GIT_COMMIT", "unknown")


def versions(*modules: str) -> dict[str, str]:
    """Versions of Python and the given importable modules."""
    out = {"python": platform.python_version()}
    from importlib.metadata import PackageNotFoundError, version

    dists = {"rsl_rl": "rsl-rl-lib"}
    for name in modules:
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", None) or version(dists.get(name, name))
        except (ImportError, PackageNotFoundError):
            out[name] = "not installed"
    return out


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    return {
        "cpu": cpu_model(),
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "gpu": gpu_name(),
        "host": platform.node(),
    }


def median(xs: list[float]) -> float:
    """Median (NaN for an empty list)."""
    return statistics.median(xs) if xs else float("nan")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def append_entry(
    section: str,
    title: str,
    body: str,
    command: str | None = None,
    modules=("torch",),
    doc: Path = DOC,
    measured: dict | None = None,
) -> str:
    """Append a dated entry under ``## <section>`` of docs/benchmarks.md (creating the section at the end).

    ``measured``: a result file's ``machine``/``versions``/``commit`` when the numbers come from another machine
    (the GPU machine); by default this machine's.
    """
    m = (measured or {}).get("machine") or machine()
    v = (measured or {}).get("versions") or versions(*modules)
    commit = (measured or {}).get("commit") or git_commit()
    command = command or " ".join([Path(sys.executable).name, *sys.argv])
    entry = (
        f"\n### {title} ({datetime.date.today().isoformat()})\n\n"
        f"Machine: {m['cpu']}, {m['cores']} cores, GPU {m['gpu']}. Versions: "
        + ", ".join(f"{k} {val}" for k, val in v.items())
        + f". Commit {commit}.\n\nCommand: `{command}`\n\n{body.strip()}\n"
    )
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    heading = f"## {section}"
    if heading not in text:
        text = text.rstrip() + f"\n\n{heading}\n"
        text += entry
    else:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        end = len(text) if nxt < 0 else nxt
        text = text[:end].rstrip() + "\n" + entry + text[end:]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
    return entry


def write_json(path: str | Path, data) -> None:
    """Write a result file (for the record, or to carry back from the GPU machine)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True))
