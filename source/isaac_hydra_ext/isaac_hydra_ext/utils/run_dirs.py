"""Run directories and finding checkpoints: the one place that knows the layout on disk.

Layout::

    <output_dir>/<name>/<timestamp>[_<run_name>][_<n>]/model_<iteration>.pt

``<timestamp>`` is :data:`TIMESTAMP_FORMAT` (``2026-01-31_13-05-09``); ``_<n>`` (``_1``, ``_2``, ...) is added only
when another run already took the name in the same second (:func:`create_run_dir`). Hydra sweeps write
``<output_dir>/<name>/multirun_<timestamp>/<job number>/``; every search here is recursive, so those are found too.

Entry points:

* :func:`create_run_dir` makes a fresh run directory (exclusively, safe across concurrent processes);
* :func:`remove_unused_run_dir` removes it again when the run fails before writing anything of value;
* :func:`resolve_checkpoint` turns a user's ``checkpoint`` value (``""``, ``latest``, a file, a directory) into a
  file path, with :class:`~isaac_hydra_ext.utils.checkpoint.CheckpointError` naming what was searched;
* :func:`latest_checkpoint` is the newest checkpoint below a directory, by time written.

Paths are never passed to :mod:`glob`, so names with ``[``, ``*`` or ``?`` (``exp_[64,64]``) work.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable

from .checkpoint import CheckpointError, checkpoint_iteration

TIMESTAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"
"""``strftime`` format of the timestamp that starts every run directory name."""

_MAX_SUFFIX = 10000
"""How many ``_<n>`` suffixes :func:`create_run_dir` tries before giving up."""


class RunDirError(ValueError):
    """A name cannot be used for a run directory, or no fresh run directory could be made; one line says why."""


def validate_name(value: str, what: str = "experiment.name", *, allow_empty: bool = False) -> str:
    """Return ``value`` if it is a usable single directory name, else raise :class:`RunDirError`.

    A name must be one path component: non-empty (unless ``allow_empty``), not ``.`` or ``..``, without ``/``
    (or the platform's other separator) and without NUL, so ``<output_dir>/<name>`` cannot leave ``output_dir``.
    ``what`` names the option in the message (``experiment.name``, ``run_name``).
    """
    if not isinstance(value, str):
        raise RunDirError(f"{what}={value!r} must be a string (a single directory name such as 'go1_flat')")
    if value == "" and allow_empty:
        return value
    separators = [s for s in (os.sep, os.altsep, "/") if s]
    reason = ""
    if value == "":
        reason = "it is empty"
    elif value in (".", ".."):
        reason = f"{value!r} refers to a directory, not a new name"
    elif any(s in value for s in separators):
        reason = "it contains a path separator"
    elif "\0" in value:
        reason = "it contains a NUL character"
    if reason:
        raise RunDirError(
            f"{what}={value!r} is not a valid directory name ({reason}): use one non-empty path component, "
            "not '.' or '..' and without '/', e.g. 'go1_flat'"
        )
    return value


def experiment_dir(output_dir: str, name: str) -> str:
    """``<output_dir>/<name>`` as an absolute path, after :func:`validate_name` on ``name``."""
    validate_name(name, "experiment.name")
    return os.path.abspath(os.path.join(output_dir, name))


def run_dir_name(now: datetime.datetime | None = None, run_name: str = "") -> str:
    """The base name of a run directory: ``<timestamp>[_<run_name>]`` (``now`` defaults to the current time)."""
    validate_name(run_name, "run_name", allow_empty=True)
    timestamp = (now or datetime.datetime.now()).strftime(TIMESTAMP_FORMAT)
    return f"{timestamp}_{run_name}" if run_name else timestamp


def create_run_dir(output_dir: str, name: str, run_name: str = "", now: datetime.datetime | None = None) -> str:
    """Create and return a fresh run directory ``<output_dir>/<name>/<timestamp>[_<run_name>][_<n>]`` (absolute).

    The directory is made with ``os.mkdir`` (never ``exist_ok``): if the name is taken (two runs started in the
    same second, e.g. a job array), ``_1``, ``_2``, ... is appended until a new directory is made, so concurrent
    processes always get distinct directories. Parents are created as needed. Raises :class:`RunDirError` for a
    bad ``name``/``run_name``; other ``OSError`` (permissions, a file where a directory should be) propagate.
    """
    parent = experiment_dir(output_dir, name)
    base = os.path.join(parent, run_dir_name(now, run_name))
    suffix = 0
    parent_retries = 0
    while suffix < _MAX_SUFFIX:
        path = base if suffix == 0 else f"{base}_{suffix}"
        try:
            os.makedirs(parent, exist_ok=True)
            os.mkdir(path)
            return path
        except FileExistsError:
            suffix += 1
        except FileNotFoundError:  # the empty parent was removed meanwhile (remove_unused_run_dir): make it again
            parent_retries += 1
            if parent_retries > 100:
                raise
    raise RunDirError(f"could not create a fresh run directory: {base} and {_MAX_SUFFIX - 1} suffixed names are taken")


def remove_unused_run_dir(run_dir: str, written: Iterable[str] = (), *, remove_empty_parent: bool = True) -> bool:
    """Remove ``run_dir`` if it holds nothing but the files in ``written`` and empty directories; say if it is gone.

    For a run that fails before training (e.g. config validation), so no run directory is left behind.
    ``written`` are paths relative to ``run_dir`` of files this process wrote itself (``config.yaml``,
    ``.hydra/config.yaml``). If anything else is inside (a checkpoint, a file of another process, a symlink not
    in ``written``), nothing is deleted and ``False`` is returned. With ``remove_empty_parent`` the experiment
    directory ``<output_dir>/<name>`` is removed too when that leaves it empty. ``True`` if ``run_dir`` is gone
    (also when it did not exist).
    """
    if not os.path.lexists(run_dir):
        return True
    if os.path.islink(run_dir) or not os.path.isdir(run_dir):
        return False
    allowed = {os.path.normpath(p) for p in written}
    files: list[str] = []
    dirs: list[str] = []
    for root, dirnames, filenames in os.walk(run_dir):
        dirs.append(root)
        for entry in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(root, d)))]:
            full = os.path.join(root, entry)
            if os.path.relpath(full, run_dir) not in allowed:
                return False
            files.append(full)
    try:
        for path in files:
            os.unlink(path)
        for path in sorted(dirs, key=len, reverse=True):  # children before parents
            os.rmdir(path)
    except OSError:  # something appeared meanwhile: leave the rest
        return False
    if remove_empty_parent:
        try:
            os.rmdir(os.path.dirname(os.path.abspath(run_dir)))
        except OSError:  # not empty (other runs), or gone already
            pass
    return True


def _checkpoints_below(directory: str, exclude_dir: str | None) -> list[tuple[int, int, str]]:
    """``(mtime_ns, iteration, path)`` of every ``model_<iteration>.pt`` at or below ``directory``.

    Symlinked directories are not followed; ``exclude_dir`` and everything below it is skipped.
    """
    excluded = os.path.realpath(exclude_dir) if exclude_dir else None
    found: list[tuple[int, int, str]] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        if excluded is not None and os.path.realpath(current) == excluded:
            continue
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif checkpoint_iteration(entry.name) >= 0 and entry.is_file():
                            found.append((entry.stat().st_mtime_ns, checkpoint_iteration(entry.name), entry.path))
                    except OSError:  # removed meanwhile (pruning by a running job), or unreadable
                        continue
        except OSError:  # not a directory, gone, or unreadable
            continue
    return found


def latest_checkpoint(directory: str, exclude_dir: str | None = None) -> str | None:
    """The newest ``model_<iteration>.pt`` at or below ``directory``, by time written; ``None`` if there is none.

    "Newest" is the file's modification time (checkpoints are written atomically, so it is when the save
    finished), ties broken by the higher iteration. The search is recursive, so single runs and Hydra sweep
    jobs (``multirun_<timestamp>/<n>/``) compete on the same footing, whatever their directory names.
    ``exclude_dir`` (e.g. the directory of the run that is starting) and its subdirectories are skipped.
    """
    found = _checkpoints_below(directory, exclude_dir)
    return max(found)[2] if found else None


def resolve_checkpoint(
    spec: str | None,
    output_dir: str,
    name: str,
    exclude_dir: str | None = None,
    *,
    option: str = "checkpoint",
) -> str | None:
    """Turn a ``checkpoint`` value into the absolute path of a checkpoint file (``None`` for ``""``/``None``).

    * ``""`` or ``None``: no checkpoint, ``None``;
    * ``latest``: :func:`latest_checkpoint` of ``<output_dir>/<name>`` (all runs and sweep jobs of the
      experiment), skipping ``exclude_dir``;
    * a directory (a run, a sweep, an experiment): :func:`latest_checkpoint` below it;
    * anything else: a file path (``~`` expanded, made absolute), which must exist.

    Raises :class:`CheckpointError` naming the directory searched or the missing file, and :class:`RunDirError`
    for a bad ``name`` with ``latest``. ``option`` is the option's name for messages (``checkpoint.resume``).
    Whether the file is a valid checkpoint is :func:`~isaac_hydra_ext.utils.checkpoint.load_checkpoint`'s job.
    """
    if spec is None or spec == "":
        return None
    if spec == "latest":
        root = experiment_dir(output_dir, name)
        path = latest_checkpoint(root, exclude_dir=exclude_dir)
        if path is None:
            why = "" if os.path.isdir(root) else " (the directory does not exist)"
            raise CheckpointError(
                f"{option}=latest: no model_<iteration>.pt under {root}{why}; train first, or pass a checkpoint "
                "file or run directory"
            )
        return path
    path = os.path.abspath(os.path.expanduser(spec))
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(
                f"{option}={spec}: the directory {path} holds no model_<iteration>.pt (at any depth); pass a "
                "checkpoint file, a run directory that has one, or latest"
            )
        return found
    if not os.path.exists(path):
        raise CheckpointError(
            f"checkpoint {path} does not exist ({option}={spec}: pass a model_<iteration>.pt file, a run "
            "directory, or latest)"
        )
    return path
