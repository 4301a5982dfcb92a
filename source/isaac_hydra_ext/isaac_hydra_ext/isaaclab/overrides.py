"""Strict ``env.*`` / ``agent.*`` command-line overrides for Isaac Lab task configs.

Isaac Lab 3.0's ``resolve_task_config`` applies ``env.<path>=<value>`` and ``agent.<path>=<value>`` with a plain
``setattr``: a misspelt key silently creates a new attribute and ``agent.learning_rate=abc`` stores a string.
Isaac Lab 2.3 goes through Hydra, which rejects such values but with messages about OmegaConf nodes. This module
gives both versions one behaviour: every literal override is parsed, checked against the resolved config
object (the key must exist; the value must fit the field's current type or its annotation) and only then set.
All problems are reported together in one :class:`OverrideError` naming the key, the value and what the field
expects; nothing is changed unless every override is valid.

Type rules (``current`` is the value the field holds before the override):

* ``bool``, ``int``, ``str`` fields take only values of that type (``int`` also rejects booleans and floats);
* ``float`` fields take ints and floats (stored as ``float``);
* ``str`` fields take the raw text, so ``agent.run_name=123`` stores ``"123"``;
* ``list`` / ``tuple`` fields take a ``[...]`` literal; elements are checked against the current elements'
  type and the container type is kept;
* ``None`` is accepted where the annotation allows it (``X | None``) and for config groups
  (``env.events.push_robot=None`` disables a term, the usual Isaac Lab idiom); a field that is ``None`` now takes
  what its annotation allows;
* config groups (nested configclasses) cannot be replaced by a literal: override their fields instead.

Nothing here imports Isaac Lab; the checks work on any tree of dataclasses, dicts and plain objects.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SECTIONS = ("env", "agent")
"""Top-level keys of Isaac Lab task overrides: the env config and the agent (runner) config."""

SELECTOR_KEYS = ("presets", "physics", "renderer")
"""Isaac Lab 3.0 preset selectors (``presets=a,b``, ``physics=NAME``, ``renderer=NAME``), passed through untouched."""

_LITERALS = {"true": True, "false": False, "none": None, "null": None}
_SCALARS = (bool, int, float, str)
_TYPE_NAMES = {"bool": bool, "int": int, "float": float, "str": str, "list": list, "tuple": tuple, "dict": dict}
_NONE_NAMES = {"None", "NoneType", "types.NoneType"}


class OverrideError(ValueError):
    """One or more command-line overrides are invalid; ``str()`` lists each one with what it expects."""


@dataclass(frozen=True)
class Override:
    """One ``<section>.<path>=<text>`` assignment from the command line."""

    section: str
    """``env`` or ``agent``."""
    path: str
    """Dotted path inside the section, e.g. ``scene.num_envs``."""
    text: str
    """The value exactly as typed (after the shell)."""

    @property
    def key(self) -> str:
        """The full dotted key, e.g. ``env.scene.num_envs``."""
        return f"{self.section}.{self.path}"

    @property
    def arg(self) -> str:
        """The override as it was given, ``key=text``."""
        return f"{self.key}={self.text}"


def parse_literal(text: str) -> Any:
    """Parse an override value the way Isaac Lab does: true/false/none/null, then a Python literal, else the text."""
    lowered = text.strip().lower()
    if lowered in _LITERALS:
        return _LITERALS[lowered]
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def split_overrides(args: Sequence[str]) -> tuple[list[Override], list[str]]:
    """Split command-line overrides into ``env``/``agent`` assignments and the tokens Isaac Lab handles itself.

    Passed through: the preset selectors of :data:`SELECTOR_KEYS` and Hydra's own settings (``hydra.*``,
    ``hydra/<group>=...``). Rejected with :class:`OverrideError`: tokens without ``=`` (usually a script flag
    that argparse does not know, e.g. ``--headless`` on a script that does not declare it), Hydra's add/delete
    prefixes on ``env``/``agent`` keys (``+agent.x=1``, ``~env.y``: configs have a fixed set of fields), and any
    other top-level key.
    """
    assignments: list[Override] = []
    passthrough: list[str] = []
    problems: list[str] = []
    for arg in args:
        if "=" not in arg:
            if arg.lstrip("~").split(".", 1)[0] in SECTIONS:
                problems.append(f"{arg!r}: deleting config keys is not supported (configs have a fixed set of fields)")
            else:
                problems.append(
                    f"{arg!r}: not an override (expected key=value); if it is a script option, the script must "
                    "declare it"
                )
            continue
        key, text = arg.split("=", 1)
        stripped = key.lstrip("+~")
        head = stripped.split(".", 1)[0]
        if head in SECTIONS:
            if stripped != key:
                problems.append(
                    f"{arg!r}: adding or deleting config keys is not supported; '{stripped}' must name an existing "
                    "field (write it without the prefix)"
                )
            elif "." not in stripped or stripped.endswith("."):
                problems.append(f"{arg!r}: a whole section cannot be replaced; set its fields, e.g. {head}.<field>=...")
            else:
                assignments.append(Override(head, stripped.split(".", 1)[1], text))
        elif key in SELECTOR_KEYS or head == "hydra" or key.startswith("hydra/"):
            passthrough.append(arg)
        else:
            problems.append(
                f"{arg!r}: unknown override key '{key}'; overrides start with 'env.' or 'agent.' "
                f"(or are one of {', '.join(SELECTOR_KEYS)}, hydra.*)"
            )
    if problems:
        raise OverrideError("Invalid overrides:\n  - " + "\n  - ".join(problems))
    return assignments, passthrough


# ---- type inference ------------------------------------------------------------------------------------------


def _is_config_group(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _split_union(text: str) -> list[str]:
    """Split ``a | b[c | d]`` at bracket depth 0; unwrap ``Optional[x]`` / ``Union[x, y]``."""
    text = text.strip()
    for prefix, sep in (("Optional[", None), ("typing.Optional[", None), ("Union[", ","), ("typing.Union[", ",")):
        if text.startswith(prefix) and text.endswith("]"):
            inner = text[len(prefix) : -1]
            parts = _split_top(inner, sep or "|")
            return [p for part in parts for p in _split_union(part)] + ([] if sep else ["None"])
    return [p.strip() for p in _split_top(text, "|")]


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _annotation_types(owner: Any, name: str) -> tuple[set[type], bool] | None:
    """Return (allowed types, None allowed) from the dataclass annotation of ``owner.name``; None if unknown."""
    fields = getattr(type(owner), "__dataclass_fields__", None)
    if not fields or name not in fields:
        return None
    annotation = fields[name].type
    if isinstance(annotation, str):
        text = annotation
    elif isinstance(annotation, type) and not hasattr(annotation, "__origin__"):
        text = annotation.__name__
    else:
        text = str(annotation)  # e.g. "int | None", "typing.Optional[int]", "list[int]"
    allowed: set[type] = set()
    none_ok = False
    for member in _split_union(text):
        base = member.split("[", 1)[0].strip()
        if base in _NONE_NAMES:
            none_ok = True
        elif base.removeprefix("typing.").lower() in _TYPE_NAMES:
            allowed.add(_TYPE_NAMES[base.removeprefix("typing.").lower()])
        elif base in ("Any", "typing.Any", "object"):
            return None
    if not allowed and not none_ok:
        return None
    return allowed, none_ok


def _describe(allowed: set[type], none_ok: bool, elements: type | None = None) -> str:
    order = [bool, int, float, str, list, tuple, dict]
    names = []
    for t in order:
        if t in allowed:
            if t in (list, tuple) and elements is not None:
                names.append(f"{t.__name__}[{elements.__name__}]")
            else:
                names.append(t.__name__)
    if none_ok:
        names.append("None")
    return " or ".join(names) if names else "a value of the field's type"


class _Mismatch(Exception):
    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def _scalar(value: Any, target: type) -> Any:
    """Coerce ``value`` to the scalar type ``target`` or raise ``_Mismatch``."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if target is bool and isinstance(value, bool):
        return value
    if target is int and number and isinstance(value, int):
        return value
    if target is float and number:
        return float(value)
    if target is str and isinstance(value, str):
        return value
    raise _Mismatch(target.__name__)


