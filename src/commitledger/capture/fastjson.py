"""JSON through CPython's C scanner and encoder, without importing the ``json`` package.

``import json`` costs the commit hook more than its own work on an idle
commit: ``json.decoder`` compiles regular expressions at import, which pulls
in ``re`` (and ``enum``, ``functools``, ``collections``), a few times the
cost of everything else the hook imports. The C accelerator ``_json`` that
``json`` itself uses is cheap to import; these functions drive it the way
``json.loads``/``json.dumps`` do (same accepted input, same output). Where
``_json`` is missing (another Python implementation) they are ``json``'s own.

``_json`` raises its errors inside a string (unterminated, a control
character) as ``json.decoder.JSONDecodeError`` only once ``json.decoder`` is
imported; before that it fails with a ``SystemError`` and no message. Both
become a ``ValueError`` here, as every other failure: what ``json`` raises.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable

# JSON's whitespace (RFC 8259): what ``json.loads`` skips around a value.
_WS = " \t\n\r"


class _Context:
    """The attributes ``_json.make_scanner`` reads from a ``json.JSONDecoder``."""

    __slots__ = ("strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant", "memo")

    def __init__(self, parse_float: Any, parse_constant: Any) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = parse_float
        self.parse_int = int
        self.parse_constant = parse_constant
        self.memo: dict[str, str] = {}


_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


def make_loads(parse_float: Any = float, parse_constant: Any = None) -> tuple[Callable[[str], Any], Callable[[str, int], Any]]:
    """``(loads, scan_once)`` for str input, with ``json.JSONDecoder``'s hooks.

    ``scan_once(text, index)`` returns ``(value, end)`` and raises
    ``StopIteration`` when no value starts at ``index`` (as ``json``'s does).
    """
    constant = parse_constant if parse_constant is not None else _CONSTANTS.__getitem__
    try:
        import _json

        scan_once = _json.make_scanner(_Context(parse_float, constant))
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - not CPython
        import json

        scan_once = json.JSONDecoder(parse_float=parse_float, parse_constant=parse_constant).scan_once

    def loads(text: str) -> Any:
        """``json.loads`` of a str: a value between JSON whitespace, else ``ValueError``."""
        start = 0
        size = len(text)
        while start < size and text[start] in _WS:
            start += 1
        try:
            value, end = scan_once(text, start)
        except StopIteration as exc:
            raise ValueError(f"Expecting value at char {exc.value}") from None
        except RecursionError:
            raise ValueError("nested too deeply") from None
        except SystemError:  # an error inside a string, json.decoder not imported (see above)
            raise ValueError("Invalid string") from None
        if end != size and text[end:].strip(_WS):
            raise ValueError(f"Extra data at char {end}")
        return value

    return loads, scan_once


_loads_str, _ = make_loads()


def loads(data: bytes | str) -> Any:
    """``json.loads`` for UTF-8 bytes or str (a byte-order mark is refused, as ``json`` refuses it in str)."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    return _loads_str(text)


def _default(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _make_encoder() -> Callable[[Any], str]:
    try:
        import _json

        encode = _json.make_encoder(
            {}, _default, _json.encode_basestring, None, ":", ",", False, False, True
        )
        if "".join(encode({"a": [1, 2.5, None, True, "\u00e9"]}, 0)) != '{"a":[1,2.5,null,true,"\u00e9"]}':
            raise TypeError("unexpected _json encoder")  # pragma: no cover

        def dumps(value: Any) -> str:
            if isinstance(value, str):
                return str(_json.encode_basestring(value))
            markers: dict[int, Any] = {}
            return "".join(_json.make_encoder(
                markers, _default, _json.encode_basestring, None, ":", ",", False, False, True
            )(value, 0))

        return dumps
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - not CPython
        import json

        return lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_dumps: list[Callable[[Any], str]] = []


def dumps(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``."""
    if not _dumps:
        _dumps.append(_make_encoder())
    return _dumps[0](value)
