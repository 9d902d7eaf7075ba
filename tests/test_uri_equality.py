"""URI comparison: RFC 3261 19.1.4 for sip and sips, RFC 3966 section 4 for tel, and the rest.

The pairs in ``RFC_EQUIVALENT`` and ``RFC_NOT_EQUIVALENT`` are the examples printed in
RFC 3261 section 19.1.4; the other tests exercise each rule of that section on its own.
"""

from __future__ import annotations

import pytest

from dialogfsm import URI

# RFC 3261 19.1.4: "The URIs within each of the following sets are equivalent"
RFC_EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
]

# RFC 3261 19.1.4: "The URIs within each of the following sets are not equivalent"
RFC_NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),  # usernames
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),  # can resolve to different ports
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),  # ... different transports
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),  # ... port and transport
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),  # header
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),  # even if that is its address
]


def assert_equal(a: str, b: str) -> None:
    left, right = URI(a), URI(b)
    assert left == right
    assert right == left
    assert not left != right  # noqa: SIM202 (__ne__ is tested on purpose)
    assert hash(left) == hash(right)


def assert_not_equal(a: str, b: str) -> None:
    left, right = URI(a), URI(b)
    assert left != right
    assert right != left
    assert not left == right  # noqa: SIM201 (__eq__ is tested on purpose)


# --- the examples of RFC 3261 19.1.4 -----------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), RFC_EQUIVALENT)
def test_rfc3261_equivalent_examples(a: str, b: str) -> None:
    """RFC 3261 19.1.4: each example set of equivalent URIs compares equal, hashes equal."""
    assert_equal(a, b)


@pytest.mark.parametrize(("a", "b"), RFC_NOT_EQUIVALENT)
def test_rfc3261_not_equivalent_examples(a: str, b: str) -> None:
    """RFC 3261 19.1.4: each example set of non-equivalent URIs compares unequal."""
    assert_not_equal(a, b)


def test_equality_is_not_transitive() -> None:
    """RFC 3261 19.1.4: security=on and security=off each match the bare URI, not each other."""
    assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=on")
    assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=off")
    assert_not_equal("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off")


def test_equal_uris_collapse_in_a_set() -> None:
    """RFC 3261 19.1.4: equivalent URIs hash alike, so a set keeps one of them."""
    uris = {
        URI("sip:%61lice@atlanta.com;transport=TCP"),
        URI("sip:alice@AtLanTa.CoM;Transport=tcp"),
    }
    assert len(uris) == 1


# --- case --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SIP:alice@atlanta.com", "sip:alice@atlanta.com"),
        ("SiPs:alice@atlanta.com", "sips:alice@atlanta.com"),
        ("sip:alice@ATLANTA.COM", "sip:alice@atlanta.com"),
        ("sip:alice@[2001:DB8::A]", "sip:alice@[2001:db8::a]"),
        ("sip:alice@atlanta.com;TRANSPORT=TCP", "sip:alice@atlanta.com;transport=tcp"),
        (
            "sip:alice@atlanta.com;maddr=Ss1.Example.COM",
            "sip:alice@atlanta.com;maddr=ss1.example.com",
        ),
    ],
)
def test_scheme_host_and_parameters_are_case_insensitive(a: str, b: str) -> None:
    """RFC 3261 19.1.4: all components but the userinfo compare case-insensitively."""
    assert_equal(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:Alice@atlanta.com", "sip:alice@atlanta.com"),
        ("sip:alice:Secret@atlanta.com", "sip:alice:secret@atlanta.com"),
        ("sip:+1-555-ABC@atlanta.com;user=phone", "sip:+1-555-abc@atlanta.com;user=phone"),
    ],
)
def test_userinfo_is_case_sensitive(a: str, b: str) -> None:
    """RFC 3261 19.1.4: userinfo, passwords and telephone-subscribers are case-sensitive."""
    assert_not_equal(a, b)


