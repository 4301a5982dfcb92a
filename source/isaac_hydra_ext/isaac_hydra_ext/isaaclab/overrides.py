"""Strict ``env.*`` / ``agent.*`` command-line overrides for Isaac Lab task configs.

Isaac Lab 3.0's ``resolve_task_config`` applies ``env.<path>=<value>`` and ``agent.<path>=<value>`` with a plain
``setattr``: a misspelt key silently creates a new attribute and ``agent.learning_rate=abc`` stores a string.
Isaac Lab 2.3 goes through Hydra, which rejects such values but with messages about OmegaConf nodes. This module
gives both versions one behaviour: every literal override is parsed, checked against the resolved config
object (the key must exist; the value must fit the field's type) and only then set. All problems are reported
together in one :class:`OverrideError` naming the key, the value and what the field expects; nothing is changed
unless every override is valid.

Type rules (``current`` is the value the field holds before the override):

* a field's type is its annotation (:func:`typing.get_type_hints` of the owning class) or, where there is none
  or it cannot be resolved (dict entries, plain attributes, names imported only for type checkers), the type of
  ``current``; a field with neither (``current`` is None) takes any literal;
* ``bool``, ``int``, ``str`` fields take only values of that type (``int`` also rejects booleans and floats);
* ``float`` fields take ints and floats (stored as ``float``);
* ``str`` fields take the raw text, so ``agent.run_name=123`` stores ``"123"``;
* ``list`` / ``tuple`` fields take a ``[...]`` literal whose elements fit the annotation's element types
  (``list[int]``; ``tuple[float, float]`` also fixes the length) or, for a bare ``list`` / ``tuple``, the current
  elements' type; the container type is kept;
* ``dict`` fields take a ``{...}`` literal, ``Literal[...]`` fields one of their choices;
* unions (``X | Y``, ``Optional[X]``) take what one member takes, trying exact scalar types, then ``float``, then
  other types and ``str`` (any text) last;
* ``None`` is accepted where the annotation allows it (``X | None``) and for config groups
  (``env.events.push_robot=None`` disables a term, the usual Isaac Lab idiom); a field that is ``None`` now takes
  what its annotation allows;
* config groups (nested configclasses) cannot be replaced by a literal: override their fields instead; other
  objects (enums, callables, classes) cannot be set from the command line.

Nothing here imports Isaac Lab; the checks work on any tree of dataclasses, dicts and plain objects.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import inspect
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

SECTIONS = ("env", "agent")
"""Top-level keys of Isaac Lab task overrides: the env config and the agent (runner) config."""

SELECTOR_KEYS = ("presets", "physics", "renderer")
"""Isaac Lab 3.0 preset selectors (``presets=a,b``, ``physics=NAME``, ``renderer=NAME``), passed through untouched."""

_LITERALS = {"true": True, "false": False, "none": None, "null": None}


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


# ---- field types ---------------------------------------------------------------------------------------------

_UNIONS = (Union, types.UnionType)
_NONE = type(None)
_TRY_ORDER = {_NONE: 0, bool: 1, int: 2, float: 3, str: 5}
"""Order in which union members are tried: exact scalars, float widening, other types, str (any text) last."""


class _Mismatch(Exception):
    """A value does not fit a field; ``args[0]`` describes what the field takes."""


@functools.cache
def _annotation(cls: type, name: str) -> Any:
    """The resolved annotation of field ``name`` of ``cls`` (``typing.get_type_hints``); None if there is none.

    If one of the class's annotations cannot be resolved (say a name imported only for type checkers), each
    field is resolved alone, so that the others keep their types.
    """
    try:
        return typing.get_type_hints(cls).get(name)
    except Exception:  # annotations are arbitrary code: NameError for a missing import, TypeError, ...
        return next(
            (_annotation_alone(base, name) for base in cls.__mro__ if name in inspect.get_annotations(base)), None
        )


def _annotation_alone(base: type, name: str) -> Any:
    """Resolve the annotation ``base`` declares for ``name`` in ``base``'s namespaces; None if it cannot be."""
    holder = types.SimpleNamespace(__annotations__={name: inspect.get_annotations(base)[name]})
    module = sys.modules.get(base.__module__)
    try:
        return typing.get_type_hints(holder, vars(module) if module else {}, dict(vars(base)))[name]
    except Exception:  # see _annotation
        return None


def _field_type(owner: Any, name: str, current: Any) -> Any:
    """The type ``owner.name`` must keep: its annotation, else the current value's type (``Any`` when it is None)."""
    hint = _annotation(type(owner), name)
    if hint is None:
        hint = Any if current is None else str if isinstance(current, str) else type(current)
    if (hint is list or hint is tuple) and isinstance(current, (list, tuple)):
        element = _element_type(current)  # a bare ``list`` / ``tuple``: the current elements tell the type
        if element is not None:
            return list[element] if hint is list else tuple[element, ...]
    return hint


def _element_type(items: Sequence[Any]) -> type | None:
    """The scalar type shared by ``items`` (``float`` for a mix of ints and floats); None if there is none."""
    kinds = {type(item) for item in items}
    if len(kinds) == 1 and kinds <= {bool, int, float, str}:
        return kinds.pop()
    return float if kinds and kinds <= {int, float} else None


