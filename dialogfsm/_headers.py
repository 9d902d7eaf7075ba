"""The header block of a message: ordered, multi-valued, case-insensitive, compact forms mapped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ._errors import LocalProtocolError
from ._grammar import is_token

# RFC 3261 7.3.3 and the IANA registry: compact form -> full name
COMPACT = {
    "i": "Call-ID", "f": "From", "t": "To", "v": "Via", "m": "Contact", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding",
    "o": "Event", "r": "Refer-To", "u": "Allow-Events", "b": "Referred-By",
    "x": "Session-Expires", "y": "Identity", "j": "Reject-Contact", "a": "Accept-Contact",
    "d": "Request-Disposition",
}  # fmt: skip
_KNOWN = (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info",
    "Authorization", "Call-Info", "Content-Disposition", "Content-Language", "Date",
    "Error-Info", "Expires", "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires",
    "Min-SE", "Organization", "Path", "P-Asserted-Identity", "Priority", "Privacy",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Reason",
    "Record-Route", "Replaces", "Reply-To", "Require", "Retry-After", "Route", "RSeq", "Server",
    "Service-Route", "Subscription-State", "Timestamp", "Unsupported", "User-Agent",
    "Warning", "WWW-Authenticate", "CSeq", *COMPACT.values(),
)  # fmt: skip
#: name as written (canonical or lower-case spelling, or compact form) -> canonical spelling
CANONICAL: dict[str, str] = {name.lower(): name for name in _KNOWN}
CANONICAL.update({name: name for name in _KNOWN})
CANONICAL.update(COMPACT)
CANONICAL.update({short.upper(): full for short, full in COMPACT.items()})


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name; unknown names are kept as written."""
    return CANONICAL.get(name.lower(), name)


class Headers:
    """An ordered, multi-valued, case-insensitive view of a message's header fields.

    Names are canonical (``i`` and ``call-id`` are both ``Call-ID``); values are unfolded
    and stripped. Immutable and hashable; ``with_`` and ``without`` return new blocks.
    """

    __slots__ = ("_items", "_lines")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        checked = []
        for raw_name, raw_value in items:
            value = str(raw_value).strip(" \t")
            name = CANONICAL.get(raw_name)  # a known name as usually spelled: a token
            if name is None:
                name = raw_name.strip(" \t")
                if not is_token(name):
                    raise LocalProtocolError(f"header name {name!r} is not a token")
                name = canonical_name(name)
            if "\r" in value or "\n" in value:
                raise LocalProtocolError(f"header {raw_name.strip()!r} value contains CR or LF")
            checked.append((name, value))
        self._items: tuple[tuple[str, str], ...] = tuple(checked)
        self._lines: tuple[int, ...] | int | None = None

    @classmethod
    def _trusted(
        cls, items: tuple[tuple[str, str], ...], lines: tuple[int, ...] | int | None
    ) -> Headers:
        """Build from the parser's canonical items, with their line numbers (or the first one's,
        when they follow each other)."""
        self = cls.__new__(cls)
        self._items = items
        self._lines = lines
        return self

    def where(self, index: int) -> str:
        """Where header ``index`` came from, for error messages."""
        name = self._items[index][0]
        if self._lines is None:
            return f"header {name!r}"
        line = self._lines + index if isinstance(self._lines, int) else self._lines[index]
        return f"header {name!r} (line {line})"

    def get(self, name: str) -> str | None:
        """The first value of ``name``, or ``None``."""
        key = canonical_name(name).lower()
        for n, v in self._items:
            if n.lower() == key:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, one per header line, in order (comma lists not split)."""
        key = canonical_name(name).lower()
        return [v for n, v in self._items if n.lower() == key]

    def with_(self, name: str, value: str) -> Headers:
        """A copy with ``name: value`` appended."""
        return Headers((*self._items, (name, value)))

    def without(self, name: str) -> Headers:
        """A copy with every ``name`` line removed."""
        key = canonical_name(name).lower()
        return Headers(item for item in self._items if item[0].lower() != key)

    def items(self) -> tuple[tuple[str, str], ...]:
        """All ``(name, value)`` pairs in order."""
        return self._items

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"

    def __str__(self) -> str:
        if not self._items:
            return ""
        return "\r\n".join(map(": ".join, self._items)) + "\r\n"