# --- user, password, host, port -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:atlanta.com", "sip:alice@atlanta.com"),  # user in one only
        ("sip:alice@atlanta.com", "sip:alice:secret@atlanta.com"),  # password in one only
        ("sip:alice:one@atlanta.com", "sip:alice:two@atlanta.com"),  # different passwords
        ("sip:alice@atlanta.com", "sip:alice@biloxi.com"),  # different hosts
        ("sip:alice@atlanta.com:5060", "sip:alice@atlanta.com:5070"),  # different ports
        ("sip:alice@192.0.2.1", "sip:alice@192.0.2.10"),
    ],
)
def test_user_password_host_port_must_match(a: str, b: str) -> None:
    """RFC 3261 19.1.4: user, password, host and port must match; omitted never matches given."""
    assert_not_equal(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:alice@atlanta.com", "sip:alice@atlanta.com:5060"),
        ("sips:alice@atlanta.com", "sips:alice@atlanta.com:5061"),
        ("sip:atlanta.com", "sip:atlanta.com:5060"),
    ],
)
def test_port_omitted_never_equals_default_port(a: str, b: str) -> None:
    """RFC 3261 19.1.4: a URI omitting the port never matches one giving the default port."""
    assert_not_equal(a, b)


def test_sip_and_sips_are_never_equal() -> None:
    """RFC 3261 19.1.4: "A SIP and SIPS URI are never equivalent"."""
    assert_not_equal("sip:alice@atlanta.com", "sips:alice@atlanta.com")
    assert_not_equal("sip:alice@atlanta.com:5061", "sips:alice@atlanta.com:5061")
    assert URI("sips:alice@atlanta.com").is_secure
    assert not URI("sip:alice@atlanta.com").is_secure


# --- %-escapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:%61lice@atlanta.com", "sip:alice@atlanta.com"),
        ("sip:%61lice@atlanta.com", "sip:%61%6c%69%63%65@atlanta.com"),
        ("sip:%61lice@atlanta.com", "sip:%61%6C%69%63%65@atlanta.com"),  # hex digits' case
        ("sip:I%20have%20spaces@example.net", "sip:I%20have%20spaces@example.net"),
        ("sip:alice:p%61ss@atlanta.com", "sip:alice:pass@atlanta.com"),
        ("sip:alice@atlanta.com;transport=%74cp", "sip:alice@atlanta.com;transport=tcp"),
        ("sip:alice@atlanta.com;%74ransport=tcp", "sip:alice@atlanta.com;transport=tcp"),
        (
            "sip:alice@atlanta.com?subject=project%20x",
            "sip:alice@atlanta.com?subject=project%20%78",
        ),
    ],
)
def test_escaped_unreserved_characters_equal_the_characters(a: str, b: str) -> None:
    """RFC 3261 19.1.4: characters outside "reserved" equal their %HEX HEX encoding."""
    assert_equal(a, b)


def test_escaped_percent_is_not_unescaped_twice() -> None:
    """RFC 3261 19.1.4 with RFC 4475 3.1.1.3: "%2541" is "%41", never "A"."""
    assert_not_equal("sip:x%2541@atlanta.com", "sip:xA@atlanta.com")
    assert_equal("sip:x%2541@atlanta.com", "sip:x%25%34%31@atlanta.com")


def test_escaped_null_is_a_character() -> None:
    """RFC 4475 3.1.1.4: %00 is a character like any other; %00 and %00%00 differ."""
    assert_not_equal("sip:%00@host5.example.com", "sip:%00%00@host5.example.com")
    assert_not_equal("sip:%00@host5.example.com", "sip:host5.example.com")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:%2B15551234@atlanta.com", "sip:+15551234@atlanta.com"),
        ("sip:a%3Bb@atlanta.com", "sip:a;b@atlanta.com"),
    ],
)
def test_escaped_reserved_characters_differ_from_the_characters(a: str, b: str) -> None:
    """RFC 3261 19.1.4: only characters *other than* those in "reserved" equal their escape."""
    assert_not_equal(a, b)


