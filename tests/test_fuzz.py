"""Mutation fuzzing of the parser: whatever the octets, ``ParseError`` or a message, never a crash.

Three valid messages (an INVITE with SDP and Record-Route, its 200 OK, a BYE) are mutated:
byte flips, insertions, truncation, duplicated/reordered/removed header lines, huge values,
non-UTF-8 octets, NULs, lost CRLFs. Whatever parses must also round-trip (RFC 3261 7).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BASE, chunked

from dialogfsm import ParseError, Request, Response, StreamParser, parse_message

SDP_OFFER = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)
SDP_ANSWER = SDP_OFFER.replace(b"alice", b"bob").replace(b"49172", b"3456")

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport=5060\r\n"
    b"Max-Forwards: 69\r\n"
    b"Record-Route: <sip:proxy.example.com;lr>, <sip:[2001:db8::1]:5061;transport=tls;lr>\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>;expires=3600\r\n"
    b"Supported: 100rel, timer\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n"
    b"\r\n" % len(SDP_OFFER)
) + SDP_OFFER

OK = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport=5060\r\n"
    b"Record-Route: <sip:proxy.example.com;lr>, <sip:[2001:db8::1]:5061;transport=tls;lr>\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n"
    b"\r\n" % len(SDP_ANSWER)
) + SDP_ANSWER

BYE = (
    b"BYE sip:alice@pc33.atlanta.example.com;transport=udp SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
    b"Route: <sip:[2001:db8::1]:5061;transport=tls;lr>, <sip:proxy.example.com;lr>\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b'To: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 231 BYE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)

SEEDS = {"invite": INVITE, "ok": OK, "bye": BYE}

#: the typed properties of the API contract, all of which parse lazily
TYPED = (
    "call_id", "from_", "to", "cseq", "via", "contact", "contact_wildcard", "record_route",
    "route", "max_forwards", "content_length", "require", "supported", "rseq", "rack", "event",
    "subscription_state",
)  # fmt: skip


def check_message(msg: object) -> None:
    """A message: typed fields raise nothing but ParseError, and it round-trips (RFC 3261 7)."""
    assert isinstance(msg, Request | Response)
    for name in TYPED:
        with contextlib.suppress(ParseError):
            getattr(msg, name)
    again = parse_message(bytes(msg))
    assert again == msg


def check_datagram(data: bytes) -> None:
    """``parse_message`` returns a message that round-trips, or raises ParseError."""
    try:
        msg = parse_message(data)
    except ParseError:
        return
    check_message(msg)


def feed_stream(chunks: list[bytes]) -> tuple[list[Request | Response], bool]:
    """Feed ``chunks`` to one StreamParser: the messages out, and whether it raised ParseError."""
    parser = StreamParser()
    out: list[Request | Response] = []
    try:
        for chunk in chunks:
            out.extend(parser.feed(chunk))
    except ParseError:
        return out, True
    return out, False


# ---------------------------------------------------------------------------------------------
# mutations
Mutation = Callable[[st.DrawFn, bytes], bytes]


def _split(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    return lines[0], lines[1:], sep + body


def _join(start: bytes, headers: list[bytes], rest: bytes) -> bytes:
    return b"\r\n".join([start, *headers]) + rest


def _pick_header(draw: st.DrawFn, headers: list[bytes]) -> int | None:
    return draw(st.integers(0, len(headers) - 1)) if headers else None


def flip_byte(draw: st.DrawFn, data: bytes) -> bytes:
    """XOR one octet with a non-zero mask."""
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]


def insert_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """Insert 1-16 random octets anywhere."""
    i = draw(st.integers(0, len(data)))
    return data[:i] + draw(st.binary(min_size=1, max_size=16)) + data[i:]


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    """Cut the datagram short."""
    return data[: draw(st.integers(0, len(data)))]


def duplicate_header(draw: st.DrawFn, data: bytes) -> bytes:
    """Repeat one header line somewhere in the header block."""
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None:
        return data
    headers.insert(draw(st.integers(0, len(headers))), headers[i])
    return _join(start, headers, rest)


def reorder_headers(draw: st.DrawFn, data: bytes) -> bytes:
    """Shuffle the header lines."""
    start, headers, rest = _split(data)
    return _join(start, list(draw(st.permutations(headers))), rest)


def delete_header(draw: st.DrawFn, data: bytes) -> bytes:
    """Remove one header line."""
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None:
        return data
    del headers[i]
    return _join(start, headers, rest)


FILLERS = (
    b"a", b"x;", b";p", b"<sip:a@b>, ", b",", b"\t", b" ", b'"', b"\\", b"\xc3\xa9", b"%", b"=",
    b"SIP/2.0/UDP h;branch=z9hG4bK1, ", b"<", b"9",
)  # fmt: skip


def huge_value(draw: st.DrawFn, data: bytes) -> bytes:
    """Give a header (existing or new) a value of up to ~100 KB."""
    size = draw(
        st.one_of(st.sampled_from([8_191, 8_193, 65_536, 100_000]), st.integers(0, 100_000))
    )
    filler = draw(st.sampled_from(FILLERS))
    value = (filler * (size // len(filler) + 1))[:size]
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None or draw(st.booleans()):
        headers.insert(draw(st.integers(0, len(headers))), b"X-Huge: " + value)
    else:
        name = headers[i].partition(b":")[0]
        headers[i] = name + b": " + value
    return _join(start, headers, rest)


NON_UTF8 = (
    b"\xff",
    b"\xfe\xff",
    b"\xc3(",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x80",
)


def non_utf8(draw: st.DrawFn, data: bytes) -> bytes:
    """Put octets that are not UTF-8 (or high octets at random) into a header line."""
    junk = draw(
        st.one_of(
            st.sampled_from(NON_UTF8),
            st.binary(min_size=1, max_size=6).map(lambda b: bytes(c | 0x80 for c in b)),
        )
    )
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None:
        return junk + data
    line = headers[i]
    pos = draw(st.integers(0, len(line)))
    headers[i] = line[:pos] + junk + line[pos:]
    return _join(start, headers, rest)


def nul_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """Insert or overwrite with NUL octets."""
    i = draw(st.integers(0, len(data)))
    nuls = b"\x00" * draw(st.integers(1, 3))
    if draw(st.booleans()):
        return data[:i] + nuls + data[i:]
    return data[:i] + nuls + data[i + len(nuls) :]


def mangle_crlf(draw: st.DrawFn, data: bytes) -> bytes:
    """Remove one CRLF or all of them, or turn CRLFs into bare LF or CR."""
    count = data.count(b"\r\n")
    kind = draw(st.sampled_from(["one", "all", "lf", "cr", "one-lf", "one-cr"]))
    if kind == "all":
        return data.replace(b"\r\n", b"")
    if kind == "lf":
        return data.replace(b"\r\n", b"\n")
    if kind == "cr":
        return data.replace(b"\r\n", b"\r")
    if count == 0:
        return data
    k = draw(st.integers(0, count - 1))
    pos = -1
    for _ in range(k + 1):
        pos = data.index(b"\r\n", pos + 1)
    new = {"one": b"", "one-lf": b"\n", "one-cr": b"\r"}[kind]
    return data[:pos] + new + data[pos + 2 :]


def garbage_value(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace one header's value with text made of SIP's special characters."""
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None:
        return data
    value = draw(
        st.lists(
            st.sampled_from(
                ["<", ">", '"', "\\", ";", ",", ":", "@", "=", "?", "&", "/", " ", "\t", "[",
                 "]", "%", "sip:", "tel:", "SIP/2.0", "UDP", "tag", "branch", "z9hG4bK", "a",
                 "1", "65536", "2147483648", "*", "é"]
            ),
            max_size=20,
        ).map("".join)
    )  # fmt: skip
    name = headers[i].partition(b":")[0]
    headers[i] = name + b":" + value.encode()
    return _join(start, headers, rest)


