"""What the parser remembers of typed header values, and how a new value reuses it.

Parsed values are immutable, and SIP repeats them: every message of a transaction carries
the same Via, From, To and CSeq, every message of a dialog the same From, To, Contact and
route set, every call through a proxy the same Record-Route. So the value parsers are
memoised on the header's text, in bounded caches that only take short values: a flood of
distinct or huge values costs at most ``MEMO`` small entries each. The header handlers of
``_message`` call them directly (no wrapper): a header costs one Python call, not three.

A new From, To or Via value mostly differs from one seen before only in its last
parameter: the tag of a new dialog (the To of an ACK or BYE is the INVITE's To plus the
callee's tag; a caller's From is the same up to its tag, call after call), the branch of a
new transaction (a proxy's or a phone's Via is the same up to it). Such a value is its
remembered head plus that parameter. This is exact, not a guess: when the head is in the
fast grammar of ``_values`` and the parameter's value is one that grammar takes (no
``; , = < >``, quote or space), the whole value is in the fast grammar too, and parses to
the head's parameters followed by that one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from ._grammar import split_commas
from ._memo import Memo, bounded
from ._values import CSeq, NameAddr, Via, fast_name_addr, fast_via, parse_tokens

MEMO = 2048
"""Entries in each memo of values."""
MEMO_KEY = 256
"""Longest value a memo takes (longer ones are parsed every time)."""

_new = tuple.__new__  # a NamedTuple from a ready tuple
_param_value = re.compile(r'[^;\s",=<>]++').fullmatch  # a parameter value in PARAMS
#: name-addr values in the fast grammar -> their NameAddr (heads and whole values alike)
_NAME_ADDRS: Memo[str, NameAddr] = bounded(Memo(MEMO))
#: name-addr values only the general grammar takes (rare) -> their NameAddr
_ODD_NAME_ADDRS: Memo[str, NameAddr] = bounded(Memo(256))
#: Via values up to ";branch=" -> their Via, when in the fast grammar
_VIA_HEADS: Memo[str, Via] = bounded(Memo(MEMO))

T = TypeVar("T", NameAddr, Via)


def _head_and_last(
    value: str, marker: str, heads: Memo[str, T], fast: Callable[[str], T | None]
) -> tuple[T, str] | None:
    """``value`` as its head, parsed (remembered in ``heads``), and the value of the last
    parameter, which ``marker`` (``";tag="``) starts; ``None`` unless the head is in the fast
    grammar and that value is one the fast grammar takes."""
    cut = value.rfind(marker)
    start = cut + len(marker)
    if cut <= 0 or not _param_value(value, start):
        return None
    head = value[:cut]
    base = heads.get(head)
    if base is None:
        base = fast(head)
        if base is None:
            return None
        heads.put(head, base)
    return base, value[start:]


def name_addr_memo(value: str) -> NameAddr:
    """The From or To ``value`` (one name-addr, at most ``MEMO_KEY`` long), parsed."""
    seen = _NAME_ADDRS.get(value)
    if seen is not None:
        return seen
    split = _head_and_last(value, ";tag=", _NAME_ADDRS, fast_name_addr)
    if split is not None:
        base, tag = split
        params = (*base.params, ("tag", tag))
        return _NAME_ADDRS.put(value, _new(NameAddr, (base.uri, base.display_name, params)))
    parsed = fast_name_addr(value)
    if parsed is not None:
        return _NAME_ADDRS.put(value, parsed)
    odd = _ODD_NAME_ADDRS.get(value)
    return odd if odd is not None else _ODD_NAME_ADDRS.put(value, NameAddr.parse(value))


def name_addrs(value: str) -> tuple[NameAddr, ...]:
    """A Contact, Route or Record-Route value: one or more name-addrs."""
    if "," not in value:
        return (NameAddr.parse(value),)
    return tuple([NameAddr.parse(v) for v in split_commas(value, "name-addr")])


def vias(value: str) -> tuple[Via, ...]:
    """A Via value: one or more via-parms."""
    if "," in value:
        return tuple([Via.parse(v) for v in split_commas(value, "Via")])
    split = _head_and_last(value, ";branch=", _VIA_HEADS, fast_via)
    if split is None:
        return (Via.parse(value),)
    base, branch = split
    params = (*base.params, ("branch", branch))
    return (_new(Via, (base.transport, base.host, base.port, params, base.protocol)),)


name_addrs_memo = bounded(functools.lru_cache(maxsize=MEMO)(name_addrs))
vias_memo = bounded(functools.lru_cache(maxsize=MEMO)(vias))
cseq_memo = bounded(functools.lru_cache(maxsize=MEMO)(CSeq.parse))
tokens_memo = bounded(functools.lru_cache(maxsize=256)(parse_tokens))