# --- uri-parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "param", ["user=phone", "user=ip", "ttl=15", "method=INVITE", "maddr=239.255.255.1",
              "transport=udp", "transport=tcp"]
)  # fmt: skip
def test_strict_parameter_in_one_uri_only_never_matches(param: str) -> None:
    """RFC 3261 19.1.4: user, ttl, method, maddr and transport in one URI only never match."""
    assert_not_equal("sip:alice@atlanta.com", f"sip:alice@atlanta.com;{param}")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("user=phone", "user=ip"),
        ("ttl=15", "ttl=16"),
        ("method=INVITE", "method=REGISTER"),
        ("maddr=239.255.255.1", "maddr=239.255.255.2"),
        ("transport=udp", "transport=tcp"),
        ("security=on", "security=off"),
        ("lr", "lr=on"),
    ],
)
def test_parameter_in_both_uris_must_match(a: str, b: str) -> None:
    """RFC 3261 19.1.4: "Any uri-parameter appearing in both URIs must match"."""
    assert_not_equal(f"sip:alice@atlanta.com;{a}", f"sip:alice@atlanta.com;{b}")


@pytest.mark.parametrize("param", ["lr", "newparam=5", "security=on", "x-unknown", "comp=sigcomp"])
def test_other_parameter_in_one_uri_only_is_ignored(param: str) -> None:
    """RFC 3261 19.1.4: "All other uri-parameters appearing in only one URI are ignored"."""
    assert_equal("sip:alice@atlanta.com", f"sip:alice@atlanta.com;{param}")
    assert_equal(
        "sip:alice@atlanta.com;transport=tcp", f"sip:alice@atlanta.com;{param};transport=tcp"
    )


def test_parameter_order_is_not_significant() -> None:
    """RFC 3261 19.1.4: the ordering of parameters is not significant."""
    assert_equal(
        "sip:alice@atlanta.com;transport=tcp;user=ip;lr;maddr=192.0.2.1",
        "sip:alice@atlanta.com;maddr=192.0.2.1;lr;user=ip;transport=tcp",
    )


# --- headers -----------------------------------------------------------------------------------


def test_headers_are_never_ignored() -> None:
    """RFC 3261 19.1.4: a header in one URI only, or with another value, breaks equality."""
    assert_not_equal("sip:alice@atlanta.com", "sip:alice@atlanta.com?priority=urgent")
    assert_not_equal("sip:alice@atlanta.com?priority=urgent", "sip:alice@atlanta.com?priority=low")
    assert_not_equal(
        "sip:alice@atlanta.com?priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=x",
    )


def test_header_order_and_name_case_are_not_significant() -> None:
    """RFC 3261 19.1.4 and 7.3.1: header order does not matter; header names ignore case."""
    assert_equal("sip:alice@atlanta.com?a=1&b=2", "sip:alice@atlanta.com?b=2&a=1")
    assert_equal("sip:alice@atlanta.com?Priority=urgent", "sip:alice@atlanta.com?priority=urgent")


# --- hashing and other types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["sip:alice@atlanta.com", "sips:bob@biloxi.com:5061;transport=tls", "tel:+12015550123",
     "isbn:2983792873", "sip:[2001:db8::10]:5070;lr"],
)  # fmt: skip
def test_uri_equals_itself_and_its_own_text(text: str) -> None:
    """RFC 3261 19.1.4: a URI parsed twice from the same text is equal, with the same hash."""
    assert_equal(text, text)
    assert str(URI(text)) == text
    assert URI(text) == URI.parse(text)


def test_uri_never_equals_a_string() -> None:
    """A URI is compared with URIs only; its text is not the URI."""
    uri = URI("sip:alice@atlanta.com")
    assert uri != "sip:alice@atlanta.com"
    assert not uri == "sip:alice@atlanta.com"  # noqa: SIM201 (__eq__ is tested on purpose)
    assert uri.__eq__("sip:alice@atlanta.com") is NotImplemented


# --- tel URIs (RFC 3966 section 4) ----------------------------------------------------------------


def test_tel_uris_with_same_number_are_equal() -> None:
    """RFC 3966 4: the same global number compares equal and hashes alike."""
    assert_equal("tel:+12015550123", "tel:+12015550123")
    assert_equal("TEL:+12015550123", "tel:+12015550123")
    assert URI("tel:+12015550123").user == "+12015550123"