def bad_content_length(draw: st.DrawFn, data: bytes) -> bytes:
    """Set Content-Length to a number, a negative, a huge or a non-numeric value."""
    value = draw(
        st.one_of(
            st.integers(0, 2000).map(str),
            st.sampled_from(["-1", "", "abc", "1e3", "0x10", "+5", "99999999999999999999999",
                             "\u0663", "5 5", "00000000000000000000000000001"]),
        )
    )  # fmt: skip
    start, headers, rest = _split(data)
    for i, line in enumerate(headers):
        if line.lower().startswith(b"content-length"):
            headers[i] = b"Content-Length: " + value.encode()
    return _join(start, headers, rest)


def continuation(draw: st.DrawFn, data: bytes) -> bytes:
    """Indent a header line (making it a continuation) or add a white-space-only line."""
    start, headers, rest = _split(data)
    i = _pick_header(draw, headers)
    if i is None:
        return data
    ws = draw(st.sampled_from([b" ", b"\t", b"  \t"]))
    if draw(st.booleans()):
        headers[i] = ws + headers[i]
    else:
        headers.insert(i, ws)
    return _join(start, headers, rest)


def mutate_start_line(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace the start line by a near miss."""
    _, headers, rest = _split(data)
    new = draw(
        st.sampled_from(
            [b"SIP/3.0 200 OK", b"SIP/2.0 99 Low", b"SIP/2.0 700 High", b"SIP/2.0 2000 OK",
             b"SIP/2.0 200", b"SIP/2.0 OK", b"SIP/2.0", b"INVITE sip:a@b SIP/3.0",
             b"invite sip:a@b SIP/2.0", b"INVITE  sip:a@b SIP/2.0", b"INVITE sip:a@b",
             b"INVITE <sip:a@b> SIP/2.0", b"INVITE sip:a@b SIP/2.0 ", b"", b" ",
             b"BYE sip:a@b SIP/2.0", b"SIP/2.0 -200 OK", b"SIP/2.0 \xd9\xa3\xd9\xa3\xd9\xa3 OK",
             b"\xff\xfe INVITE sip:a@b SIP/2.0", b"SIP/2.0 200 OK\x00"]
        )
    )  # fmt: skip
    return _join(new, headers, rest)


MUTATIONS: tuple[Mutation, ...] = (
    flip_byte, insert_bytes, truncate, duplicate_header, reorder_headers, delete_header,
    non_utf8, nul_bytes, mangle_crlf, garbage_value, bad_content_length, continuation,
    mutate_start_line,
)  # fmt: skip


@st.composite
def mutants(draw: st.DrawFn, ops: tuple[Mutation, ...] = MUTATIONS) -> bytes:
    """A seed message with 1-3 mutations applied in turn."""
    data = draw(st.sampled_from(list(SEEDS.values())))
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(ops))(draw, data)
    return data


@st.composite
def huge_mutants(draw: st.DrawFn) -> bytes:
    """A seed with one huge header value, maybe mutated once more."""
    data = huge_value(draw, draw(st.sampled_from(list(SEEDS.values()))))
    if draw(st.booleans()):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return data


# ---------------------------------------------------------------------------------------------
# tests
@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seeds_are_valid(name: str) -> None:
    """RFC 3261 7: the fuzzing seeds themselves parse and round-trip."""
    msg = parse_message(SEEDS[name])
    check_message(msg)
    assert feed_stream([SEEDS[name]]) == ([msg], False)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_truncation_at_every_length(name: str) -> None:
    """RFC 3261 18.3: a datagram cut at any length is a message or a ParseError."""
    seed = SEEDS[name]
    for length in range(len(seed) + 1):
        check_datagram(seed[:length])
        out, _ = feed_stream([seed[:length]])
        # a stream framed by Content-Length yields nothing until the whole body is there
        assert out == ([] if length < len(seed) else [parse_message(seed)])


@settings(BASE, max_examples=600)
@given(mutants())
def test_mutated_datagram(data: bytes) -> None:
    """RFC 3261 7, 18.3: any mutated datagram parses (and round-trips) or is a ParseError."""
    check_datagram(data)


@settings(BASE, max_examples=40)
@given(huge_mutants())
def test_huge_header_values(data: bytes) -> None:
    """RFC 3261 7.3: header values of up to ~100 KB are handled or refused with ParseError."""
    check_datagram(data)
    out, _ = feed_stream([data])
    for msg in out:
        check_message(msg)


@settings(BASE, max_examples=300)
@given(st.lists(mutants(), min_size=1, max_size=3), st.data())
def test_mutated_stream(datagrams: list[bytes], data: st.DataObject) -> None:
    """RFC 3261 18.3: a StreamParser fed mutants in any chunks yields messages or ParseError."""
    wire = b"".join(
        data.draw(st.sampled_from([b"", b"", b"\r\n", b"\r\n\r\n"]), label="keep-alive") + d
        for d in datagrams
    )
    chunks = data.draw(chunked(wire), label="chunks")
    out, failed = feed_stream(chunks)
    # when neither way raised, the chunking must not change what comes out
    for msg in out:
        check_message(msg)
    whole, whole_failed = feed_stream([wire])
    if not failed and not whole_failed:
        assert out == whole


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


_LENGTH = b"Content-Length: %d" % len(SDP_OFFER)
_TOP_VIA = b"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1\r\n"
_TO = b"To: Bob <sip:bob@biloxi.example.com>\r\n"
_FROM = b'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
_CALL_ID = b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
_CSEQ = b"CSeq: 314159 INVITE\r\n"
_MAX_FORWARDS = b"Max-Forwards: 69\r\n"
VIOLATIONS = {
    "content-length too large": _replace(INVITE, _LENGTH, b"Content-Length: 9999"),
    "content-length negative": _replace(INVITE, _LENGTH, b"Content-Length: -1"),
    "content-length not a number": _replace(INVITE, _LENGTH, b"Content-Length: ten"),
    "content-length repeated": _replace(INVITE, _LENGTH, _LENGTH + b"\r\n" + _LENGTH),
    "no To": _replace(INVITE, _TO, b""),
    "no From": _replace(INVITE, _FROM, b""),
    "no Call-ID": _replace(INVITE, _CALL_ID, b""),
    "no CSeq": _replace(INVITE, _CSEQ, b""),
    "no Via": _replace(_replace(INVITE, _TOP_VIA, b""), b"Via: SIP/2.0/UDP pc33", b"X-V: pc33"),
    "To repeated": _replace(INVITE, _TO, _TO + _TO),
    "From repeated": _replace(INVITE, _FROM, _FROM + _FROM),
    "Call-ID repeated": _replace(INVITE, _CALL_ID, _CALL_ID + _CALL_ID),
    "Call-ID repeated compact": _replace(INVITE, _CALL_ID, _CALL_ID + b"i: x@y\r\n"),
    "CSeq repeated": _replace(INVITE, _CSEQ, _CSEQ + _CSEQ),
    "Max-Forwards repeated": _replace(INVITE, _MAX_FORWARDS, _MAX_FORWARDS + _MAX_FORWARDS),
    "CSeq method mismatch": _replace(INVITE, _CSEQ, b"CSeq: 314159 BYE\r\n"),
    "CSeq number 2**31": _replace(INVITE, _CSEQ, b"CSeq: 2147483648 INVITE\r\n"),
    "Max-Forwards 256": _replace(INVITE, _MAX_FORWARDS, b"Max-Forwards: 256\r\n"),
    "version SIP/3.0": _replace(INVITE, b"SIP/2.0\r\n", b"SIP/3.0\r\n"),
    "status 99": _replace(OK, b"SIP/2.0 200 OK", b"SIP/2.0 099 OK"),
    "status 700": _replace(OK, b"SIP/2.0 200 OK", b"SIP/2.0 700 OK"),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_contract_violations(name: str) -> None:
    """RFC 3261 7, 8.1.1, 20: each violation the API contract names is a ParseError."""
    with pytest.raises(ParseError):
        parse_message(VIOLATIONS[name])
