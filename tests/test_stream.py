"""StreamParser: Content-Length framing on stream transports (RFC 3261 18.3, RFC 5626)."""

from __future__ import annotations

import pytest
from samples import BYE, OPTIONS, RINGING

from dialogfsm import Limits, ParseError, Request, StreamParser, parse_message


def test_messages_split_at_every_byte() -> None:
    """RFC 3261 18.3: messages are framed by Content-Length however the bytes arrive."""
    stream = OPTIONS + BYE + RINGING
    for cut in range(1, len(stream)):
        parser = StreamParser()
        got = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert got == [parse_message(OPTIONS), parse_message(BYE), parse_message(RINGING)]
        assert parser.buffered == 0


def test_one_byte_at_a_time_keeps_partial_message() -> None:
    """A partial message is kept until its last body byte arrives."""
    parser = StreamParser()
    out = [m for byte in BYE[:-1] for m in parser.feed(bytes([byte]))]
    assert out == []
    assert parser.buffered == len(BYE) - 1
    (message,) = parser.feed(BYE[-1:])
    assert isinstance(message, Request)
    assert message.body == b"hello"


def test_keepalives_are_skipped() -> None:
    """RFC 5626 4.4.1: CRLFCRLF pings and CRLF pongs between messages are not messages."""
    parser = StreamParser()
    assert parser.feed(b"\r\n\r\n") == []
    assert parser.feed(b"\r\n" + OPTIONS + b"\r\n\r\n\r\n") == [parse_message(OPTIONS)]
    assert parser.buffered == 0


def test_missing_content_length_breaks_the_stream() -> None:
    """RFC 3261 18.3: on a stream, a message without Content-Length cannot be framed."""
    parser = StreamParser()
    no_length = OPTIONS.replace(b"Content-Length: 0\r\n", b"")
    with pytest.raises(ParseError, match="no Content-Length"):
        parser.feed(no_length)
    with pytest.raises(ParseError, match="unusable"):
        parser.feed(OPTIONS)


@pytest.mark.parametrize(
    ("header", "fault"),
    [
        (b"Content-Length: 0\r\nl: 0", "repeated Content-Length"),
        (b"Content-Length: lots", "not a number"),
        (b"Content-Length: 99999", "exceeds"),
    ],
)
def test_bad_framing(header: bytes, fault: str) -> None:
    """Ambiguous or oversized framing is refused before any body is buffered."""
    with pytest.raises(ParseError, match=fault):
        StreamParser().feed(OPTIONS.replace(b"Content-Length: 0", header))


def test_endless_header_block_is_bounded() -> None:
    """A peer that never ends its header block cannot make the parser buffer without bound."""
    parser = StreamParser(limits=Limits(max_size=1000))
    parser.feed(b"INVITE sip:a@b SIP/2.0\r\n")

    def flood() -> None:
        for _ in range(100):
            parser.feed(b"X-Junk: " + b"j" * 50 + b"\r\n")

    with pytest.raises(ParseError, match="longer than 1000"):
        flood()
    assert parser.buffered == 0


def test_malformed_framed_message_loses_nothing() -> None:
    """A bad message inside good framing raises once; the messages around it survive."""
    bad = OPTIONS.replace(b"CSeq: 63104 OPTIONS", b"CSeq: 63104 INVITE")
    parser = StreamParser()
    with pytest.raises(ParseError, match="does not match"):
        parser.feed(OPTIONS + bad + BYE)
    assert parser.feed(b"") == [parse_message(OPTIONS), parse_message(BYE)]


def test_a_stream_that_ends_inside_a_message_says_so() -> None:
    """RFC 3261 18.3: a stream that ends (FIN, RST, the end of a capture) before a message's
    last byte lost that message: ``end`` raises saying how much of it came. Between
    messages, or after keep-alive CRLFs only, the end is clean."""
    clean = StreamParser()
    assert clean.feed(OPTIONS + b"\r\n\r\n") == [parse_message(OPTIONS)]
    clean.end()
    cut = StreamParser()
    assert cut.feed(b"\r\n" + BYE[:-3]) == []
    with pytest.raises(ParseError, match=rf"stream ended {len(BYE) - 3} bytes into a message"):
        cut.end()
    broken = StreamParser()  # its framing failed already: that was the error to report
    with pytest.raises(ParseError):
        broken.feed(b"BYE sip:b@h SIP/2.0\r\nCall-ID: x\r\n\r\n")
    broken.end()