def test_tel_visual_separators_are_ignored() -> None:
    """RFC 3966 4: digits are compared "after removing all visual separators"."""
    assert_equal("tel:+1-201-555-0123", "tel:+12015550123")
    assert_equal("tel:+1.201.555.0123", "tel:+1-201-555-0123")
    assert_equal("tel:+1(201)555-0123", "tel:+12015550123")


def test_tel_different_numbers_differ() -> None:
    """RFC 3966 4: different digits, or a global and a local number, are not equal."""
    assert_not_equal("tel:+12015550123", "tel:+12015550124")
    assert_not_equal("tel:+7042;phone-context=example.com", "tel:7042;phone-context=example.com")


def test_tel_phone_context_compared_case_insensitively() -> None:
    """RFC 3966 4: phone-context domains compare as host names; parameter order is free."""
    assert_equal("tel:7042;phone-context=EXAMPLE.com", "tel:7042;phone-context=example.com")
    assert_not_equal("tel:7042;phone-context=example.com", "tel:7042;phone-context=example.org")
    assert_equal(
        "tel:7042;ext=22;phone-context=example.com", "tel:7042;phone-context=example.com;ext=22"
    )


def test_tel_parameter_in_one_uri_only_breaks_equality() -> None:
    """RFC 3966 4: "If one URI has a parameter name not found in the other", they differ."""
    assert_not_equal("tel:+12015550123", "tel:+12015550123;ext=1234")
    assert_not_equal("tel:+12015550123", "tel:+12015550123;isub=1411")


def test_tel_never_equals_sip() -> None:
    """RFC 3261 19.1.4 and RFC 3966: a tel URI and a sip URI are different URIs."""
    assert_not_equal("tel:+12015550123", "sip:+12015550123@example.com;user=phone")
    assert_not_equal("tel:+12015550123", "sips:+12015550123@example.com;user=phone")


# --- other schemes (RFC 3986 6.2.2) ---------------------------------------------------------------


def test_unknown_schemes_compare_whole() -> None:
    """RFC 3986 6.2.2.1: the scheme ignores case; the opaque rest is compared as written."""
    assert_equal("isbn:2983792873", "ISBN:2983792873")
    assert_equal(
        "nobodyKnowsThisScheme:totallyopaquecontent", "nobodyknowsthisscheme:totallyopaquecontent"
    )
    assert_not_equal("isbn:2983792873", "isbn:2983792874")
    assert_not_equal("name:John_Smith", "name:john_smith")
    assert_not_equal("isbn:2983792873", "urn:2983792873")


def test_unknown_scheme_never_equals_sip() -> None:
    """RFC 3261 19.1.4: only sip and sips URIs follow its rules; other schemes never match them."""
    assert_not_equal("http://www.example.com", "sip:www.example.com")
    assert_not_equal("soap.beep://192.0.2.103:3002", "sip:192.0.2.103:3002")


# --- lr (RFC 3261 19.1.1) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sip:p1.example.com;lr",
        "sip:p1.example.com;lr=on",
        "sip:p1.example.com;LR",
        "sip:p1.example.com:5060;transport=tcp;lr",
        "sip:p1.example.com;lr;transport=tcp",
        "sips:[2001:db8::1];lr",
    ],
)
def test_lr_parameter_sets_lr(text: str) -> None:
    """RFC 3261 19.1.1: ``;lr`` marks a loose router; ``;lr=on`` (RFC 2543bis peers) too."""
    assert URI(text).lr


@pytest.mark.parametrize(
    "text",
    [
        "sip:p1.example.com",
        "sip:p1.example.com;lrx",
        "sip:p1.example.com;xlr",
        "sip:lr@p1.example.com",
        "sip:p1.example.com;maddr=lr",
        "sip:p1.example.com?lr=on",
    ],
)
def test_other_uris_do_not_set_lr(text: str) -> None:
    """RFC 3261 19.1.1: only a uri-parameter named lr counts, not lrx, a user or a header."""
    assert not URI(text).lr
