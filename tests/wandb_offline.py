"""Read a W&B offline run (``run-<id>.wandb``) back with wandb's own record format (no network, no server).

The file is W&B's transaction log: a 7-byte header (``:W&B``, magic 0xBEE1, version), then LevelDB-log-style
32 KiB blocks of chunks (crc32 4 bytes, length 2, type 1: full/first/middle/last), each record a
``wandb.proto.wandb_internal_pb2.Record`` protobuf.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

BLOCK = 32768
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list:
    """Every ``Record`` in the file, in order."""
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    ident, magic, version = struct.unpack("<4sHB", data[:HEADER])
    assert ident == b":W&B" and magic == 0xBEE1, (ident, magic, version)
    out, pos, pending = [], HEADER, b""
    while pos + HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < HEADER:  # block trailer padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        if kind == 0 and length == 0:  # zero padding at the end of a block / file
            pos += left_in_block
            continue
        chunk = data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        if kind == FULL:
            pending = chunk
        elif kind == FIRST:
            pending = chunk
            continue
        elif kind == MIDDLE:
            pending += chunk
            continue
        elif kind == LAST:
            pending += chunk
        else:
            raise AssertionError(f"unknown chunk type {kind} at {pos}")
        record = wandb_internal_pb2.Record()
        record.ParseFromString(pending)
        out.append(record)
        pending = b""
    return out


def _key(item) -> str:
    return "/".join(item.nested_key) if item.nested_key else item.key


def history(path: Path) -> list[dict]:
    """The history rows (``run.log`` calls), each a dict of key -> decoded JSON value (``_step`` included)."""
    rows = []
    for r in records(path):
        if r.WhichOneof("record_type") == "history":
            rows.append({_key(item): json.loads(item.value_json) for item in r.history.item})
    return rows


def run_record(path: Path):
    """The ``RunRecord`` (id, project, display name, resumed flag, ...)."""
    for r in records(path):
        if r.WhichOneof("record_type") == "run":
            return r.run
    raise AssertionError(f"no run record in {path}")


def summary(path: Path) -> dict:
    """The last value of every key written to the run's summary (``run.summary.update`` and automatic)."""
    out = {}
    for r in records(path):
        if r.WhichOneof("record_type") == "summary":
            for item in r.summary.update:
                out[_key(item)] = json.loads(item.value_json)
    return out


def config(path: Path) -> dict:
    """The run config (top-level keys -> decoded values)."""
    out = {}
    for r in records(path):
        kind = r.WhichOneof("record_type")
        updates = r.config.update if kind == "config" else r.run.config.update if kind == "run" else []
        for item in updates:
            out[_key(item)] = json.loads(item.value_json)
    return out
