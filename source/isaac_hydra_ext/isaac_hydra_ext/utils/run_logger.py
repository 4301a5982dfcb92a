"""Run logging: TensorBoard scalars, a console progress line and a machine-readable ``summary.json``."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import deque
from typing import Any


def write_json_atomic(path: str, data: dict[str, Any]) -> None:
    """Write JSON to ``path`` via a temp file and rename, so readers never see half a file.

    If that fails (a full disk, a directory that refuses new files), the partial temp file is removed and, when the
    new text fits in the disk blocks ``path`` already has, ``path`` is rewritten in place (that needs no new
    directory entry and no new block, so it cannot be torn by a full disk): a final status still lands. Otherwise,
    or if that fails too, the first ``OSError`` propagates and ``path`` is unchanged.
    """
    text = json.dumps(data, indent=2, sort_keys=True)
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:  # never created, or the directory refuses even that
            pass
        try:
            fits = len(text.encode()) <= os.stat(path).st_blocks * 512
            if not fits:
                raise exc
            with open(path, "r+") as f:
                f.write(text)
                f.truncate()
        except OSError:
            raise exc from None


class EpisodeWindow:
    """Returns and lengths of the last ``size`` finished episodes."""

    def __init__(self, size: int, returns: list[float] | None = None, lengths: list[int] | None = None):
        """Optionally start from a saved window (resume)."""
        self.returns: deque[float] = deque(returns or [], maxlen=size)
        self.lengths: deque[int] = deque(lengths or [], maxlen=size)
        self.total_episodes = 0

    def add(self, returns: list[float], lengths: list[int]) -> None:
        """Record finished episodes."""
        self.returns.extend(returns)
        self.lengths.extend(lengths)
        self.total_episodes += len(returns)

    @property
    def mean_return(self) -> float:
        """Mean return over the window (NaN before the first episode ends)."""
        return sum(self.returns) / len(self.returns) if self.returns else math.nan

    @property
    def mean_length(self) -> float:
        """Mean episode length over the window (NaN before the first episode ends)."""
        return sum(self.lengths) / len(self.lengths) if self.lengths else math.nan


class RunLogger:
    """Writes every scalar to TensorBoard and ``metrics.jsonl``, and prints a one-line progress report.

    TensorBoard's x axis is env steps; ``metrics.jsonl`` has one JSON object per logged iteration (a
    machine-readable learning curve).
    """

    def __init__(self, run_dir: str, tensorboard: bool, console: str, enabled: bool = True):
        """``enabled=False`` (non-zero ranks) writes nothing."""
        self.run_dir = run_dir
        self.console = console if enabled else "none"
        self.writer = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=run_dir, flush_secs=10)
        self.enabled = enabled
        self.started = time.time()
        self.metrics = open(os.path.join(run_dir, "metrics.jsonl"), "a") if enabled else None

    def scalars(self, values: dict[str, float], step: int, wall_time_s: float = 0.0) -> None:
        """Log each finite scalar under its key (TensorBoard and one ``metrics.jsonl`` line)."""
        finite = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}
        if self.metrics is not None:
            self.metrics.write(json.dumps({"env_steps": step, "wall_time_s": round(wall_time_s, 3), **finite}) + "\n")
            self.metrics.flush()
        if self.writer is None:
            return
        for key, value in finite.items():
            self.writer.add_scalar(key, value, step)

    def progress(self, line: str) -> None:
        """Print a progress line (flushed; stdout may be a pipe)."""
        if self.console != "none":
            print(line, flush=True)
            sys.stdout.flush()

    def summary(self, data: dict[str, Any]) -> None:
        """Rewrite ``summary.json`` in the run directory."""
        if self.enabled:
            write_json_atomic(os.path.join(self.run_dir, "summary.json"), data)

    def close(self) -> None:
        """Flush and close TensorBoard and ``metrics.jsonl``."""
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None
