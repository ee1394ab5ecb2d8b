"""Prices of requests: genai-prices' data, through a compact table, under the user's overrides.

A request is priced on its own: at its own timestamp (prices change over
time), with its provider (Bedrock's regional profiles cost 10% more than
Anthropic's list price; Vertex has its own table), its request variant
(Claude's ``speed: fast``, OpenAI's ``service_tier: priority``), its
per-request tier (a prompt above 200k on Sonnet 4.5, above 272k on GPT-5.4,
above 100k on Haiku 5.5 moves every token of the request to the higher rate,
which a sum of requests can no longer tell) and its web searches.

The source is genai-prices. Importing it costs the commit hook ~220 ms, so
the hook reads a compact table (``genai_table.build``) kept as a marshal
file in the user's cache dir, named by the installed genai-prices version
and rebuilt when that version changes; finding the version is a directory
listing of ``sys.path``, not an import.

Overrides win: ``[tool.commitledger.prices]`` (USD per million tokens) and
a JSON file named by ``COMMITLEDGER_PRICES``, in our schema or LiteLLM's
``model_prices_and_context_window.json`` schema (USD per token). A model
with no known price has no cost (``None``), never a made-up zero.
"""

from __future__ import annotations

import math
import os
import stat
import sys

# The ABC as ``os`` loaded it at start-up: ``collections.abc`` imports all of ``collections``.
# No json, re or pathlib at import either: the commit hook prices through this module, and
# those imports cost it more than its own work (each is imported where a rarer path needs it).
from _collections_abc import Mapping

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, ClassVar

from commitledger.errors import CommitledgerError
from commitledger.slotted import Frozen, Slotted

PRICES_ENV = "COMMITLEDGER_PRICES"
CACHE_ENV = "COMMITLEDGER_CACHE_DIR"
PER_MILLION = 1_000_000.0
# A price above this (USD per million tokens) is a typo or an attack, not a price.
MAX_PRICE = 100_000.0
# COMMITLEDGER_PRICES is read whole; LiteLLM's full table is ~1.5 MB.
MAX_PRICE_FILE = 32 * 1024 * 1024
TABLE_FORMAT = 2

# Provider prefixes a model id may carry (``anthropic/``, ``vertex_ai/``, ``bedrock/``...). Names are
# normalised with string operations, not regular expressions: the hook normalises every event, and
# compiling a pattern costs it more than all the matching.
_PREFIXES = ("anthropic", "openai", "google", "gemini", "vertex_ai", "vertex", "bedrock", "azure",
             "github-copilot", "openrouter", "models")  # fmt: skip
# The provider an agent talks to when its log names none.
AGENT_PROVIDER = {"claude-code": "anthropic", "codex": "openai", "gemini-cli": "google"}
# Provider names agents log (OpenCode's providerID) to genai-prices' ids.
PROVIDER_ALIASES = {
    "amazon-bedrock": "aws", "bedrock": "aws", "google-vertex": "google", "google-vertex-anthropic": "google",
    "vertex": "google", "vertex_ai": "google", "gemini": "google", "azure-openai": "azure",
}  # fmt: skip


class Rates(Frozen):
    """USD per million tokens for one tier of one overridden model."""

    __slots__ = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    _defaults: ClassVar[dict[str, Any]] = {"cache_read": None, "cache_write_5m": None, "cache_write_1h": None}
    input: float
    output: float
    cache_read: float | None
    cache_write_5m: float | None
    cache_write_1h: float | None


class ModelPrice(Frozen):
    """An override: base rates, and the long-context tier with the prompt size above which it applies."""

    __slots__ = ("base", "long_context", "threshold")
    _defaults: ClassVar[dict[str, Any]] = {"long_context": None, "threshold": None}
    base: Rates
    long_context: Rates | None
    threshold: int | None


# --- the compact genai-prices table -------------------------------------------------------------


