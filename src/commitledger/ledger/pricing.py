"""Price table and cost computation.

Prices are priced per request, not per sum: a provider's long-context tier
(Anthropic above 200k input tokens, Gemini above 200k prompt tokens) applies
to a whole request once its prompt crosses the threshold, which a sum of
requests can no longer tell.

A model with no known price has no cost (``None``), never a made-up zero.
Overrides come from ``[tool.commitledger.prices]`` (USD per million tokens)
or a JSON file named by ``COMMITLEDGER_PRICES`` in either our schema or
LiteLLM's ``model_prices_and_context_window.json`` schema (USD per token).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar, Mapping

from commitledger.errors import CommitledgerError
from commitledger.slotted import Frozen, Slotted

PRICES_ENV = "COMMITLEDGER_PRICES"
PER_MILLION = 1_000_000.0

_PREFIX = re.compile(
    r"^(?:(?:anthropic|openai|google|gemini|vertex_ai|vertex|bedrock|azure|github-copilot|openrouter|models)[/.])+",
    re.I,
)
_BEDROCK = re.compile(r"^(?:[a-z]{2}\.)?anthropic\.", re.I)
_DATE_SUFFIX = re.compile(r"(?:[-@](?:20\d{6}|20\d\d-\d\d-\d\d))$")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
_LATEST = re.compile(r"-latest$")


class Rates(Frozen):
    """USD per million tokens for one tier of one model."""

    __slots__ = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    _defaults: ClassVar[dict[str, Any]] = {"cache_read": None, "cache_write_5m": None, "cache_write_1h": None}
    input: float
    output: float
    cache_read: float | None
    cache_write_5m: float | None
    cache_write_1h: float | None


class ModelPrice(Frozen):
    """Base rates, and the long-context tier with the prompt size above which it applies."""

    __slots__ = ("base", "long_context", "threshold")
    _defaults: ClassVar[dict[str, Any]] = {"long_context": None, "threshold": None}
    base: Rates
    long_context: Rates | None
    threshold: int | None


class PriceTable(Slotted):
    __slots__ = ("models", "aliases", "taken", "sources")
    models: dict[str, ModelPrice]
    aliases: dict[str, str]
    taken: str
    sources: tuple[str, ...]

    def lookup(self, model: str) -> tuple[str, ModelPrice] | None:
        """Find a model's price through its normalised name; None when unknown."""
        for candidate in _candidates(model):
            name = self.aliases.get(candidate, candidate)
            price = self.models.get(name)
            if price is not None:
                return name, price
        return None

    def cost(
        self,
        model: str,
        *,
        input: int = 0,
        output: int = 0,
        cache_read: int = 0,
        cache_write_5m: int = 0,
        cache_write_1h: int = 0,
    ) -> float | None:
        """Cost in USD of one request; None when the model has no known price."""
        found = self.lookup(model)
        if found is None:
            return None
        price = found[1]
        rates = price.base
        prompt = input + cache_read + cache_write_5m + cache_write_1h
        if price.long_context is not None and price.threshold is not None and prompt > price.threshold:
            rates = price.long_context
        cache_read_rate = rates.cache_read if rates.cache_read is not None else rates.input
        cw5 = rates.cache_write_5m if rates.cache_write_5m is not None else rates.input
        cw1 = rates.cache_write_1h if rates.cache_write_1h is not None else cw5
        total = (
            input * rates.input
            + output * rates.output
            + cache_read * cache_read_rate
            + cache_write_5m * cw5
            + cache_write_1h * cw1
        )
        return total / PER_MILLION


def normalise_model(model: str) -> str:
    """The name a model is grouped and priced under: no provider prefix, no date."""
    name = model.strip().lower()
    name = _BEDROCK.sub("", name)
    name = _PREFIX.sub("", name)
    name = _BEDROCK_VERSION.sub("", name)
    name = _LATEST.sub("", name)
    name = _DATE_SUFFIX.sub("", name)
    return name or model


def _candidates(model: str) -> list[str]:
    raw = model.strip().lower()
    norm = normalise_model(model)
    out = [raw, norm]
    # claude-sonnet-4.5 style (Copilot, OpenCode) to Anthropic's dashed ids.
    if norm.startswith("claude-"):
        out.append(norm.replace(".", "-"))
    return list(dict.fromkeys(out))


