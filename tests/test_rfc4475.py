"""RFC 4475 torture messages: accepted, rejected or forgiven, and the dialog fields they carry.

The 49 messages live in ``tests/data/rfc4475`` (see its README.md); ``MANIFEST.tsv`` says what
the parser must do with each. The expected dialog fields below were written by hand from the
message text and the commentary of RFC 4475, not copied from the parser's output.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialogfsm import URI, ParseError, Request, Response, parse_message

CORPUS = Path(__file__).parent / "data" / "rfc4475"


def _manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


MANIFEST = _manifest()
ACCEPT = [row["name"] for row in MANIFEST if row["expect"] == "accept"]
REJECT = [row["name"] for row in MANIFEST if row["expect"] == "reject"]
EITHER = [row["name"] for row in MANIFEST if row["expect"] == "either"]


def load(name: str) -> bytes:
    return (CORPUS / f"{name}.dat").read_bytes()


def parse(name: str) -> Request | Response:
    return parse_message(load(name))


def request(name: str) -> Request:
    msg = parse(name)
    assert isinstance(msg, Request)
    return msg


def response(name: str) -> Response:
    msg = parse(name)
    assert isinstance(msg, Response)
    return msg


# --- the corpus itself --------------------------------------------------------------------


def test_manifest_has_49_entries_and_every_file_exists() -> None:
    """RFC 4475 section 3: 49 messages, one ``.dat`` file each, none listed twice."""
    names = [row["name"] for row in MANIFEST]
    assert len(names) == 49
    assert len(set(names)) == 49
    for name in names:
        assert (CORPUS / f"{name}.dat").is_file(), name
    assert {row["expect"] for row in MANIFEST} == {"accept", "reject", "either"}
    assert sorted(p.stem for p in CORPUS.glob("*.dat")) == sorted(names)


# --- accept / reject / either ---------------------------------------------------------------


@pytest.mark.parametrize("name", ACCEPT)
def test_valid_message_parses(name: str) -> None:
    """RFC 4475 3.1.1, 3.2, 3.3, 3.4: well-formed (if odd) messages are accepted."""
    msg = parse(name)
    assert isinstance(msg, Request | Response)


# name -> (distinctive part of ParseError.reason, part of ParseError.where); each names the
# fault RFC 4475 describes for that message
REJECTED: dict[str, tuple[str, str]] = {
    # 3.1.2.1: Via holds ";;,;,," (empty parameters and empty comma-separated values)
    "badinv01": ("empty element in comma-separated list", "Via"),
    # 3.1.2.2: Content-Length 9999, far more than the body
    "clerr": ("Content-Length 9999 is larger than", "Content-Length"),
    # 3.1.2.3: Content-Length -999
    "ncl": ("Content-Length '-999' is not a number", "Content-Length"),
    # 3.1.2.4: CSeq 36893488147419103232 (also Max-Forwards 300, huge Expires)
    "scalar02": ("CSeq number '36893488147419103232' is too large", "CSeq"),
    # 3.1.2.5: CSeq 9292394834772304023312 in a 503 (also huge Retry-After, 4-digit warn-code)
    "scalarlg": ("CSeq number '9292394834772304023312' is too large", "CSeq"),
    # 3.1.2.6: To: "Mr. J. User <sip:j.user@example.com>  (quote never closed)
    "quotbal": ("unterminated quoted string", "To"),
    # 3.1.2.7: INVITE <sip:user@example.com> SIP/2.0
    "ltgtruri": ("Request-URI must not be enclosed in <>", "start line"),
    # 3.1.2.8: INVITE sip:user@example.com; lr SIP/2.0  (LWS inside the Request-URI)
    "lwsruri": ("whitespace inside the Request-URI", "start line"),
    # 3.1.2.16: SIP/7.0
    "badvers": ("unsupported SIP version 'SIP/7.0'", "start line"),
    # 3.1.2.17: OPTIONS with CSeq 8 INVITE
    "mismatch01": ("CSeq method 'INVITE' does not match request method 'OPTIONS'", "CSeq"),
    # 3.1.2.18: NEWMETHOD with CSeq 8 INVITE
    "mismatch02": ("CSeq method 'INVITE' does not match request method 'NEWMETHOD'", "CSeq"),
    # 3.1.2.19: status code 4294967301
    "bigcode": ("status code '4294967301' is not a number from 100 to 699", "start line"),
    # 3.3.1: no Call-ID, From or To
    "insuf": ("missing required header From, To, Call-ID", "headers"),
    # 3.3.8: CSeq, Call-ID, To, From, Max-Forwards each twice; CSeq is the first repeated
    "multi01": ("CSeq appears more than once", "CSeq"),
    # 3.3.9: Content-Length 13 and Content-Length 5
    "mcl01": ("Content-Length appears more than once", "Content-Length"),
}


def test_reject_table_covers_manifest() -> None:
    """Every message RFC 4475 calls invalid has an expected reason here."""
    assert sorted(REJECTED) == sorted(REJECT)


@pytest.mark.parametrize("name", REJECT)
def test_invalid_message_raises_parse_error_naming_the_fault(name: str) -> None:
    """RFC 4475 3.1.2, 3.3.1, 3.3.8, 3.3.9: invalid messages raise ParseError that says why."""
    reason, where = REJECTED[name]
    with pytest.raises(ParseError) as info:
        parse(name)
    err = info.value
    assert err.reason
    assert reason in err.reason
    assert where in err.where
    assert str(err) == f"{err.reason} in {err.where}"


@pytest.mark.parametrize("name", EITHER)
def test_forgivable_message_parses_or_raises_parse_error(name: str) -> None:
    """RFC 4475 3.1.2.9-3.1.2.15: a tolerant parser may accept; otherwise only ParseError."""
    outcome: Request | Response | ParseError
    try:
        outcome = parse(name)
    except ParseError as err:
        outcome = err
    if isinstance(outcome, ParseError):
        assert outcome.reason
    else:
        assert isinstance(outcome, Request | Response)


# --- dialog fields, by hand from the RFC 4475 text ------------------------------------------

EXTREME_NAME = "I have a user name of " + "extreme" * 10 + " proportion"
LONG_CALLER = "amazinglylongcallername" * 5
LONG_TAG = "1" + "298" * 50 + "2424"
LONG_TO_URI = (
    "sip:user@example.com:6000;unknownparam1=very" + "long" * 20 + "value;longparam"
    + "name" * 25 + "=shortvalue;very" + "long" * 25 + "ParameterNameWithNoValue"
)  # fmt: skip


@dataclass(frozen=True)
class Dialog:
    """What a dialog layer reads from one message."""

    start: str | int  # method of a request, status code of a response
    request_uri: str | None  # as written; None for a response
    call_id: str
    from_uri: str
    from_tag: str | None
    to_uri: str
    to_tag: str | None
    cseq: tuple[int, str]
    top_via: tuple[str, str, str | None]  # transport, sent-by, branch
    max_forwards: int | None
    content_length: int | None
    vias: int = 1
    from_name: str | None = None
    to_name: str | None = None
    contact: tuple[str, ...] = ()
    record_route: tuple[str, ...] = ()
    route: tuple[str, ...] = ()


EXPECTED: dict[str, Dialog] = {
    # 3.1.1.1: folding everywhere, LWS around ":" ";" "=" "/", leading zeros, v:/m: forms
    "wsinv": Dialog(
        start="INVITE",
        request_uri="sip:vivekg@chair-dnrc.example.com;unknownparam",
        call_id="wsinv.ndaksdj@192.0.2.1",
        from_uri="sip:jdrosen@example.com",
        from_name='J Rosenberg \\"',
        from_tag="98asjd8",
        to_uri="sip:vivekg@chair-dnrc.example.com",
        to_tag="1918181833n",
        cseq=(9, "INVITE"),
        top_via=("UDP", "192.0.2.2", "390skdjuw"),
        vias=3,
        contact=("sip:jdrosen@example.com",),
        route=("sip:services.example.com;lr;unknownwith=value;unknown-no-value",),
        max_forwards=68,
        content_length=150,
    ),
    # 3.1.1.2: every token character in the method, branch, tag; odd Request-URI userinfo
    "intmeth": Dialog(
        start="!interesting-Method0123456789_*+`.%indeed'~",
        request_uri=(
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
            ":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com"
        ),
        call_id="intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        from_uri="sip:mundane@example.com",
        from_name="token1~` token2'+_ token3*%!.-",
        from_tag="_token~1'+`*%!-.",
        to_uri="sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
        to_name="BEL:\x07 NUL:\x00 DEL:\x7f",
        to_tag=None,
        cseq=(139122385, "!interesting-Method0123456789_*+`.%indeed'~"),
        top_via=("TCP", "host1.example.com", "z9hG4bK-.!%66*_+`'~"),
        max_forwards=255,
        content_length=0,
    ),
    # 3.1.1.3: %-escapes in Request-URI, From, To and Contact; i: for Call-ID
    "esc01": Dialog(
        start="INVITE",
        request_uri="sip:sips%3Auser%40example.com@example.net",
        call_id="esc01.239409asdfakjkn23onasd0-3234",
        from_uri="sip:I%20have%20spaces@example.net",
        from_tag="938",
        to_uri="sip:%75se%72@example.com",
        to_tag=None,
        cseq=(234234, "INVITE"),
        top_via=("UDP", "host5.example.net", "z9hG4bKkdjuw"),
        contact=("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",),
        max_forwards=87,
        content_length=150,
    ),
    # 3.1.1.4: escaped nulls; the two Contacts are different bindings
    "escnull": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
        from_uri="sip:null-%00-null@example.com",
        from_tag="839923423",
        to_uri="sip:null-%00-null@example.com",
        to_tag=None,
        cseq=(14398234, "REGISTER"),
        top_via=("UDP", "host5.example.com", "z9hG4bKkdjuw"),
        contact=("sip:%00@host5.example.com", "sip:%00%00@host5.example.com"),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.1.5: % is no escape in a method, display name or header name: two Contacts, not three
    "esc02": Dialog(
        start="RE%47IST%45R",
        request_uri="sip:registrar.example.com",
        call_id="esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
        from_uri="sip:resource@example.com",
        from_name="%Z%45",
        from_tag="f232jadfj23",
        to_uri="sip:resource@example.com",
        to_name="%Z%45",
        to_tag=None,
        cseq=(29344, "RE%47IST%45R"),
        top_via=("TCP", "host.example.com", "z9hG4bK209%fzsnel234"),
        contact=("sip:alias1@host1.example.com", "sip:alias3@host3.example.com"),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.1.6: From: caller<sip:...> (no LWS before <)
    "lwsdisp": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.com",
        call_id="lwsdisp.1234abcd@funky.example.com",
        from_uri="sip:caller@example.com",
        from_name="caller",
        from_tag="323",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(60, "OPTIONS"),
        top_via=("UDP", "funky.example.com", "z9hG4bKkdjuw"),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.1.7: long values, 34 Via values in every spelling of Via and v
    "longreq": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com",
        call_id="longreq.one" + "really" * 20 + "longcallid",
        from_uri=f"sip:{LONG_CALLER}@example.net",
        from_tag=LONG_TAG,
        to_uri=LONG_TO_URI,
        to_name=EXTREME_NAME,
        to_tag=None,
        cseq=(3882340, "INVITE"),
        top_via=("TCP", "sip33.example.com", None),
        vias=34,
        contact=(f"sip:{LONG_CALLER}@host5.example.net",),
        max_forwards=70,
        content_length=150,
    ),
    # 3.1.1.8: the REGISTER only; the INVITE-like octets after it are noise
    "dblreq": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="dblreq.0ha0isndaksdj99sdfafnl3lk233412",
        from_uri="sip:j.user@example.com",
        from_tag="43251j3j324",
        to_uri="sip:j.user@example.com",
        to_tag=None,
        cseq=(8, "REGISTER"),
        top_via=("UDP", "192.0.2.125", "z9hG4bKkdjuw23492"),
        contact=("sip:j.user@host.example.com",),
        max_forwards=8,
        content_length=0,
    ),
    # 3.1.1.9: user part "user;par=u%40example.net"
    "semiuri": Dialog(
        start="OPTIONS",
        request_uri="sip:user;par=u%40example.net@example.com",
        call_id="semiuri.0ha0isndaksdj",
        from_uri="sip:caller@example.org",
        from_tag="33242",
        to_uri="sip:j_user@example.com",
        to_tag=None,
        cseq=(8, "OPTIONS"),
        top_via=("UDP", "192.0.2.1", "z9hG4bKkdjuw"),
        max_forwards=3,
        content_length=0,
    ),
    # 3.1.1.10: UDP, SCTP, TLS, UNKNOWN, TCP
    "transports": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.com",
        call_id="transports.kijh4akdnaqjkwendsasfdj",
        from_uri="sip:caller@example.com",
        from_tag="323",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(60, "OPTIONS"),
        top_via=("UDP", "t1.example.com", "z9hG4bKkdjuw"),
        vias=5,
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.1.11: multipart body with binary octets
    "mpart01": Dialog(
        start="MESSAGE",
        request_uri="sip:kumiko@example.org",
        call_id="3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
        from_uri="sip:fluffy@example.com",
        from_tag="2fb0dcc9",
        to_uri="sip:kumiko@example.org",
        to_tag=None,
        cseq=(1, "MESSAGE"),
        top_via=("UDP", "127.0.0.1:5070", "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-"),
        contact=("sip:fluffy@127.0.0.1:5070",),
        route=("sip:127.0.0.1:5080",),
        max_forwards=70,
        content_length=553,
    ),
    # 3.1.1.12: UTF-8 reason phrase
    "unreason": Dialog(
        start=200,
        request_uri=None,
        call_id="unreason.1234ksdfak3j2erwedfsASdf",
        from_uri="sip:user@example.com",
        from_tag="11141343",
        to_uri="sip:user@example.edu",
        to_tag="2229",
        cseq=(35, "INVITE"),
        top_via=("UDP", "192.0.2.198", "z9hG4bK1324923"),
        contact=("sip:user@host198.example.com",),
        max_forwards=None,
        content_length=154,
    ),
    # 3.1.1.13: "SIP/2.0 100 " with an empty reason phrase
    "noreason": Dialog(
        start=100,
        request_uri=None,
        call_id="noreason.asndj203insdf99223ndf",
        from_uri="sip:user@example.com",
        from_tag="39ansfi3",
        to_uri="sip:user@example.edu",
        to_tag="902jndnke3",
        cseq=(35, "INVITE"),
        top_via=("UDP", "192.0.2.105", "z9hG4bK2398ndaoe"),
        contact=("sip:user@host105.example.com",),
        max_forwards=None,
        content_length=0,
    ),
    # 3.2.1: branch is the bare magic cookie
    "badbranch": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.com",
        call_id="badbranch.sadonfo23i420jv0as0derf3j3n",
        from_uri="sip:caller@example.org",
        from_tag="33242",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(8, "OPTIONS"),
        top_via=("UDP", "192.0.2.1", "z9hG4bK"),
        max_forwards=3,
        content_length=0,
    ),
    # 3.3.2: unknown scheme in the Request-URI
    "unkscm": Dialog(
        start="OPTIONS",
        request_uri="nobodyKnowsThisScheme:totallyopaquecontent",
        call_id="unkscm.nasdfasser0q239nwsdfasdkl34",
        from_uri="sip:caller@example.net",
        from_tag="384",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(3923423, "OPTIONS"),
        top_via=("TCP", "host9.example.com", "z9hG4bKkdjuw39234"),
        max_forwards=3,
        content_length=0,
    ),
    # 3.3.3: soap.beep Request-URI
    "novelsc": Dialog(
        start="OPTIONS",
        request_uri="soap.beep://192.0.2.103:3002",
        call_id="novelsc.asdfasser0q239nwsdfasdkl34",
        from_uri="sip:caller@example.net",
        from_tag="384",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(3923423, "OPTIONS"),
        top_via=("TCP", "host9.example.com", "z9hG4bKkdjuw39234"),
        max_forwards=3,
        content_length=0,
    ),
    # 3.3.4: isbn:, http: and name: URIs in To, From and Contact
    "unksm2": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="unksm2.daksdj@hyphenated-host.example.com",
        from_uri="http://www.example.com",
        from_tag="3234233",
        to_uri="isbn:2983792873",
        to_tag=None,
        cseq=(234902, "REGISTER"),
        top_via=("UDP", "192.0.2.21:5060", "z9hG4bKkdjuw"),
        contact=("name:John_Smith",),
        max_forwards=70,
        content_length=0,
    ),
    # 3.3.5: unknown option tags in Require and Proxy-Require
    "bext01": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.com",
        call_id="bext01.0ha0isndaksdj",
        from_uri="sip:caller@example.net",
        from_tag="242etr",
        to_uri="sip:j_user@example.com",
        to_tag=None,
        cseq=(8, "OPTIONS"),
        top_via=("TLS", "fold-and-staple.example.com", "z9hG4bKkdjuw"),
        max_forwards=6,
        content_length=0,
    ),
    # 3.3.6: unknown Content-Type
    "invut": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com",
        call_id="invut.0ha0isndaksdjadsfij34n23d",
        from_uri="sip:caller@example.net",
        from_tag="8392034",
        to_uri="sip:j.user@example.com",
        to_tag=None,
        cseq=(235448, "INVITE"),
        top_via=("UDP", "somehost.example.com", "z9hG4bKkdjuw"),
        contact=("sip:caller@host5.example.net",),
        max_forwards=70,
        content_length=40,
    ),
    # 3.3.7: unknown Authorization scheme; "Content-Length:0" without a space
    "regaut01": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="regaut01.0ha0isndaksdj",
        from_uri="sip:j.user@example.com",
        from_tag="87321hj23128",
        to_uri="sip:j.user@example.com",
        to_tag=None,
        cseq=(9338, "REGISTER"),
        top_via=("TCP", "192.0.2.253", "z9hG4bKkdjuw"),
        max_forwards=8,
        content_length=0,
    ),
    # 3.3.10: second Via sent-by is 255.255.255.255
    "bcast": Dialog(
        start=200,
        request_uri=None,
        call_id="bcast.0384840201234ksdfak3j2erwedfsASdf",
        from_uri="sip:user@example.com",
        from_tag="11141343",
        to_uri="sip:user@example.edu",
        to_tag="2229",
        cseq=(35, "INVITE"),
        top_via=("UDP", "192.0.2.198", "z9hG4bK1324923"),
        vias=2,
        contact=("sip:user@host28.example.com",),
        max_forwards=None,
        content_length=154,
    ),
    # 3.3.11: Max-Forwards 0 is well-formed
    "zeromf": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.com",
        call_id="zeromf.jfasdlfnm2o2l43r5u0asdfas",
        from_uri="sip:caller@example.net",
        from_tag="3ghsd41",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(39234321, "OPTIONS"),
        top_via=("UDP", "host1.example.com", "z9hG4bKkdjuw2349i"),
        max_forwards=0,
        content_length=0,
    ),
    # 3.3.12: Contact without <>: ";unknownparam" is a contact-param, not in the URI
    "cparam01": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="cparam01.70710@saturn.example.com",
        from_uri="sip:watson@example.com",
        from_tag="DkfVgjkrtMwaerKKpe",
        to_uri="sip:watson@example.com",
        to_tag=None,
        cseq=(2, "REGISTER"),
        top_via=("UDP", "saturn.example.com:5060", "z9hG4bKkdjuw"),
        contact=("sip:+19725552222@gw1.example.net",),
        max_forwards=70,
        content_length=0,
    ),
    # 3.3.13: Contact with <>: ";unknownparam" is a uri-parameter
    "cparam02": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="cparam02.70710@saturn.example.com",
        from_uri="sip:watson@example.com",
        from_tag="838293",
        to_uri="sip:watson@example.com",
        to_tag=None,
        cseq=(3, "REGISTER"),
        top_via=("UDP", "saturn.example.com:5060", "z9hG4bKkdjuw"),
        contact=("sip:+19725552222@gw1.example.net;unknownparam",),
        max_forwards=70,
        content_length=0,
    ),
    # 3.3.14: escaped Route header inside the Contact URI (m: compact form)
    "regescrt": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="regescrt.k345asrl3fdbv@192.0.2.1",
        from_uri="sip:user@example.com",
        from_tag="8",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(14398234, "REGISTER"),
        top_via=("UDP", "host5.example.com", "z9hG4bKkdjuw"),
        contact=("sip:user@example.com?Route=%3Csip:sip.example.com%3E",),
        max_forwards=70,
        content_length=0,
    ),
    # 3.3.15: Accept that excludes the offered SDP
    "sdp01": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com",
        call_id="sdp01.ndaksdj9342dasdd",
        from_uri="sip:caller@example.net",
        from_tag="234",
        to_uri="sip:j_user@example.com",
        to_tag=None,
        cseq=(8, "INVITE"),
        top_via=("UDP", "192.0.2.15", "z9hG4bKkdjuw"),
        contact=("sip:caller@host15.example.net",),
        max_forwards=5,
        content_length=150,
    ),
    # 3.4.1: RFC 2543: no branch, no From tag, no Content-Length, no Max-Forwards
    "inv2543": Dialog(
        start="INVITE",
        request_uri="sip:UserB@example.com",
        call_id="inv2543.1717@ift.client.example.com",
        from_uri="sip:+13035551111@ift.client.example.net;user=phone",
        from_tag=None,
        to_uri="sip:+16505552222@ss1.example.net",
        to_tag=None,
        cseq=(56, "INVITE"),
        top_via=("UDP", "iftgw.example.com", None),
        record_route=("sip:UserB@example.com;maddr=ss1.example.com",),
        max_forwards=None,
        content_length=None,
    ),
    # --- "either" messages: checked only when the parser forgives them ---
    # 3.1.2.9: runs of SP in the request line
    "lwsstart": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com",
        call_id="lwsstart.dfknq234oi243099adsdfnawe3@example.com",
        from_uri="sip:caller@example.net",
        from_tag="8814",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(1893884, "INVITE"),
        top_via=("UDP", "host1.example.com", "z9hG4bKkdjuw3923"),
        contact=("sip:caller@host1.example.net",),
        max_forwards=8,
        content_length=150,
    ),
    # 3.1.2.10: SP after SIP/2.0
    "trws": Dialog(
        start="OPTIONS",
        request_uri="sip:remote-target@example.com",
        call_id="trws.oicu34958239neffasdhr2345r",
        from_uri="sip:local-resource@example.com",
        from_tag="329429089",
        to_uri="sip:remote-target@example.com",
        to_tag=None,
        cseq=(238923, "OPTIONS"),
        top_via=("TCP", "host1.examle.com", "z9hG4bK299342093"),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.2.11: escaped Route header in the Request-URI
    "escruri": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com?Route=%3Csip:example.com%3E",
        call_id="escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
        from_uri="sip:caller@example.net",
        from_tag="341518",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(149209342, "INVITE"),
        top_via=("UDP", "host-of-the-hour.example.com", "z9hG4bKkdjuw"),
        contact=("sip:caller@host39923.example.net",),
        max_forwards=7,
        content_length=150,
    ),
    # 3.1.2.12: Date in EST (the dialog layer does not read Date)
    "baddate": Dialog(
        start="INVITE",
        request_uri="sip:user@example.com",
        call_id="baddate.239423mnsadf3j23lj42--sedfnm234",
        from_uri="sip:caller@example.net",
        from_tag="2234923",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(1392934, "INVITE"),
        top_via=("UDP", "host.example.com", "z9hG4bKkdjuw"),
        contact=("sip:caller@host5.example.net",),
        max_forwards=70,
        content_length=150,
    ),
    # 3.1.2.13: addr-spec Contact with a header: "<>" can be inferred, nothing is ambiguous
    "regbadct": Dialog(
        start="REGISTER",
        request_uri="sip:example.com",
        call_id="regbadct.k345asrl3fdbv@10.0.0.1",
        from_uri="sip:user@example.com",
        from_tag="998332",
        to_uri="sip:user@example.com",
        to_tag=None,
        cseq=(1, "REGISTER"),
        top_via=("UDP", "135.180.130.133:5060", "z9hG4bKkdjuw"),
        contact=("sip:user@example.com?Route=%3Csip:sip.example.com%3E",),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.2.14: "< sip:t.watson@example.org >": the spaces may be ignored
    "badaspec": Dialog(
        start="OPTIONS",
        request_uri="sip:user@example.org",
        call_id="badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3",
        from_uri="sip:a.g.bell@example.com",
        from_name="Bell, Alexander",
        from_tag="433423",
        to_uri="sip:t.watson@example.org",
        to_name="Watson, Thomas",
        to_tag=None,
        cseq=(3923239, "OPTIONS"),
        top_via=("UDP", "host4.example.com:5060", "z9hG4bKkdju43234"),
        max_forwards=70,
        content_length=0,
    ),
    # 3.1.2.15: unquoted display names with a comma: the quotes may be inferred
    "baddn": Dialog(
        start="OPTIONS",
        request_uri="sip:t.watson@example.org",
        call_id="baddn.31415@c.example.com",
        from_uri="sip:a.g.bell@example.com",
        from_name="Bell, Alexander",
        from_tag="43",
        to_uri="sip:t.watson@example.org",
        to_name="Watson, Thomas",
        to_tag=None,
        cseq=(3923239, "OPTIONS"),
        top_via=("UDP", "c.example.com:5060", "z9hG4bKkdjuw"),
        max_forwards=70,
        content_length=0,
    ),
}


def test_expected_table_covers_accept_and_either() -> None:
    """Every message a parser may accept has hand-written expected dialog fields."""
    assert sorted(EXPECTED) == sorted(ACCEPT + EITHER)


def check_dialog(msg: Request | Response, want: Dialog) -> None:
    if isinstance(msg, Request):
        assert msg.method == want.start
        assert str(msg.uri) == want.request_uri
    else:
        assert msg.status_code == want.start
        assert want.request_uri is None
    assert msg.call_id == want.call_id
    assert str(msg.from_.uri) == want.from_uri
    assert msg.from_.display_name == want.from_name
    assert msg.from_.tag == want.from_tag
    assert str(msg.to.uri) == want.to_uri
    assert msg.to.display_name == want.to_name
    assert msg.to.tag == want.to_tag
    assert (msg.cseq.number, msg.cseq.method) == want.cseq
    top = msg.via[0]
    assert (top.transport, top.sent_by, top.branch) == want.top_via
    assert len(msg.via) == want.vias
    assert tuple(str(c.uri) for c in msg.contact) == want.contact
    assert not msg.contact_wildcard
    assert tuple(str(r.uri) for r in msg.record_route) == want.record_route
    assert tuple(str(r.uri) for r in msg.route) == want.route
    assert msg.max_forwards == want.max_forwards
    assert msg.content_length == want.content_length
    if want.content_length is not None:
        assert len(msg.body) == want.content_length


@pytest.mark.parametrize("name", ACCEPT)
def test_accepted_dialog_fields(name: str) -> None:
    """RFC 4475 3.1.1, 3.2, 3.3, 3.4: the dialog fields come out as the RFC intends."""
    check_dialog(parse(name), EXPECTED[name])


@pytest.mark.parametrize("name", EITHER)
def test_forgiven_message_dialog_fields(name: str) -> None:
    """RFC 4475 3.1.2.9-3.1.2.15: a message the parser forgives must still read right."""
    try:
        msg = parse(name)
    except ParseError:
        return  # rejecting is allowed; test_forgivable_message_... checks the error
    check_dialog(msg, EXPECTED[name])


# --- features of single messages --------------------------------------------------------------


def test_wsinv_quoted_display_names_and_folded_params() -> None:
    """RFC 4475 3.1.1.1: quoted-pairs in display names; LWS and folding around ; and =."""
    msg = request("wsinv")
    assert msg.from_.display_name == 'J Rosenberg \\"'
    assert msg.to.params == (("tag", "1918181833n"),)
    (contact,) = msg.contact
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", ""), ("q", "0.33"))
    assert msg.uri.params == (("unknownparam", ""),)


def test_wsinv_every_via_value() -> None:
    """RFC 4475 3.1.1.1: Via and v, folded, comma-separated and separately listed."""
    vias = request("wsinv").via
    assert [(v.transport, v.sent_by, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert all(v.protocol == "SIP/2.0" for v in vias)


def test_wsinv_route_loose_routing() -> None:
    """RFC 4475 3.1.1.1, RFC 3261 19.1.1: the Route URI has lr and two unknown parameters."""
    (route,) = request("wsinv").route
    assert route.uri.lr
    assert route.uri.params == (("lr", ""), ("unknownwith", "value"), ("unknown-no-value", ""))


def test_intmeth_request_uri_userinfo() -> None:
    """RFC 4475 3.1.1.2, RFC 3261 25.1: user ends at the first ':', the rest is the password."""
    uri = request("intmeth").uri
    assert uri.scheme == "sip"
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"
    assert uri.port is None
    assert uri.params == ()


def test_intmeth_from_header_parameter_with_utf8_value() -> None:
    """RFC 4475 3.1.1.2: an unknown From parameter named with token characters, UTF-8 value."""
    value = request("intmeth").from_.param("fromParam''~+*_!.-%")
    assert value is not None
    assert "работающий" in value


def test_esc01_escaped_uris_equal_unescaped_forms() -> None:
    """RFC 4475 3.1.1.3, RFC 3261 19.1.4: %-HEX-HEX equals the character it encodes."""
    msg = request("esc01")
    assert msg.uri.user == "sips%3Auser%40example.com"
    assert msg.uri.host == "example.net"
    assert msg.to.uri == URI("sip:user@example.com")
    assert msg.from_.uri == URI("sip:I%20have%20spaces@example.net")
    contact = msg.contact[0].uri
    assert contact == URI("sip:caller@host5.example.net;lr;name=value%2541")


def test_esc01_unescaping_is_not_recursive() -> None:
    """RFC 4475 3.1.1.3: "value%25%34%31" is "value%41", NOT "valueA"."""
    contact = request("esc01").contact[0].uri
    assert contact != URI("sip:caller@host5.example.net;lr;name=valueA")


def test_esc01_escaped_lr_parameter_is_lr() -> None:
    """RFC 4475 3.1.1.3: the application must treat ";%6C%72" as the parameter ";lr"."""
    assert request("esc01").contact[0].uri.lr


def test_escnull_two_distinct_contacts() -> None:
    """RFC 4475 3.1.1.4: %00 and %00%00 are different users; two bindings, not one."""
    first, second = (c.uri for c in request("escnull").contact)
    assert first.user == "%00"
    assert second.user == "%00%00"
    assert first != second
    assert request("escnull").to.uri.user == "null-%00-null"


def test_esc02_percent_is_no_escape_outside_uris() -> None:
    """RFC 4475 3.1.1.5: RE%47IST%45R is not REGISTER; C%6Fntact is not Contact."""
    msg = request("esc02")
    assert msg.method != "REGISTER"
    assert msg.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert len(msg.contact) == 2


def test_longreq_long_values() -> None:
    """RFC 4475 3.1.1.7: long display name, URI parameters, tag and Via list."""
    msg = request("longreq")
    assert msg.to.uri.port == 6000
    assert [name for name, _ in msg.to.uri.params] == [
        "unknownparam1",
        "longparam" + "name" * 25,
        "very" + "long" * 25 + "ParameterNameWithNoValue",
    ]
    assert msg.from_.params[0] == ("tag", LONG_TAG)
    assert len(msg.from_.params) == 3
    assert [v.host for v in msg.via] == [
        *(f"sip{n}.example.com" for n in range(33, 0, -1)),
        "host.example.com",
    ]
    assert msg.via[-1].branch == "very" + "long" * 50 + "branchvalue"
    assert msg.via[-1].received == "192.0.2.5"


def test_dblreq_extra_octets_discarded() -> None:
    """RFC 4475 3.1.1.8, RFC 3261 18.3: the INVITE-like octets after the REGISTER are noise."""
    msg = request("dblreq")
    assert msg.body == b""
    assert b"INVITE" not in bytes(msg)


def test_semiuri_user_part_keeps_semicolon() -> None:
    """RFC 4475 3.1.1.9: the Request-URI's user part is "user;par=u%40example.net"."""
    uri = request("semiuri").uri
    assert uri.user == "user;par=u%40example.net"
    assert uri.host == "example.com"
    assert uri.params == ()