def _describe(tp: Any) -> str:
    """Name a type for a message: ``int or None``, ``list[int]``, ``tuple[float, ...]``, ``'add' or 'scale'``."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is _NONE:
        return "None"
    if isinstance(tp, list):  # the parameters of Callable[[X, Y], Z]
        return f"[{', '.join(map(_describe, tp))}]"
    if origin in _UNIONS or origin is Literal:
        return " or ".join(repr(arg) if origin is Literal else _describe(arg) for arg in args)
    name = getattr(origin or tp, "__name__", None) or repr(tp)
    return f"{name}[{', '.join('...' if arg is Ellipsis else _describe(arg) for arg in args)}]" if args else name


# ---- conversion ----------------------------------------------------------------------------------------------


def _convert(value: Any, tp: Any, text: str | None = None) -> Any:
    """Return ``value`` (a parsed literal) as a value of type ``tp``, or raise :class:`_Mismatch`.

    ``text`` is the override as typed; it lets a ``str`` field take any text (``123`` stays ``"123"``). It is
    not passed on to container elements, which must be literals of their type.
    """
    origin = get_origin(tp) or tp
    if origin in _UNIONS:
        return _convert_union(value, tp, text)
    if origin is Literal:
        return _convert_literal(value, tp, text)
    if isinstance(tp, type) and tp in _TRY_ORDER:
        return _convert_scalar(value, tp, text)
    if origin in (list, tuple, Sequence):
        return _convert_sequence(value, tp)
    if tp in (Any, object) or not isinstance(origin, type):
        return value  # Any, or a typing construct these rules do not model: accept the literal as Isaac Lab would
    if isinstance(value, origin) or (value is None and dataclasses.is_dataclass(origin)):
        return value  # a ``{...}`` literal for a dict field; None disables a config group
    unsettable = "" if issubclass(origin, Mapping) else " (not settable from the command line)"
    raise _Mismatch(_describe(tp) + unsettable)


def _convert_union(value: Any, tp: Any, text: str | None) -> Any:
    """The value as converted by the first member of a union that takes it, tried in :data:`_TRY_ORDER`."""
    for member in sorted(get_args(tp), key=lambda arg: _TRY_ORDER.get(arg, 4)):
        try:
            return _convert(value, member, text)
        except _Mismatch:
            pass
    raise _Mismatch(_describe(tp))


def _convert_literal(value: Any, tp: Any, text: str | None) -> Any:
    """The ``Literal[...]`` choice equal to the value (and of its type), or to the text for a string choice."""
    texts = {_unquote(text)} if text is not None else set()
    for choice in get_args(tp):
        if (type(value) is type(choice) and value == choice) or choice in texts:
            return choice
    raise _Mismatch(_describe(tp))


def _convert_scalar(value: Any, tp: type, text: str | None) -> Any:
    """A ``bool``/``int``/``str``/``None`` value of exactly that type; ``float`` also takes ints; ``str`` any text.

    A plain ``str`` field (one that cannot be None) takes ``none``/``null`` as that text: ``agent.logger=none``
    is the logger named "none", not a None the field cannot hold.
    """
    if type(value) is tp:
        return value
    if tp is float and type(value) is int:
        return float(value)
    if tp is str and text is not None:
        return _unquote(text)
    raise _Mismatch(_describe(tp))


def _convert_sequence(value: Any, tp: Any) -> list | tuple:
    """A ``[...]`` literal with each element converted; a ``list``/``tuple`` field keeps its container type."""
    if not isinstance(value, (list, tuple)):
        raise _Mismatch(_describe(tp))
    try:
        items = [_convert(item, item_type) for item, item_type in zip(value, _item_types(tp, len(value)))]
    except _Mismatch:
        raise _Mismatch(_describe(tp)) from None
    origin = get_origin(tp) or tp
    return (origin if origin in (list, tuple) else type(value))(items)


def _item_types(tp: Any, count: int) -> tuple[Any, ...]:
    """The types of ``count`` elements of ``tp`` (``list[X]``, ``tuple[X, ...]``, ``tuple[X, Y]``, a bare ``list``)."""
    args = get_args(tp)
    if (get_origin(tp) or tp) is not tuple or not args or args[-1] is Ellipsis:
        return (args[0] if args else Any,) * count
    if len(args) != count:
        raise _Mismatch("a fixed-length tuple of another length")
    return args


def _unquote(text: str) -> str:
    """The override text without surrounding whitespace and one pair of matching quotes."""
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def _coerce(text: str, current: Any, owner: Any, name: str) -> Any:
    """Return the typed value for ``owner.name = text`` or raise :class:`_Mismatch` with the expected type."""
    value = parse_literal(text)
    if not dataclasses.is_dataclass(current) or isinstance(current, type):
        return _convert(value, _field_type(owner, name, current), text)
    if value is None:
        return None  # a config group is disabled with None
    raise _Mismatch(
        f"a config group ({type(current).__name__}); set its fields instead (e.g. <key>.<field>=...) or None"
    )


# ---- path resolution -----------------------------------------------------------------------------------------


def _children(obj: Any) -> list[str]:
    """The keys or field names of ``obj``, for suggestions."""
    if isinstance(obj, Mapping):
        return [str(k) for k in obj]
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields:
        return list(fields)
    return [k for k in vars(obj) if not k.startswith("_")] if hasattr(obj, "__dict__") else []


def _has(obj: Any, name: str) -> bool:
    """Whether ``obj`` has the key or (public) field ``name``."""
    if isinstance(obj, Mapping):
        return name in obj
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields is not None:
        return name in fields
    return not name.startswith("_") and hasattr(obj, name)


def _get(obj: Any, name: str) -> Any:
    """The value of key or field ``name`` of ``obj``."""
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def _unknown(override: Override, obj: Any, name: str, where: str) -> str:
    """The message for a key ``obj`` does not have, with close matches and the known keys."""
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
                f"{override.arg!r}: '{override.key}' expects {mismatch.args[0]}, got {type(got).__name__} {got!r}"
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