def _rates(entry: Mapping[str, Any], scale: float, where: str) -> Rates:
    try:
        inp = float(entry["input"]) * scale
        out = float(entry["output"]) * scale
    except (KeyError, TypeError, ValueError):
        raise CommitledgerError(f"price entry {where} needs numeric 'input' and 'output'") from None

    def opt(key: str) -> float | None:
        value = entry.get(key)
        if value is None:
            return None
        try:
            return float(value) * scale
        except (TypeError, ValueError):
            raise CommitledgerError(f"price entry {where}: '{key}' is not a number") from None

    cw5 = opt("cache_write_5m")
    if cw5 is None:
        cw5 = opt("cache_write")
    return Rates(inp, out, opt("cache_read"), cw5, opt("cache_write_1h"))


def _ours(models: Mapping[str, Any], scale: float, origin: str) -> dict[str, ModelPrice]:
    out: dict[str, ModelPrice] = {}
    for name, entry in models.items():
        if not isinstance(entry, Mapping):
            raise CommitledgerError(f"price entry {name!r} in {origin} is not a table")
        where = f"{name!r} in {origin}"
        long = entry.get("long_context")
        long_rates = _rates(long, scale, where + " (long_context)") if isinstance(long, Mapping) else None
        threshold = _threshold(long["threshold"], where) if isinstance(long, Mapping) and "threshold" in long else None
        out[normalise_model(name)] = ModelPrice(_rates(entry, scale, where), long_rates, threshold)
    return out


def _threshold(value: Any, where: str) -> int:
    """A long-context threshold: a whole number of prompt tokens, or a one-line error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CommitledgerError(f"price entry {where}: long_context 'threshold' must be a number of tokens")
    try:
        number = float(value)
    except ValueError:
        raise CommitledgerError(f"price entry {where}: long_context 'threshold' must be a number of tokens, "
                                f"not {str(value)[:20]!r}") from None
    if not (0 <= number < 1e12) or number != int(number):
        raise CommitledgerError(f"price entry {where}: long_context 'threshold' must be a whole number of tokens")
    return int(number)


def _litellm(data: Mapping[str, Any]) -> dict[str, ModelPrice]:
    out: dict[str, ModelPrice] = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping) or "input_cost_per_token" not in entry:
            continue
        try:
            base = Rates(
                float(entry["input_cost_per_token"]) * PER_MILLION,
                float(entry.get("output_cost_per_token", 0.0)) * PER_MILLION,
                _opt_m(entry.get("cache_read_input_token_cost")),
                _opt_m(entry.get("cache_creation_input_token_cost")),
                _opt_m(entry.get("cache_creation_input_token_cost_above_1hr")),
            )
            long = None
            if "input_cost_per_token_above_200k_tokens" in entry:
                long = Rates(
                    float(entry["input_cost_per_token_above_200k_tokens"]) * PER_MILLION,
                    float(entry.get("output_cost_per_token_above_200k_tokens", entry.get("output_cost_per_token", 0.0)))
                    * PER_MILLION,
                    _opt_m(entry.get("cache_read_input_token_cost_above_200k_tokens")),
                    _opt_m(entry.get("cache_creation_input_token_cost_above_200k_tokens")),
                    _opt_m(entry.get("cache_creation_input_token_cost_above_1hr_above_200k_tokens")),
                )
        except (TypeError, ValueError):
            continue
        out[normalise_model(name)] = ModelPrice(base, long, 200_000 if long else None)
    return out


def _opt_m(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value) * PER_MILLION
    except (TypeError, ValueError):
        return None


def _read_file(path: Path) -> dict[str, ModelPrice]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommitledgerError(f"{PRICES_ENV} names {path}, which does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommitledgerError(f"cannot read price file {path}: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise CommitledgerError(f"price file {path} is not a JSON object")
    if isinstance(data.get("models"), dict):
        return _ours(data["models"], 1.0, str(path))
    return _litellm(data)


def load_prices(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> PriceTable:
    """Shipped table, then the env-named file, then pyproject overrides (last wins)."""
    env = os.environ if environ is None else environ
    # A plain path, not importlib.resources: that import alone costs the hook ~10 ms.
    raw = json.loads((Path(__file__).parent.parent / "data" / "prices.json").read_text(encoding="utf-8"))
    models = _ours(raw["models"], 1.0, "the shipped price table")
    aliases = {k.lower(): v for k, v in raw.get("aliases", {}).items()}
    sources = [f"shipped table (prices taken {raw.get('taken', 'unknown')})"]
    env_path = env.get(PRICES_ENV)
    if env_path:
        models.update(_read_file(Path(env_path)))
        sources.append(f"{PRICES_ENV} file")
    if overrides:
        models.update(_ours(overrides, 1.0, "[tool.commitledger.prices]"))
        sources.append("[tool.commitledger.prices]")
    return PriceTable(models, aliases, str(raw.get("taken", "unknown")), tuple(sources))