def _element_type(current: Any) -> type | None:
    types = {type(v) for v in current}
    if len(types) == 1:
        (t,) = types
        if t in _SCALARS:
            return t
    if types and types <= {int, float}:
        return float
    return None


def _coerce(text: str, current: Any, owner: Any, name: str) -> Any:
    """Return the typed value for ``owner.name = text`` or raise ``_Mismatch`` with the expected type."""
    value = parse_literal(text)
    hint = _annotation_types(owner, name)
    if _is_config_group(current):
        if value is None:
            return None
        raise _Mismatch(
            f"a config group ({type(current).__name__}); set its fields instead (e.g. <key>.<field>=...) or None"
        )
    allowed: set[type] = set()
    none_ok = False
    if current is not None:
        allowed.add(type(current) if not isinstance(current, str) else str)
    if hint is not None:
        allowed |= hint[0]
        none_ok = hint[1]
    elif current is None:
        return value  # nothing tells the type: accept the literal as Isaac Lab would
    elements = _element_type(current) if isinstance(current, (list, tuple)) else None
    expected = _describe(allowed, none_ok, elements)
    if value is None:
        if none_ok:
            return None
        raise _Mismatch(expected)
    # exact scalar types first, then float widening, then the raw text for str fields
    for target in (bool, int, float):
        if target in allowed:
            try:
                return _scalar(value, target)
            except _Mismatch:
                pass
    containers = [t for t in (list, tuple) if t in allowed]
    if containers and isinstance(value, (list, tuple)):
        if elements is not None:
            try:
                items = [_scalar(v, elements) for v in value]
            except _Mismatch:
                raise _Mismatch(expected) from None
        else:
            items = list(value)
        container = type(current) if isinstance(current, (list, tuple)) else containers[0]
        return container(items)
    if dict in allowed and isinstance(value, dict):
        return value
    if str in allowed:
        if isinstance(value, str):
            return value
        return _unquote(text)
    if current is not None and not allowed & {bool, int, float, str, list, tuple, dict}:
        # an object of another kind (enum, slice, callable ...): only the same type fits
        if isinstance(value, type(current)):
            return value
        raise _Mismatch(f"{type(current).__name__} (not settable from the command line)")
    raise _Mismatch(expected)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