def test_transports_all_via_transports() -> None:
    """RFC 4475 3.1.1.10: known and unknown transports are all parsed."""
    vias = request("transports").via
    assert [v.transport for v in vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert [v.host for v in vias] == [f"t{n}.example.com" for n in range(1, 6)]


def test_mpart01_binary_body_and_rport() -> None:
    """RFC 4475 3.1.1.11: the multipart body is kept byte for byte; rport is a flag."""
    msg = request("mpart01")
    assert msg.body.startswith(b"--7a9cbec02ceef655\r\n")
    assert msg.body.endswith(b"--7a9cbec02ceef655--\r\n")
    assert msg.via[0].port == 5070
    assert msg.via[0].rport == ""


def test_unreason_utf8_reason_phrase() -> None:
    """RFC 4475 3.1.1.12: a reason phrase of UTF-8 text."""
    msg = response("unreason")
    assert msg.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"


def test_noreason_empty_reason_phrase() -> None:
    """RFC 4475 3.1.1.13: "SIP/2.0 100 " has an empty reason phrase."""
    msg = response("noreason")
    assert (msg.status_code, msg.reason) == (100, "")


def test_badbranch_bare_magic_cookie() -> None:
    """RFC 4475 3.2.1: branch=z9hG4bK with no identifier still parses."""
    assert request("badbranch").via[0].branch == "z9hG4bK"


def test_unkscm_unknown_scheme_request_uri() -> None:
    """RFC 4475 3.3.2: an unknown scheme is kept opaque (a UAS answers 416)."""
    uri = request("unkscm").uri
    assert uri.scheme == "nobodyknowsthisscheme"
    assert uri.opaque == "totallyopaquecontent"
    assert uri.host == ""
    assert not uri.is_secure


def test_novelsc_soap_beep_request_uri() -> None:
    """RFC 4475 3.3.3: soap.beep://192.0.2.103:3002 is a well-formed Request-URI."""
    uri = request("novelsc").uri
    assert uri.scheme == "soap.beep"
    assert uri.opaque == "//192.0.2.103:3002"


def test_unksm2_unknown_schemes_in_headers() -> None:
    """RFC 4475 3.3.4: isbn:, http: and name: URIs in To, From and Contact."""
    msg = request("unksm2")
    assert (msg.to.uri.scheme, msg.from_.uri.scheme) == ("isbn", "http")
    assert msg.contact[0].uri.scheme == "name"
    assert msg.contact[0].uri.opaque == "John_Smith"


def test_bext01_unknown_option_tags() -> None:
    """RFC 4475 3.3.5: Require's option tags are parsed (a UAS answers 420)."""
    assert request("bext01").require == ("nothingSupportsThis", "nothingSupportsThisEither")


def test_bcast_broadcast_second_via() -> None:
    """RFC 4475 3.3.10: the second Via's sent-by is 255.255.255.255."""
    second = response("bcast").via[1]
    assert (second.host, second.port, second.branch) == ("255.255.255.255", None, "z9hG4bK1saber23")


def test_cparam01_parameter_belongs_to_the_header() -> None:
    """RFC 4475 3.3.12, RFC 3261 20.10: without <>, ";unknownparam" is a contact-param."""
    (contact,) = request("cparam01").contact
    assert contact.params == (("unknownparam", ""),)
    assert contact.uri.params == ()
    assert contact.uri.user == "+19725552222"


def test_cparam02_parameter_belongs_to_the_uri() -> None:
    """RFC 4475 3.3.13: inside <>, ";unknownparam" is a uri-parameter."""
    (contact,) = request("cparam02").contact
    assert contact.params == ()
    assert contact.uri.params == (("unknownparam", ""),)


def test_regescrt_escaped_header_in_contact_uri() -> None:
    """RFC 4475 3.3.14: the Contact URI carries an escaped Route header."""
    uri = request("regescrt").contact[0].uri
    assert (uri.user, uri.host) == ("user", "example.com")
    assert uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)


def test_inv2543_rfc2543_request() -> None:
    """RFC 4475 3.4.1: no branch, no From tag, no Max-Forwards, body runs to the end."""
    msg = request("inv2543")
    assert msg.via[0].branch is None
    assert msg.from_.tag is None
    assert msg.from_.uri.param("user") == "phone"
    # RFC 3261 20.10: To has no <>, so ";user=phone" is a header parameter of To
    assert msg.to.params == (("user", "phone"),)
    assert msg.to.uri.params == ()
    assert msg.record_route[0].uri.maddr == "ss1.example.com"
    data = load("inv2543")
    assert msg.body == data[data.index(b"\r\n\r\n") + 4 :]
    assert msg.body.startswith(b"v=0\r\n")