def _matches(clause: Any, text: str) -> bool:
    op = clause[0]
    if op == "eq":
        return text == clause[1]
    if op == "sw":
        return text.startswith(clause[1])
    if op == "in":
        return clause[1] in text
    if op == "ew":
        return text.endswith(clause[1])
    if op == "re":
        import re  # model ids resolved once are cached (Snapshot._resolved): the hook rarely gets here

        return re.search(clause[1], text) is not None
    if op == "or":
        return any(_matches(c, text) for c in clause[1])
    if op == "and":
        return all(_matches(c, text) for c in clause[1])
    return False


def _active(constraint: Any, when: float) -> bool:
    if constraint is None:
        return True
    if constraint[0] == "d":
        import time

        return time.strftime("%Y-%m-%d", time.gmtime(when)) >= constraint[1]
    if constraint[0] == "t":
        secs = int(when) % 86400
        start, end = constraint[1], constraint[2]
        return (secs >= start or secs < end) if end < start else start <= secs < end
    return False


def _compact_ref(ref: str) -> str:
    """genai-prices' retry for LiteLLM's compact dates: gpt-5.2-20251211 -> gpt-5.2-2025-12-11."""
    tail = ref[-9:]
    if not (len(tail) == 9 and tail[0] == "-" and tail[1:3] == "20" and tail[1:].isdigit() and tail[1:].isascii()):
        return ref
    year, month, day = tail[1:5], tail[5:7], tail[7:9]
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return ref
    return f"{ref[:-9]}-{year}-{month}-{day}"


