"""Checks of the files a command will write, made before it starts work (one line each, naming the setting)."""

from __future__ import annotations

import os


def nearest_existing(path: str) -> str:
    """``path`` itself if it exists, else its nearest existing ancestor (what a later ``makedirs`` would write into)."""
    probe = path
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe


def output_file_problems(key: str, path: str) -> list[str]:
    """Whether ``path`` can be written as a file: not a directory, and its folder is or can be made writable.

    ``key`` is the setting's name as the user typed it (``report_json``, ``--report_json``), used in the message.
    Empty ``path``: nothing to check. The folder is not created here (nothing is left behind on a later error).
    """
    if not path:
        return []
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(full):
        return [f"{key}={path!r} is a directory; pass a file path (e.g. {os.path.join(path, 'report.json')!r})"]
    probe = nearest_existing(os.path.dirname(full))
    if not os.path.isdir(probe):
        return [f"{key}={path!r} cannot be written: {probe!r} is a file, not a directory"]
    if not os.access(probe, os.W_OK | os.X_OK):
        return [f"{key}={path!r} cannot be written: {probe!r} is not writable (permissions or a read-only filesystem)"]
    return []
