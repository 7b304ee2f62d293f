"""JSON codec for the model: dataclasses <-> plain JSON values, driven by the type hints.

`Unknown(reason)` is written as {"unknown": reason} so that a consumer can tell "not learned"
from a real null (torch.version.cuda is null for a CPU build).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from functools import cache
from typing import Any

from .errors import InputError
from .facts import Unknown


class DecodeError(InputError, ValueError):
    """The JSON does not have the shape of the model (a foreign or corrupt file)."""


def to_json(value: Any) -> Any:
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(tp: Any, data: Any, path: str = "$") -> Any:
    """Decode `data` as type `tp`; raises DecodeError naming the JSON path that does not fit."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if isinstance(data, dict) and set(data) == {"unknown"} and Unknown in options:
            return Unknown(str(data["unknown"]))
        if data is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option in (Unknown, type(None)):
                continue
            try:
                return from_json(option, data, path)
            except DecodeError as exc:
                errors.append(str(exc))
        raise DecodeError(errors[0] if errors else f"{path}: unexpected {type(data).__name__}")
    if tp is Any:
        return data
    if tp is Unknown:
        if isinstance(data, dict) and "unknown" in data:
            return Unknown(str(data["unknown"]))
        raise DecodeError(f"{path}: expected an unknown marker")
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object for {tp.__name__}")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = from_json(_hints(tp)[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DecodeError(f"{path}: missing field {f.name!r}")
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError as exc:
            raise DecodeError(f"{path}: {exc}") from None
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(f"{path}: expected a list")
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise DecodeError(f"{path}: expected {len(args)} items")
        return tuple(from_json(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin is dict:
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object")
        _, value_type = typing.get_args(tp)
        return {str(k): from_json(value_type, v, f"{path}.{k}") for k, v in data.items()}
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if tp in (str, int, float, bool):
        if type(data) is not tp:
            raise DecodeError(f"{path}: expected {tp.__name__}, got {type(data).__name__}")
        return data
    if tp is type(None):
        if data is not None:
            raise DecodeError(f"{path}: expected null")
        return None
    raise DecodeError(f"{path}: cannot decode type {tp!r}")
