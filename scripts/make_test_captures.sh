#!/usr/bin/env bash
# Regenerate tests/data/captures/ with Wireshark's tools (text2pcap, editcap, mergecap).
#
# Frames come from scripts/make_test_frames.py as text2pcap hex dumps, or from text2pcap's own
# dummy IPv4/IPv6/UDP/TCP headers; the containers (pcap, nanosecond pcap, modified pcap,
# pcapng with one or several interfaces) are written by the tools. The few variants that the
# tools here do not write (big-endian files, if_tsresol 2**-n, if_tsoffset, Simple Packet
# Blocks, several sections, LinkType 12 and 14) are edits of tool-written files, and the tests
# read each one with tshark too. The output is the same from run to run on one machine (the
# section headers name the machine's OS and CPU).
# Needs: apt-get install tshark (brings text2pcap, editcap, mergecap).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/data/captures
frames=scripts/make_test_frames.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TZ=UTC  # text2pcap reads the ISO times of the hex dumps as UTC

mkdir -p "$out"
rm -f "$out"/*.pcap "$out"/*.pcapng

t2p() {  # t2p SCENARIO LINK LINKTYPE OUTPUT [text2pcap options...]: hex dump -> capture
    local scenario=$1 link=$2 linktype=$3 output=$4
    shift 4
    python3 "$frames" hex "$scenario" "$link" >"$work/$scenario-$link.txt"
    # from standard input, so that the file's comment does not name the temporary folder
    quiet text2pcap -q -t ISO -l "$linktype" "$@" - "$output" <"$work/$scenario-$link.txt"
}
quiet() {  # run a tool, showing what it printed only when it fails
    "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; return 1; }
}
rewrite() {  # rewrite OP INPUT OUTPUT
    python3 "$frames" rewrite "$@"
}

# --- the mix scenario (UDP SIP by content, non-SIP skipped) in every link type ---------------
t2p mix eth 1 "$out/mix-eth.pcapng"                       # pcapng, if_tsresol 10^-9
t2p mix eth 1 "$out/mix-eth.pcap" -F pcap                 # pcap, microseconds
editcap -F nsecpcap "$out/mix-eth.pcapng" "$out/mix-eth-nsec.pcap"
editcap -F modpcap "$out/mix-eth.pcap" "$out/mix-eth-modified.pcap"
rewrite swap "$out/mix-eth.pcap" "$out/mix-eth-be.pcap"
rewrite swap "$out/mix-eth-nsec.pcap" "$out/mix-eth-nsec-be.pcap"
editcap -F pcap -s 100 "$out/mix-eth.pcap" "$out/mix-eth-snap100.pcap"  # frames cut at 100 bytes
t2p mix sll 113 "$out/mix-sll.pcap" -F pcap
t2p mix sll2 276 "$out/mix-sll2.pcapng"
t2p mix null-le 0 "$out/mix-null-le.pcap" -F pcap
t2p mix null-be 0 "$out/mix-null-be.pcap" -F pcap
t2p mix loop 108 "$out/mix-loop.pcap" -F pcap
t2p mix raw 101 "$out/mix-raw.pcapng"
t2p mix raw 101 "$out/mix-raw.pcap" -F pcap
# LinkType 12 and 14 where they mean raw IP (DLT_RAW on most systems and on OpenBSD): text2pcap
# writes 101 for both, so the header field is set afterwards
rewrite linktype=12 "$out/mix-raw.pcap" "$out/mix-raw12.pcap"
rewrite linktype=14 "$out/mix-raw.pcap" "$out/mix-raw14.pcap"

# several interfaces of different link types in one section, packets interleaved by time
mergecap -w "$out/mix-merged.pcapng" "$out/mix-eth.pcapng" "$out/mix-sll2.pcapng" \
    "$out/mix-raw.pcapng"
# several sections (pcapng 4.1), the second one big-endian
rewrite swap "$out/mix-sll2.pcapng" "$work/sll2-be.pcapng"
cat "$out/mix-eth.pcapng" "$work/sll2-be.pcapng" >"$out/mix-sections.pcapng"
# timestamp resolutions 2^-20 s and 10^-6 s, and an offset of -3600 s (pcapng 4.2 options)
rewrite tsresol=0x94 "$out/mix-eth.pcapng" "$out/mix-tsresol-2-20.pcapng"
rewrite tsresol=6 "$out/mix-eth.pcapng" "$out/mix-tsresol-10-6.pcapng"
rewrite tsoffset=-3600 "$out/mix-eth.pcapng" "$out/mix-tsoffset.pcapng"
# Simple Packet Blocks (pcapng 4.4): no timestamp, first interface
rewrite spb "$out/mix-raw.pcapng" "$out/mix-spb.pcapng"
# a capture interrupted while writing its last packet
head -c -20 "$out/mix-eth.pcap" >"$out/mix-eth-cut.pcap"

# --- IP fragments and IPv6 extension headers --------------------------------------------------
t2p fragments eth 1 "$out/fragments-eth.pcapng"
t2p fragments sll2 276 "$out/fragments-sll2.pcap" -F pcap

# --- TCP streams -----------------------------------------------------------------------------
t2p tcp eth 1 "$out/tcp-eth.pcapng"
t2p tcp null-le 0 "$out/tcp-null.pcap" -F pcap

# --- text2pcap's own dummy headers around bare SIP payloads, on odd ports --------------------
python3 "$frames" hex payloads raw >"$work/payloads.txt"
quiet text2pcap -q -t ISO -4 192.0.2.1,192.0.2.2 -u 40000,5099 - "$out/dummy-udp4.pcapng" \
    <"$work/payloads.txt"
quiet text2pcap -q -t ISO -6 2001:db8::1,2001:db8::2 -T 40000,5099 - "$out/dummy-tcp6.pcapng" \
    <"$work/payloads.txt"

ls -l "$out"
