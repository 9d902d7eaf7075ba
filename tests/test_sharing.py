"""What dialogs share to stay small, and that sharing never mixes them up.

A live dialog keeps three URIs as text (their parts are split when read, through a bounded
cache), shares its route set with every dialog through the same proxies (through a bounded
table), and packs its caller / INVITE-usage / REFER marks into one field. Each test floods
the shared structure past its bound and checks every dialog still reads right.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogfsm import (
    URI,
    DialogManager,
    NameAddr,
    ParseError,
    Request,
    Response,
    Via,
    _parser,
    _state,
    _uri,
    _value_memos,
    build_response,
    clear_caches,
    parse_message,
)

INVITE = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKshare{n}\r\n"
    "Max-Forwards: 70\r\n"
    "{routes}"
    "From: Alice <sip:alice{n}@atlanta.example.com>;tag=from{n}\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: share{n}@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice{n}@client.atlanta.example.com:{port};transport=udp>\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)
PROXIES = (
    "Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n"
    "Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n"
)


def invite(n: int, routes: str = PROXIES) -> Request:
    message = parse_message(INVITE.format(n=n, routes=routes, port=5060 + n % 1000).encode())
    assert isinstance(message, Request)
    return message


def answered(uas: DialogManager, request: Request, n: int) -> None:
    uas.receive(request, now=0.0)
    uas.send(build_response(request, 200, to_tag=f"to{n}", contact="<sip:bob@ua.biloxi>"), now=0.0)


def test_uri_parts_stay_right_when_the_split_cache_turns_over() -> None:
    """URI parts come from a bounded cache of split URIs: read far more URIs than it holds,
    and each one still reads its own parts, and the cache stays within its bound."""
    uris = [URI(f"sip:user{n}@host{n}.example.com:{5000 + n % 60000};transport=tcp")
            for n in range(3 * _uri._SPLITS.limit)]  # fmt: skip
    for n, uri in enumerate(uris):
        assert (uri.user, uri.host, uri.port) == (f"user{n}", f"host{n}.example.com", 5000 + n)
        assert len(_uri._SPLITS) <= _uri._SPLITS.limit
    assert uris[0].transport == "tcp"  # long since pushed out of the cache: split again
    assert uris[0] == URI("sip:user0@HOST0.example.com:5000;transport=TCP")  # RFC 3261 19.1.4


def test_dialogs_through_the_same_proxies_share_one_route_set() -> None:
    """RFC 3261 12.1.1: the UAS keeps the Record-Route of the request, in order. Dialogs
    through the same proxies hold the same route set object; one through other proxies
    holds its own."""
    uas = DialogManager()
    for n in range(3):
        answered(uas, invite(n), n)
    other = "Record-Route: <sip:p9.example.com;lr>\r\nRecord-Route: <sip:p8.example.com;lr>\r\n"
    answered(uas, invite(3, other), 3)
    states = [d.dialog_state for d in uas.dialogs.values()]
    assert len(states) == 4
    shared = [s.route_set for s in states if s.call_id != "share3@atlanta.example.com"]
    assert [str(r.uri) for r in shared[0]] == [
        "sip:ss2.biloxi.example.com;lr", "sip:ss1.atlanta.example.com;lr",
    ]  # fmt: skip
    assert shared[0] is shared[1] is shared[2]
    (own,) = [s.route_set for s in states if s.call_id == "share3@atlanta.example.com"]
    assert [str(r.uri) for r in own] == ["sip:p9.example.com;lr", "sip:p8.example.com;lr"]


def test_route_set_table_is_bounded_and_never_mixes_dialogs() -> None:
    """A flood of dialogs each through proxies of its own fills the table past its bound:
    it is emptied and refilled, and every dialog keeps exactly its own route set."""
    uas = DialogManager(max_unconfirmed=10)
    count = _state._ROUTE_SETS.limit + 50
    for n in range(count):
        routes = (
            f"Record-Route: <sip:a{n}.example.com;lr>\r\n"
            f"Record-Route: <sip:b{n}.example.com;lr>\r\n"
        )
        answered(uas, invite(n, routes), n)
        assert len(_state._ROUTE_SETS) <= _state._ROUTE_SETS.limit
    assert len(uas.dialogs) == count
    for dialog in uas.dialogs.values():
        k = int(dialog.dialog_state.call_id.removeprefix("share").partition("@")[0])
        assert [str(r.uri) for r in dialog.dialog_state.route_set] == [
            f"sip:a{k}.example.com;lr", f"sip:b{k}.example.com;lr",
        ]  # fmt: skip
        assert str(dialog.dialog_state.remote_target) == (
            f"sip:alice{k}@client.atlanta.example.com:{5060 + k % 1000};transport=udp"
        )


def test_dialog_marks_are_independent() -> None:
    """caller, invite_usage and refers share one field: changing one leaves the others."""
    uas = DialogManager()
    answered(uas, invite(1), 1)
    (dialog,) = uas.dialogs.values()
    assert (dialog.caller, dialog.invite_usage, dialog.refers) == (False, True, 0)
    dialog.refers = 3
    assert (dialog.caller, dialog.invite_usage, dialog.refers) == (False, True, 3)
    dialog.invite_usage = False
    assert (dialog.caller, dialog.invite_usage, dialog.refers) == (False, False, 3)
    dialog.refers = 1
    dialog.invite_usage = True
    assert (dialog.caller, dialog.invite_usage, dialog.refers) == (False, True, 1)


def test_a_response_computes_its_own_content_length() -> None:
    """RFC 3261 20.14: Content-Length is the body's size; the builder refuses one passed in
    rather than send two, as build_request does; an empty Contact is refused, not dropped."""
    request = invite(1)
    response = build_response(request, 200, to_tag="t1", body=b"v=0\r\n", content_type="x/y")
    assert isinstance(response, Response)
    assert response.content_length == 5
    assert response.headers.get_all("Content-Length") == ["5"]
    with pytest.raises(ParseError, match="Content-Length appears more than once"):
        build_response(request, 200, to_tag="t1", headers=[("Content-Length", "0")])
    with pytest.raises(ParseError, match="Contact"):
        build_response(request, 200, to_tag="t1", contact="")


def test_recurring_header_lines_parse_the_same_and_stay_bounded() -> None:
    """The parser remembers header lines it has seen: a message parsed again reads the
    same, a malformed line is refused every time it comes, and a flood of distinct lines
    keeps the memory of them within its bound."""
    first, again = invite(7), invite(7)
    assert again.headers == first.headers
    assert (again.to, again.via, again.record_route) == (first.to, first.via, first.record_route)
    bad = INVITE.format(n=8, routes="Record-Route: <sip:ss1.example.com;lr\r\n", port=5060)
    for _ in range(3):
        with pytest.raises(ParseError, match=r"name-addr .* in header 'Record-Route' \(line 4\)"):
            parse_message(bad.encode())
    for n in range(2 * _parser._LINES.limit):
        parse_message(INVITE.format(n=n, routes=f"X-Flood: {n}\r\n", port=5060).encode())
        assert len(_parser._LINES) <= _parser._LINES.limit
    assert invite(7).headers == first.headers


#: From/To values the head memo could get wrong: the tag inside <>, inside a quoted name,
#: on a bare addr-spec (a header parameter there too), written ;TAG=, twice, after LWS,
#: with a value the fast grammar refuses, on a port out of range
NAME_ADDRS = [
    "Bob <sip:bob@biloxi.example.com>;tag=b1",
    '"Bob ;tag=x" <sip:bob@biloxi.example.com>;tag=b2',
    "<sip:bob@biloxi.example.com;tag=inside>",
    "<sip:bob@biloxi.example.com;tag=inside>;tag=outside",
    "sip:bob@biloxi.example.com;tag=bare",
    "sip:bob@biloxi.example.com;user=phone;tag=bare",
    "Bob <sip:bob@biloxi.example.com>;TAG=upper",
    "Bob <sip:bob@biloxi.example.com>;tag=one;tag=two",
    "Bob <sip:bob@biloxi.example.com> ;tag=lws",
    'Bob <sip:bob@biloxi.example.com>;tag="quoted"',
    "Bob <sip:bob@biloxi.example.com:99999>;tag=port",
    "Bob <sip:bob@biloxi.example.com>;expires=60;tag=last",
    "Bob <sip:bob@biloxi.example.com>;tag=first;expires=60",
    "<sips:[2001:db8::1]:5061>;tag=v6",
]
VIAS = [
    "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKa",
    "SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.1;branch=z9hG4bKb",
    "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKc;rport",
    "SIP/2.0/UDP pc33.atlanta.example.com:5060;rport;branch=z9hG4bKd;branch=z9hG4bKe",
    "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKf",
    "SIP/2.0/UDP pc33.atlanta.example.com:50600;branch=z9hG4bKg",
    "SIP/2.0/UDP pc33.atlanta.example.com:99999;branch=z9hG4bKh",
    "SIP / 2.0 / UDP pc33.atlanta.example.com ; branch=z9hG4bKi",
    "SIP/2.0/UDP pc33.atlanta.example.com;BRANCH=z9hG4bKj",
    "SIP/2.0/UDP pc33.atlanta.example.com;branch=",
    "SIP/2.0/UDP pc33.atlanta.example.com;branch=a,b",
    "SIP/2.0/UDP pc33.atlanta.example.com;branch=a b",
]


def _outcome(parse: object, value: str) -> object:
    try:
        return parse(value)  # type: ignore[operator]
    except ParseError as err:
        return ParseError, err.reason


@pytest.mark.parametrize("value", NAME_ADDRS)
def test_a_tag_added_to_a_remembered_head_parses_as_the_whole_value(value: str) -> None:
    """A From or To whose head (all before ';tag=') was seen parses exactly as if it had
    not been: same NameAddr, or the same refusal."""
    cut = value.rfind(";tag=")
    expected = _outcome(NameAddr.parse, value)
    for warm in (False, True):
        clear_caches()
        if warm and cut > 0:
            _outcome(_value_memos.name_addr_memo, value[:cut])  # the head is remembered
        assert _outcome(_value_memos.name_addr_memo, value) == expected, (warm, value)
        assert _outcome(_value_memos.name_addr_memo, value) == expected  # and again, from memo


@pytest.mark.parametrize("value", VIAS)
def test_a_branch_added_to_a_remembered_via_head_parses_as_the_whole_value(value: str) -> None:
    """A Via whose head (all before ';branch=') was seen parses exactly as the whole value:
    same Via, or the same refusal."""
    expected = _outcome(lambda v: (Via.parse(v),) if "," not in v else _value_memos.vias(v), value)
    for _ in range(2):  # the second time, the head comes from the memo
        assert _outcome(_value_memos.vias, value) == expected, value
    clear_caches()


def test_head_memos_stay_bounded_under_a_flood_of_heads() -> None:
    """Distinct callers and distinct proxies: the head tables never pass their bound."""
    for n in range(2 * _value_memos.MEMO + 10):
        to = _value_memos.name_addr_memo(f"<sip:u{n}@example.com>;tag=t{n}")
        assert (to.uri.user, to.tag) == (f"u{n}", f"t{n}")
        via = _value_memos.vias(f"SIP/2.0/UDP h{n}.example.com;branch=z9hG4bK{n}")[0]
        assert (via.host, via.branch) == (f"h{n}.example.com", f"z9hG4bK{n}")
        assert len(_value_memos._NAME_ADDRS) <= _value_memos.MEMO
        assert len(_value_memos._VIA_HEADS) <= _value_memos.MEMO


_PIECES = [
    '"A;tag=q"',
    "Bob",
    " ",
    "<",
    ">",
    "sip:",
    "sips:",
    "u",
    "@",
    "h.example.com",
    ":",
    "5060",
    "99999",
    ";",
    "tag=",
    "branch=",
    "lr",
    "=",
    ",",
    '"',
    "SIP/2.0/UDP ",
    "x",
]


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=12),
    st.sampled_from([";tag=", ";branch="]),
    st.text(alphabet='az09.;<>" =', max_size=4),
    st.booleans(),
)
def test_head_memos_agree_with_the_grammar_on_any_value(
    pieces: list[str], param: str, last: str, warm: bool
) -> None:
    """Random values built from the characters that matter: the memoised From/To and Via
    parsers return what the plain parsers return, or refuse with the same reason."""
    head = "".join(pieces)
    value = head + param + last
    clear_caches()
    if warm:  # the head seen before, as the INVITE's To is when its ACK comes
        _outcome(_value_memos.name_addr_memo, head)
        _outcome(_value_memos.vias, head)
    assert _outcome(_value_memos.name_addr_memo, value) == _outcome(NameAddr.parse, value)
    if "," not in value:
        assert _outcome(_value_memos.vias, value) == _outcome(lambda v: (Via.parse(v),), value)