# ---- path resolution -----------------------------------------------------------------------------------------


def _children(obj: Any) -> list[str]:
    if isinstance(obj, Mapping):
        return [str(k) for k in obj]
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields:
        return list(fields)
    return [k for k in vars(obj) if not k.startswith("_")] if hasattr(obj, "__dict__") else []


def _has(obj: Any, name: str) -> bool:
    if isinstance(obj, Mapping):
        return name in obj
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields is not None:
        return name in fields
    return not name.startswith("_") and hasattr(obj, name)


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def _unknown(override: Override, obj: Any, name: str, where: str) -> str:
    known = _children(obj)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = f" Known keys: {', '.join(sorted(known))}." if 0 < len(known) <= 60 else ""
    return f"{override.arg!r}: unknown key '{name}' in {where} ({type(obj).__name__}){hint}.{listing}"


def _resolve(root: Any, override: Override) -> tuple[Any, str, Any] | str:
    """Walk to the field an override names; return (owner, leaf, current) or an error message."""
    if root is None:
        return f"{override.arg!r}: this task has no {override.section} config to override"
    obj, where = root, override.section
    *parts, leaf = override.path.split(".")
    for part in parts:
        if not _has(obj, part):
            return _unknown(override, obj, part, where)
        child = _get(obj, part)
        where = f"{where}.{part}"
        if child is None:
            return f"{override.arg!r}: '{where}' is None (disabled), so it has no field '{leaf}' to set"
        if isinstance(child, (str, int, float, bool, list, tuple)):
            return f"{override.arg!r}: '{where}' is a {type(child).__name__}, not a config group"
        obj = child
    if not _has(obj, leaf):
        return _unknown(override, obj, leaf, where)
    return obj, leaf, _get(obj, leaf)


def check_overrides(configs: Mapping[str, Any], overrides: Sequence[Override]) -> list[tuple[Any, str, Any]]:
    """Validate ``overrides`` against ``configs`` (``{"env": env_cfg, "agent": agent_cfg}``) without changing them.

    Returns one ``(owner, field name, typed value)`` per override, in order. Raises :class:`OverrideError`
    listing every invalid override.
    """
    planned: list[tuple[Any, str, Any]] = []
    problems: list[str] = []
    for override in overrides:
        target = _resolve(configs.get(override.section), override)
        if isinstance(target, str):
            problems.append(target)
            continue
        owner, leaf, current = target
        try:
            value = _coerce(override.text, current, owner, leaf)
        except _Mismatch as mismatch:
            got = parse_literal(override.text)
            problems.append(
                f"{override.arg!r}: '{override.key}' expects {mismatch.expected}, got {type(got).__name__} {got!r}"
            )
            continue
        planned.append((owner, leaf, value))
    if problems:
        raise OverrideError("Invalid overrides:\n  - " + "\n  - ".join(problems))
    return planned


def apply_overrides(configs: Mapping[str, Any], overrides: Sequence[Override]) -> None:
    """Check every override (see :func:`check_overrides`), then set them all in order; all or nothing."""
    for owner, leaf, value in check_overrides(configs, overrides):
        if isinstance(owner, dict):
            owner[leaf] = value
        else:
            setattr(owner, leaf, value)


def is_preset_selection(override: Override, preset_paths: set[str]) -> bool:
    """Whether an override selects an Isaac Lab 3.0 preset by name (``env.sim.physics=newton_mjwarp``)."""
    return override.key in preset_paths and isinstance(parse_literal(override.text), str)
