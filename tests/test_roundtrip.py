"""Round trips of the message layer: ``X.parse(str(x))`` and ``parse_message(bytes(m))``.

Every value comes from the RFC 3261 section 25 strategies in ``strategies.py``, which also say
which typed fields the parser must recover.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    BASE,
    GenCSeq,
    GenMessage,
    GenNameAddr,
    GenURI,
    GenVia,
    chunked,
    cseqs,
    fancy_bytes,
    fancy_text,
    messages,
    name_addrs,
    parsed_params,
    uris,
    vias,
)

from dialogfsm import (
    URI,
    CSeq,
    NameAddr,
    ParseError,
    Request,
    Response,
    StreamParser,
    Via,
    parse_message,
)


def uri_fields(uri: URI) -> tuple[object, ...]:
    """Every field of a URI, for exact comparison (``==`` is the looser RFC 3261 19.1.4)."""
    return (uri.scheme, uri.user, uri.password, uri.host, uri.port, uri.params, uri.headers)


def name_addr_fields(value: NameAddr) -> tuple[object, ...]:
    """Display name, URI fields and parameters of a name-addr."""
    return (value.display_name, uri_fields(value.uri), value.params)


def gen_name_addr_fields(gen: GenNameAddr) -> tuple[object, ...]:
    """What :func:`name_addr_fields` must return for a generated name-addr."""
    return (gen.display_name, gen.uri.fields(), parsed_params(gen.params))


def via_fields(via: Via) -> tuple[object, ...]:
    """Every field of a Via value."""
    return (via.protocol, via.transport, via.host, via.port, via.params)


def gen_via_fields(gen: GenVia) -> tuple[object, ...]:
    """What :func:`via_fields` must return for a generated Via value."""
    return (gen.protocol, gen.transport, gen.host, gen.port, parsed_params(gen.params))


# ---------------------------------------------------------------------------------------------
# values
@settings(BASE, max_examples=300)
@given(uris())
def test_uri_round_trip(gen: GenURI) -> None:
    """RFC 3261 19.1.1, 25.1: URI.parse recovers every field and str() is its inverse."""
    uri = URI.parse(gen.text)
    assert uri_fields(uri) == gen.fields()
    assert uri.lr == any(name.lower() == "lr" for name, _ in gen.params)
    again = URI.parse(str(uri))
    assert again == uri
    assert hash(again) == hash(uri)
    assert uri_fields(again) == uri_fields(uri)
    assert str(again) == str(uri)


@settings(BASE, max_examples=300)
@given(st.data())
def test_name_addr_round_trip(data: st.DataObject) -> None:
    """RFC 3261 20.10, 25.1: name-addr/addr-spec with display name and SWS parse and re-print."""
    gen: GenNameAddr = data.draw(name_addrs())
    text = data.draw(fancy_text(gen.pieces), label="text")
    value = NameAddr.parse(text)
    assert name_addr_fields(value) == gen_name_addr_fields(gen)
    assert value.tag == gen.tag
    again = NameAddr.parse(str(value))
    assert again == value
    assert name_addr_fields(again) == name_addr_fields(value)
    assert str(again) == str(value)


@settings(BASE, max_examples=300)
@given(st.data())
def test_via_round_trip(data: st.DataObject) -> None:
    """RFC 3261 20.42, 25.1: via-parm with LWS around SLASH/COLON/SEMI parses and re-prints."""
    gen: GenVia = data.draw(vias(branch=data.draw(st.booleans(), label="branch")))
    text = data.draw(fancy_text(gen.pieces), label="text")
    via = Via.parse(text)
    assert via_fields(via) == gen_via_fields(gen)
    assert via.branch == gen.branch
    assert via.sent_by == (gen.host if gen.port is None else f"{gen.host}:{gen.port}")
    again = Via.parse(str(via))
    assert again == via
    assert str(again) == str(via)


@settings(BASE, max_examples=200)
@given(st.data())
def test_cseq_round_trip(data: st.DataObject) -> None:
    """RFC 3261 20.16: CSeq = 1*DIGIT LWS Method round-trips."""
    gen: GenCSeq = data.draw(cseqs())
    cseq = CSeq.parse(data.draw(fancy_text(gen.pieces), label="text"))
    assert (cseq.number, cseq.method) == (gen.number, gen.method)
    assert CSeq.parse(str(cseq)) == cseq


@settings(BASE, max_examples=50)
@given(st.integers(2**31, 10**30), st.sampled_from(["INVITE", "BYE"]))
def test_cseq_number_limit(number: int, method: str) -> None:
    """RFC 3261 8.1.1.5: a CSeq number of 2**31 or more is a ParseError."""
    with pytest.raises(ParseError):
        CSeq.parse(f"{number} {method}")


# ---------------------------------------------------------------------------------------------
# messages
def check_typed(msg: Request | Response, gen: GenMessage) -> None:
    """Assert the typed fields of ``msg`` are exactly what the generator put into ``gen``."""
    if gen.is_request:
        assert isinstance(msg, Request)
        assert gen.request_uri is not None
        assert msg.method == gen.method
        assert uri_fields(msg.uri) == gen.request_uri.fields()
    else:
        assert isinstance(msg, Response)
        assert msg.status_code == gen.status_code
        assert msg.reason == gen.reason
    assert msg.version == "SIP/2.0"
    assert msg.call_id == gen.call_id
    assert name_addr_fields(msg.from_) == gen_name_addr_fields(gen.from_)
    assert msg.from_.tag == gen.from_.tag
    assert name_addr_fields(msg.to) == gen_name_addr_fields(gen.to)
    assert msg.to.tag == gen.to.tag
    assert (msg.cseq.number, msg.cseq.method) == (gen.cseq.number, gen.cseq.method)
    assert [v.branch for v in msg.via] == [v.branch for v in gen.vias]
    assert [via_fields(v) for v in msg.via] == [gen_via_fields(v) for v in gen.vias]
    assert [name_addr_fields(c) for c in msg.contact] == [
        gen_name_addr_fields(c) for c in gen.contacts
    ]
    assert [uri_fields(c.uri) for c in msg.contact] == [c.uri.fields() for c in gen.contacts]
    assert not msg.contact_wildcard
    assert [name_addr_fields(r) for r in msg.record_route] == [
        gen_name_addr_fields(r) for r in gen.record_route
    ]
    assert msg.route == ()
    assert msg.max_forwards == gen.max_forwards
    assert msg.content_length == (len(gen.body) if gen.has_content_length else None)
    assert msg.supported == (gen.supported or ())
    assert msg.body == gen.body
    for name, _ in gen.extras:
        expected = [v for n, v in gen.extras if n.lower() == name.lower()]
        assert msg.headers.get_all(name) == expected
    # canonical names (RFC 3261 7.3.3 compact forms mapped); unknown names keep their spelling
    names = [n for n, _ in msg.headers]
    assert [n.lower() for n in names] == [line.name.lower() for line in gen.lines]
    known = [(n, line.name) for n, line in zip(names, gen.lines, strict=True)]
    assert all(n == want for n, want in known if not want.startswith("X-"))


def check_round_trip(msg: Request | Response) -> None:
    """``parse_message(bytes(m)) == m`` and serialising again gives the same octets."""
    again = parse_message(bytes(msg))
    assert again == msg
    assert bytes(again) == bytes(msg)


@settings(BASE, max_examples=200)
@given(messages())
def test_message_round_trip(gen: GenMessage) -> None:
    """RFC 3261 7: a plainly written message parses to its typed fields and round-trips."""
    msg = parse_message(gen.plain_bytes())
    check_typed(msg, gen)
    check_round_trip(msg)


@settings(BASE, max_examples=200)
@given(st.data())
def test_message_equivalent_forms(data: st.DataObject) -> None:
    """RFC 3261 7.3.1, 7.3.3: compact names, folding and LWS around ':' give the same fields."""
    gen: GenMessage = data.draw(messages())
    wire = data.draw(fancy_bytes(gen), label="wire")
    msg = parse_message(wire)
    check_typed(msg, gen)
    check_round_trip(msg)


@settings(BASE, max_examples=100)
@given(st.lists(messages(content_length=True), min_size=1, max_size=3), st.data())
def test_stream_framing(gens: list[GenMessage], data: st.DataObject) -> None:
    """RFC 3261 18.3: a stream is framed by Content-Length; CRLF keep-alives (RFC 5626) skipped."""
    wire = b""
    for gen in gens:
        wire += data.draw(st.sampled_from([b"", b"", b"\r\n", b"\r\n\r\n"]), label="keep-alive")
        wire += data.draw(st.one_of(st.just(gen.plain_bytes()), fancy_bytes(gen)), label="msg")
    parser = StreamParser()
    out: list[Request | Response] = []
    for chunk in data.draw(chunked(wire), label="chunks"):
        out.extend(parser.feed(chunk))
    assert len(out) == len(gens)
    for msg, gen in zip(out, gens, strict=True):
        check_typed(msg, gen)
        check_round_trip(msg)