class Snapshot:
    """genai-prices' providers in compact form, resolving a model id the way genai-prices does."""

    def __init__(self, data: Mapping[str, Any], resolved_path: Path | str | None = None) -> None:
        self.version = str(data.get("version", "unknown"))
        self.newest_price = str(data.get("newest_price", "unknown"))
        self.built = str(data.get("built", "unknown"))
        self.providers: list[Any] = list(data.get("providers", ()))
        self.by_id = {p[0]: p for p in self.providers}
        self._cache: dict[tuple[str, str], Any] = {}
        self._models: dict[str, Any] = {}
        # Model ids resolved by earlier runs: (hint, ref) -> (provider id, owner id, index, fallback) or ().
        # Matching walks a provider's models in order through their match logic, compiling each
        # regular expression it meets: a commit hook re-resolving the same few ids would pay that
        # every time.
        self._resolved_path = resolved_path
        self._resolved: dict[tuple[str, str], tuple[Any, ...]] = {}
        if resolved_path is not None:
            try:
                import marshal

                with open(resolved_path, "rb") as fh:
                    loaded = marshal.load(fh)
                if isinstance(loaded, dict):
                    self._resolved = loaded
            except (OSError, EOFError, ValueError, TypeError):
                pass

    def provider(self, hint: str | None, model_ref: str) -> Any:
        if hint:
            hint = hint.lower().strip()
            hint = PROVIDER_ALIASES.get(hint, hint)
            found = self.by_id.get(hint)
            if found is not None:
                return found
            for p in self.providers:
                if p[2] is not None and _matches(p[2], hint):
                    return p
        for p in self.providers:
            if p[1] is not None and _matches(p[1], model_ref):
                return p
        return None

    def models(self, provider: Any) -> Any:
        pid = provider[0]
        models = self._models.get(pid)
        if models is None:
            import marshal

            models = self._models[pid] = marshal.loads(provider[4])
        return models

    def _match_model(self, provider: Any, ref: str, fallback: bool) -> tuple[str, int, bool] | None:
        """(id of the provider listing the model, its index there, found through a fallback)."""
        for i, model in enumerate(self.models(provider)):
            if _matches(model[1], ref):
                return provider[0], i, False
        if fallback:
            for pid in provider[3]:
                other = self.by_id.get(pid)
                if other is not None:
                    found = self._match_model(other, ref, False)
                    if found is not None:
                        return found[0], found[1], True
        return None

    def find(self, model_ref: str, hint: str | None) -> tuple[str, Any, bool] | None:
        """(provider id, model, found through a fallback provider) or None."""
        key = (hint or "", model_ref)
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        known = self._resolved.get(key)
        if known is None:
            known = self._resolve(model_ref, hint)
            self._resolved[key] = known
            self._save_resolved()
        out = None
        if known:
            pid, owner, index, fallback = known
            owner_provider = self.by_id.get(owner)
            models = self.models(owner_provider) if owner_provider is not None else ()
            if index < len(models):
                out = (pid, models[index], fallback)
        self._cache[key] = out
        return out

    def _resolve(self, model_ref: str, hint: str | None) -> tuple[Any, ...]:
        ref = model_ref.lower()
        provider = self.provider(hint, ref)
        if provider is None:
            return ()
        found = self._match_model(provider, ref, True)
        if found is None and _compact_ref(ref) != ref:
            found = self._match_model(provider, _compact_ref(ref), True)
        return () if found is None else (provider[0], found[0], found[1], found[2])

    def _save_resolved(self) -> None:
        if self._resolved_path is None:
            return
        import marshal

        try:
            head, name = os.path.split(os.fspath(self._resolved_path))
            tmp = os.path.join(head, f".{name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                marshal.dump(self._resolved, fh)
            os.replace(tmp, self._resolved_path)
        except OSError:
            pass  # a read-only cache: resolved again next time

    @staticmethod
    def prices(model: Any, when: float, context: Mapping[str, str] | None, fallback: bool) -> dict[str, Any]:
        """The price keys in force for one request: conditional prices by date, then its variants."""
        conditional = model[2]
        standard = conditional[0][1]
        for constraint, prices in reversed(conditional):
            if _active(constraint, when):
                standard = prices
                break
        if not context or fallback:
            return standard  # type: ignore[no-any-return]
        resolved = dict(standard)
        seen: set[str] = set()
        for items, constraint, prices in model[3]:
            if not _active(constraint, when) or any(context.get(k) != v for k, v in items):
                continue
            for key, value in prices.items():
                if key not in seen:
                    seen.add(key)
                    resolved[key] = value
        return resolved


def _rate(value: Any, prompt: int, standard_tier: bool) -> float:
    if value.__class__ is float:
        return value  # type: ignore[no-any-return]
    rate = value[0]
    if not standard_tier:
        for start, price in reversed(value[1]):
            if prompt > start:
                return price  # type: ignore[no-any-return]
    return rate  # type: ignore[no-any-return]


def cost_from_keys(
    p: Mapping[str, Any], input: int, output: int, cache_read: int, cache_write_5m: int, cache_write_1h: int,
    web_searches: int = 0, standard_tier: bool = False,
) -> float:  # fmt: skip
    """USD of one request under genai-prices' price keys: the tier is chosen on the whole prompt."""
    prompt = input + cache_read + cache_write_5m + cache_write_1h
    inp = p.get("input_mtok")
    uncached = input
    total = 0.0
    cr = p.get("cache_read_mtok")
    if cr is not None:
        total += cache_read * _rate(cr, prompt, standard_tier)
    else:
        uncached += cache_read
    cw = p.get("cache_write_mtok")
    cw5 = p.get("cache_write_5m_mtok", cw)
    cw1 = p.get("cache_write_1h_mtok")
    if cw1 is not None:
        total += cache_write_1h * _rate(cw1, prompt, standard_tier)
    elif cw is not None:
        total += cache_write_1h * _rate(cw, prompt, standard_tier)
    else:
        uncached += cache_write_1h
    if cw5 is not None:
        total += cache_write_5m * _rate(cw5, prompt, standard_tier)
    else:
        uncached += cache_write_5m
    if inp is not None:
        total += uncached * _rate(inp, prompt, standard_tier)
    out = p.get("output_mtok")
    if out is not None:
        total += output * _rate(out, prompt, standard_tier)
    total /= PER_MILLION
    searches = p.get("web_searches_kcount")
    if searches is not None and web_searches:
        total += web_searches * _rate(searches, prompt, standard_tier) / 1000.0
    per_request = p.get("requests_kcount")
    if per_request is not None:
        total += _rate(per_request, prompt, standard_tier) / 1000.0
    return total


def context_of(tier: str | None) -> dict[str, str] | None:
    """A request variant as genai-prices' price context: ``speed=fast`` or ``service_tier=priority``."""
    if not tier:
        return None
    key, _, value = tier.partition("=")
    return {key: value} if value else None


# --- the table: overrides over the snapshot ---------------------------------------------------------


class PriceTable(Slotted):
    """Overrides (by normalised model name) over genai-prices' snapshot (None when not installed)."""

    __slots__ = ("models", "aliases", "taken", "sources", "snapshot", "bad")
    _defaults: ClassVar[dict[str, Any]] = {"aliases": dict, "taken": "unknown", "sources": tuple,
                                           "snapshot": None, "bad": 0}
    models: dict[str, ModelPrice]
    aliases: dict[str, str]
    taken: str
    sources: tuple[str, ...]
    snapshot: Snapshot | None
    bad: int

    def override(self, model: str) -> tuple[str, ModelPrice] | None:
        for candidate in _candidates(model):
            name = self.aliases.get(candidate, candidate)
            price = self.models.get(name)
            if price is not None:
                return name, price
        return None

    def find(self, model: str, provider: str | None = None, agent: str | None = None) -> tuple[str, Any, bool] | None:
        """genai-prices' (provider, model, via fallback) for a model id as an agent logged it."""
        snap = self.snapshot
        if snap is None or not model:
            return None
        hint = provider or _provider_of(model) or AGENT_PROVIDER.get(agent or "")
        for candidate in _candidates(model, keep_raw=True):
            found = snap.find(candidate, hint)
            if found is None and hint:
                # A provider that does not list the model (an aggregator, a new gateway): the model's own.
                found = snap.find(candidate, None)
            if found is not None:
                return found
        return None

    def lookup(self, model: str, provider: str | None = None, agent: str | None = None) -> tuple[str, Any] | None:
        """Which price a model id resolves to (an override's name, or genai-prices' model id); None when unknown."""
        found = self.override(model)
        if found is not None:
            return found
        hit = self.find(model, provider, agent)
        return None if hit is None else (hit[1][0], hit)

    def cost(
        self,
        model: str,
        *,
        input: int = 0,
        output: int = 0,
        cache_read: int = 0,
        cache_write_5m: int = 0,
        cache_write_1h: int = 0,
        when: float | None = None,
        provider: str | None = None,
        tier: str | None = None,
        web_searches: int = 0,
        agent: str | None = None,
        standard_tier: bool = False,
    ) -> float | None:
        """Cost in USD of one request; None when the model has no known price.

        ``standard_tier`` prices every token at the base rate (``record`` without
        ``--requests`` cannot tell how the total was split into requests).
        """
        found = self.override(model)
        if found is not None:
            return _override_cost(found[1], input, output, cache_read, cache_write_5m, cache_write_1h, standard_tier)
        hit = self.find(model, provider, agent)
        if hit is None:
            return None
        import time

        at = time.time() if when is None else when
        keys = Snapshot.prices(hit[1], at, context_of(tier), hit[2])
        if not keys:
            return None
        return cost_from_keys(keys, input, output, cache_read, cache_write_5m, cache_write_1h, web_searches,
                              standard_tier)

    def describe(self) -> str:
        """One line for ``doctor``: where prices come from."""
        return "; ".join(self.sources) if self.sources else "no price source"


def _override_cost(
    price: ModelPrice, input: int, output: int, cache_read: int, cw5: int, cw1: int, standard_tier: bool
) -> float:
    rates = price.base
    prompt = input + cache_read + cw5 + cw1
    if (not standard_tier and price.long_context is not None and price.threshold is not None
            and prompt > price.threshold):
        rates = price.long_context
    cache_read_rate = rates.cache_read if rates.cache_read is not None else rates.input
    r5 = rates.cache_write_5m if rates.cache_write_5m is not None else rates.input
    r1 = rates.cache_write_1h if rates.cache_write_1h is not None else r5
    total = input * rates.input + output * rates.output + cache_read * cache_read_rate + cw5 * r5 + cw1 * r1
    return total / PER_MILLION


def _bedrock_rest(name: str) -> str | None:
    """What follows ``anthropic.`` in a Bedrock id (``[bedrock/][us.|apac.|global.|us-gov.]anthropic.x``)."""
    if name.startswith("bedrock/"):
        name = name[8:]
    if name.startswith("anthropic."):
        return name[10:]
    dot = name.find(".")
    if 0 < dot and name[dot + 1 : dot + 11] == "anthropic." and _is_region(name[:dot]):
        return name[dot + 11 :]
    return None


def _is_region(text: str) -> bool:
    return text[0].isalpha() and all(ch.isascii() and (ch.isalpha() or ch == "-") for ch in text)


def _provider_of(model: str) -> str | None:
    """The provider a model id's own shape names: Bedrock profiles, Vertex's ``@date``."""
    low = model.strip().lower()
    if _bedrock_rest(low) is not None:
        return "aws"
    if low.startswith(("vertex_ai/", "vertex/")) or ("@" in low and low.startswith("claude")):
        return "google"
    return None


def _strip_date(name: str) -> str:
    """``-20250929``, ``@20250929`` or ``-2025-09-29`` at the end."""
    if len(name) >= 9 and name[-9] in "-@" and name[-8:].isdigit() and name[-8:-6] == "20":
        return name[:-9]
    tail = name[-11:]
    if (len(name) >= 11 and tail[0] in "-@" and tail[1:3] == "20" and tail[5] == "-" and tail[8] == "-"
            and (tail[1:5] + tail[6:8] + tail[9:11]).isdigit()):
        return name[:-11]
    return name


def _strip_bedrock_version(name: str) -> str:
    """``-v1`` or ``-v1:0`` at the end."""
    at = name.rfind("-v")
    if at < 0:
        return name
    rest = name[at + 2 :]
    head, _, minor = rest.partition(":")
    if head.isdigit() and (not minor or minor.isdigit()) and (":" not in rest or minor):
        return name[:at]
    return name


def normalise_model(model: str) -> str:
    """The name a model is grouped under: no provider prefix or Bedrock profile, no date, dashes in Claude versions."""
    name = model.strip().lower()
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if name.startswith(prefix) and name[len(prefix) : len(prefix) + 1] in ("/", "."):
                name = name[len(prefix) + 1 :]
                stripped = True
                break
    rest = _bedrock_rest(name)
    if rest is not None:
        name = rest
    name = _strip_bedrock_version(name)
    if name.endswith("-latest"):
        name = name[:-7]
    name = _strip_date(name)
    if name.startswith("claude-") and "." in name:
        # claude-sonnet-4.5 (OpenCode, Copilot) is Anthropic's claude-sonnet-4-5.
        chars = list(name)
        for i in range(1, len(chars) - 1):
            if chars[i] == "." and chars[i - 1].isdigit() and chars[i + 1].isdigit():
                chars[i] = "-"
        name = "".join(chars)
    return name or model


def _candidates(model: str, keep_raw: bool = False) -> list[str]:
    raw = model.strip().lower()
    norm = normalise_model(model)
    out = [raw]
    if keep_raw and "/" in raw:
        out.append(raw.rsplit("/", 1)[1])
    out.append(norm)
    return list(dict.fromkeys(out))


# --- overrides ----------------------------------------------------------------------------------------


def _price_number(value: Any, where: str, key: str, scale: float) -> float:
    if isinstance(value, bool):
        raise CommitledgerError(f"price entry {where}: '{key}' is not a number")
    try:
        number = float(value) * scale
    except (TypeError, ValueError, OverflowError):
        raise CommitledgerError(f"price entry {where}: '{key}' is not a number") from None
    if not math.isfinite(number) or number < 0 or number > MAX_PRICE:
        raise CommitledgerError(
            f"price entry {where}: '{key}' must be between 0 and {MAX_PRICE:g} USD per million tokens"
        )
    return number


def _rates(entry: Mapping[str, Any], scale: float, where: str) -> Rates:
    if "input" not in entry or "output" not in entry:
        raise CommitledgerError(f"price entry {where} needs numeric 'input' and 'output'")
    inp = _price_number(entry["input"], where, "input", scale)
    out = _price_number(entry["output"], where, "output", scale)

    def opt(key: str) -> float | None:
        value = entry.get(key)
        return None if value is None else _price_number(value, where, key, scale)

    cw5 = opt("cache_write_5m")
    if cw5 is None:
        cw5 = opt("cache_write")
    return Rates(inp, out, opt("cache_read"), cw5, opt("cache_write_1h"))


def _ours(models: Mapping[str, Any], scale: float, origin: str) -> dict[str, ModelPrice]:
    out: dict[str, ModelPrice] = {}
    for name, entry in models.items():
        if not isinstance(entry, Mapping):
            raise CommitledgerError(f"price entry {str(name)[:80]!r} in {origin} is not a table")
        where = f"{str(name)[:80]!r} in {origin}"
        long = entry.get("long_context")
        long_rates = _rates(long, scale, where + " (long_context)") if isinstance(long, Mapping) else None
        threshold = None
        if isinstance(long, Mapping) and "threshold" in long:
            raw = long["threshold"]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
                raise CommitledgerError(f"price entry {where}: long_context 'threshold' must be a token count")
            threshold = int(raw)
        out[normalise_model(str(name))] = ModelPrice(_rates(entry, scale, where), long_rates, threshold)
    return out


def _litellm(data: Mapping[str, Any]) -> tuple[dict[str, ModelPrice], int]:
    """LiteLLM's table; entries with a negative, non-finite or absurd price are skipped and counted."""
    out: dict[str, ModelPrice] = {}
    bad = 0
    for name, entry in data.items():
        if not isinstance(entry, Mapping) or "input_cost_per_token" not in entry:
            continue
        try:
            base = Rates(
                _per_token(entry["input_cost_per_token"]),
                _per_token(entry.get("output_cost_per_token", 0.0)),
                _opt_m(entry.get("cache_read_input_token_cost")),
                _opt_m(entry.get("cache_creation_input_token_cost")),
                _opt_m(entry.get("cache_creation_input_token_cost_above_1hr")),
            )
            long = None
            if "input_cost_per_token_above_200k_tokens" in entry:
                long = Rates(
                    _per_token(entry["input_cost_per_token_above_200k_tokens"]),
                    _per_token(entry.get("output_cost_per_token_above_200k_tokens",
                                         entry.get("output_cost_per_token", 0.0))),
                    _opt_m(entry.get("cache_read_input_token_cost_above_200k_tokens")),
                    _opt_m(entry.get("cache_creation_input_token_cost_above_200k_tokens")),
                    _opt_m(entry.get("cache_creation_input_token_cost_above_1hr_above_200k_tokens")),
                )
        except (TypeError, ValueError, OverflowError):
            bad += 1
            continue
        out[normalise_model(str(name))] = ModelPrice(base, long, 200_000 if long else None)
    return out, bad


def _per_token(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("bool")
    number = float(value) * PER_MILLION
    if not math.isfinite(number) or number < 0 or number > MAX_PRICE:
        raise ValueError("out of range")
    return number


def _opt_m(value: Any) -> float | None:
    return None if value is None else _per_token(value)


def _read_file(path: str) -> tuple[dict[str, ModelPrice], int]:
    """The env-named file: a regular file under the size cap, read without blocking on a FIFO."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CommitledgerError(f"{PRICES_ENV} names {path}, which does not exist") from None
    except OSError as exc:
        raise CommitledgerError(f"cannot read price file {path}: {exc.__class__.__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CommitledgerError(f"{PRICES_ENV} names {path}, which is not a regular file")
    if info.st_size > MAX_PRICE_FILE:
        raise CommitledgerError(f"price file {path} is larger than {MAX_PRICE_FILE // (1024 * 1024)} MB")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a FIFO between stat and open
                raise CommitledgerError(f"{PRICES_ENV} names {path}, which is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read(MAX_PRICE_FILE + 1)
        finally:
            os.close(fd)
        if len(raw) > MAX_PRICE_FILE:
            raise CommitledgerError(f"price file {path} is larger than {MAX_PRICE_FILE // (1024 * 1024)} MB")
        import json

        data = json.loads(raw.decode("utf-8"))
    except CommitledgerError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CommitledgerError(f"cannot read price file {path}: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise CommitledgerError(f"price file {path} is not a JSON object")
    if isinstance(data.get("models"), dict):
        return _ours(data["models"], 1.0, str(path)), 0
    return _litellm(data)


# --- the snapshot file --------------------------------------------------------------------------------


def genai_prices_version() -> str | None:
    """The installed genai-prices version, from its dist-info directory name (no import)."""
    for entry in sys.path:
        # The import system has listed these directories already (FileFinder's cache): reuse that.
        finder = sys.path_importer_cache.get(entry)
        names = getattr(finder, "_path_cache", None)
        if not names:
            try:
                names = os.listdir(entry or ".")
            except OSError:
                continue
        for name in names:
            if name.startswith("genai_prices-") and name.endswith(".dist-info"):
                return name[len("genai_prices-") : -len(".dist-info")]
    return None


def cache_path(environ: Mapping[str, str]) -> str:
    """Where the compact table is cached, as a str (the hook reads it without pathlib)."""
    explicit = environ.get(CACHE_ENV)
    if explicit:
        return explicit
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "commitledger")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".cache", "commitledger")


def cache_dir(environ: Mapping[str, str]) -> Path:
    from pathlib import Path

    return Path(cache_path(environ))


def load_snapshot(environ: Mapping[str, str]) -> Snapshot | None:
    """genai-prices' compact table: from the cache file for the installed version, built on a miss."""
    import marshal

    version = genai_prices_version()
    if version is None:
        return None
    directory = cache_path(environ)
    name = f"genai-prices-{version}-f{TABLE_FORMAT}"
    path = os.path.join(directory, name + ".marshal")
    resolved = os.path.join(directory, name + ".resolved")
    try:
        with open(path, "rb") as fh:
            data = marshal.load(fh)
        if isinstance(data, dict) and data.get("version") == version:
            return Snapshot(data, resolved)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    try:
        from commitledger.ledger.genai_table import build

        data = build()
    except ImportError:
        return None
    try:
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".{name}.marshal.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            marshal.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache dir: priced all the same, built again next time
    return Snapshot(data, resolved)


def load_prices(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> PriceTable:
    """genai-prices' snapshot, under the env-named file, under pyproject overrides (last wins)."""
    env = os.environ if environ is None else environ
    snapshot = load_snapshot(env)
    models: dict[str, ModelPrice] = {}
    sources: list[str] = []
    taken = "unknown"
    if snapshot is not None:
        taken = snapshot.newest_price
        sources.append(f"genai-prices {snapshot.version} (newest price change {snapshot.newest_price}, "
                       f"table built {snapshot.built})")
    bad = 0
    env_path = env.get(PRICES_ENV)
    if env_path:
        found, bad = _read_file(env_path)
        models.update(found)
        sources.append(f"{PRICES_ENV} file ({len(found)} models" + (f", {bad} bad entries skipped)" if bad else ")"))
    if overrides:
        models.update(_ours(overrides, 1.0, "[tool.commitledger.prices]"))
        sources.append("[tool.commitledger.prices]")
    return PriceTable(models, {}, taken, tuple(sources), snapshot, bad)


def price_later(
    usage: Any, model: str, agent: str | None = None, table: PriceTable | None = None, when: float | None = None
) -> bool:
    """Price a trailer line that carries tokens but no ``cost_usd`` (unpriced when committed).

    The tokens of a line are a sum of requests, so they are priced as that
    many even requests (``requests`` when known, else one request at the
    standard tier, as ``record`` does) with the current table. The line is
    marked (``priced_later``) so readers say so and count it; it is never
    left out of a sum nor shown as $0. Returns whether it priced the line.
    """
    if usage.cost_usd is not None or not usage.has_tokens():
        return False
    table = table if table is not None else default_table()
    cost = split_cost(table, model, int(usage.input or 0), int(usage.output or 0), int(usage.cache_read or 0),
                      int(usage.cache_write or 0), usage.requests, when, agent)
    if cost is None:
        return False
    usage.cost_usd = cost
    usage.cost_complete = True
    usage.priced_later = 1
    return True


def price_lines_later(lines: Any, when: float | None = None) -> int:
    """``price_later`` over ``UsageLine``s; how many it priced."""
    return sum(price_later(line.usage, line.model, line.agent, when=when) for line in lines)


def split_cost(
    table: PriceTable, model: str, input: int, output: int, cache_read: int, cache_write: int,
    requests: int | None, when: float | None, agent: str | None = None,
) -> float | None:  # fmt: skip
    """Totals priced as ``requests`` even requests, each choosing its own tier; the standard tier without a count.

    One request of the whole total would cross a long-context threshold that
    none of the real requests crossed (ten requests of 45k are not one of 450k).
    """
    if not requests or requests <= 1:
        return table.cost(model, input=input, output=output, cache_read=cache_read, cache_write_5m=cache_write,
                          when=when, agent=agent, standard_tier=not requests)
    n = requests
    each = table.cost(model, input=input // n, output=output // n, cache_read=cache_read // n,
                      cache_write_5m=cache_write // n, when=when, agent=agent)
    if each is None:
        return None
    rest = (input % n, output % n, cache_read % n, cache_write % n)
    extra = 0.0
    if any(rest):
        extra = table.cost(model, input=rest[0], output=rest[1], cache_read=rest[2], cache_write_5m=rest[3],
                           when=when, agent=agent, standard_tier=True) or 0.0
    return each * n + extra


def table_stamp(environ: Mapping[str, str] | None = None) -> str:
    """What a cost priced now depends on: the installed genai-prices and the ``COMMITLEDGER_PRICES`` file.

    history's cache keeps costs it priced later; when this stamp changes
    (genai-prices upgraded, the override file edited) those figures are
    stale and are computed again. Cheap: no table is loaded.
    """
    import hashlib  # not at the top: pricing is on the hook's path, this is not

    env = os.environ if environ is None else environ
    parts = [genai_prices_version() or "none"]
    env_path = env.get(PRICES_ENV)
    if env_path:
        try:
            st = os.stat(env_path)
            parts.append(f"{env_path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{env_path}:missing")
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:12]


_DEFAULT: list[PriceTable] = []


def default_table() -> PriceTable:
    """The table readers of old trailers use: genai-prices under the env-named file (loaded once)."""
    if not _DEFAULT:
        _DEFAULT.append(load_prices())
    return _DEFAULT[0]
