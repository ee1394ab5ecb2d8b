"""Build the compact price table from genai-prices, once per installed version.

Importing genai-prices costs a commit hook about 220 ms (its data module is
1.5 MB of Python); pricing a request from it is cheap. So the hook never
imports it: this module, run once per installed genai-prices version, turns
its providers into plain tuples and floats that ``marshal`` loads in about a
millisecond, and ``pricing`` reads that file from the user's cache dir.

The compact form keeps exactly what a request price depends on: each
provider's model order and match logic (so a model id resolves to the same
model genai-prices would pick), prices that change over time (start dates),
request variants (``speed=fast``, ``service_tier=priority``), per-request
tiers (a cliff on the whole prompt) and per-request counts (web searches).
Prices of other units (audio, images, documents) are left out: agent logs
never report them.
"""

from __future__ import annotations

import datetime as _dt
import marshal
from decimal import Decimal

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Price keys a request from an agent log can be billed under.
KEYS = (
    "input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_5m_mtok",
    "cache_write_1h_mtok", "web_searches_kcount", "requests_kcount",
)  # fmt: skip
FORMAT = 2


def _num(value: Any) -> Any:
    """A float, or ``(base, ((start, price), ...))`` for a tiered price."""
    if isinstance(value, Decimal):
        return float(value)
    tiers = getattr(value, "tiers", None)
    if tiers is not None:
        return (float(value.base), tuple((int(t.start), float(t.price)) for t in tiers))
    return None


def _prices(model_price: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in KEYS:
        value = model_price.__dict__.get(key)
        if value is not None:
            num = _num(value)
            if num is not None:
                out[key] = num
    return out


def _constraint(constraint: Any) -> Any:
    if constraint is None:
        return None
    start = getattr(constraint, "start_date", None)
    if start is not None:
        return ("d", start.isoformat())
    begin, end = getattr(constraint, "start_time", None), getattr(constraint, "end_time", None)
    if begin is not None and end is not None:
        def secs(t: _dt.time) -> int:
            offset = t.utcoffset() if t.tzinfo is not None else None
            base = t.hour * 3600 + t.minute * 60 + t.second
            return int(base - (offset.total_seconds() if offset else 0)) % 86400

        return ("t", secs(begin), secs(end))
    return ("never",)


def _match(clause: Any) -> Any:
    """Match logic as nested tuples: (op, arg); op in eq sw ew in re or and."""
    if clause is None:
        return None
    name = type(clause).__name__
    if name == "ClauseEquals":
        return ("eq", clause.equals.lower())
    if name == "ClauseStartsWith":
        return ("sw", clause.starts_with.lower())
    if name == "ClauseEndsWith":
        return ("ew", clause.ends_with.lower())
    if name == "ClauseContains":
        return ("in", clause.contains.lower())
    if name == "ClauseRegex":
        return ("re", clause.regex)
    if name == "ClauseOr":
        return ("or", tuple(_match(c) for c in clause.or_))
    if name == "ClauseAnd":
        return ("and", tuple(_match(c) for c in clause.and_))
    return ("never",)


def _model(model: Any) -> tuple[Any, ...]:
    if isinstance(model.prices, list):
        conditional = tuple((_constraint(c.constraint), _prices(c.prices)) for c in model.prices)
    else:
        conditional = ((None, _prices(model.prices)),)
    variants = tuple(
        (tuple(sorted(v.when.items())), _constraint(v.constraint), _prices(v.prices))
        for v in (model.price_variants or ())
    )
    return (model.id, _match(model.match), conditional, variants)


def build() -> dict[str, Any]:
    """The compact table of the installed genai-prices (imports it: never call from the hook)."""
    import genai_prices
    from genai_prices.data import providers

    newest = ""
    out_providers = []
    for provider in providers:
        models = tuple(_model(m) for m in provider.models)
        for m in models:
            for constraint, _ in m[2]:
                if constraint and constraint[0] == "d":
                    newest = max(newest, constraint[1])
            for _, constraint, _ in m[3]:
                if constraint and constraint[0] == "d":
                    newest = max(newest, constraint[1])
        out_providers.append(
            (
                provider.id,
                _match(provider.model_match),
                _match(provider.provider_match),
                tuple(provider.fallback_model_providers or ()),
                marshal.dumps(models),  # decoded on first use: the hook pays only for its providers
            )
        )
    return {
        "format": FORMAT,
        "version": str(genai_prices.__version__),
        "newest_price": newest or "unknown",
        "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "providers": tuple(out_providers),
    }
