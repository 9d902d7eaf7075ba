#!/usr/bin/env bash
# Regenerate tests/data/sipp/ from real SIPp runs: a SIPp UAS and a SIPp UAC talk to each
# other over loopback (127.0.0.1) while dumpcap captures on `lo` (and on `any` for the pcapng).
#
#   sudo apt-get install sip-tester tshark      # sipp, dumpcap, tshark, capinfos, mergecap
#   scripts/make_sipp_captures.sh               # as root, or with dumpcap allowed to capture
#
# Every capture is checked (SIP flow per Call-ID, SIPp exit codes, empty SIPp error logs,
# file format, link types, timestamp resolution) before anything in tests/data/sipp/ is
# replaced, so a failed run leaves the previous files alone. The captures themselves differ
# from run to run (timestamps, SIPp's pids in tags, branches and Call-IDs); the flows do not.
# MANIFEST.md and the *.tsv sidecars are written from the new captures, so they always match.
#
# Every process this script starts runs under coreutils `timeout` and is stopped by the
# EXIT trap, whatever happens. Environment: KEEP_WORK=1 keeps the scratch folder (made with
# mktemp under $TMPDIR, /tmp by default); SIPP_TIMEOUT (seconds, default 20) is SIPp's own
# -timeout for one run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCN=$ROOT/scripts/sipp
OUT=$ROOT/tests/data/sipp
IP=127.0.0.1
SIPP_TIMEOUT=${SIPP_TIMEOUT:-20}
HARD_TIMEOUT=$((SIPP_TIMEOUT + 20)) # coreutils timeout around every process we start
START_SECONDS=$SECONDS

die() {
    echo "make_sipp_captures: $*" >&2
    exit 1
}
log() { echo "make_sipp_captures: $*" >&2; }

for tool in sipp dumpcap tshark capinfos mergecap ss timeout awk; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install sip-tester tshark iproute2)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/make_sipp_captures.XXXXXX")
STAGE=$WORK/out
mkdir -p "$STAGE"

# --- process bookkeeping -----------------------------------------------------------------
# RUNNING holds the pids (each a coreutils `timeout` wrapper) not yet reaped by `wait`.
declare -A RUNNING=()
LAST_PID=

# start_bg DIR STDOUT STDERR CMD...: run CMD in DIR under `timeout`, in the background.
start_bg() {
    local dir=$1 out=$2 err=$3
    shift 3
    (cd "$dir" && exec timeout -k 5 "$HARD_TIMEOUT" "$@" >"$out" 2>"$err" </dev/null) &
    LAST_PID=$!
    RUNNING[$LAST_PID]=1
}

# reap PID: wait for PID (bounded by its `timeout`); its exit status goes to RC.
# (Not through $(...): a subshell cannot wait for this shell's children.)
RC=0
reap() {
    RC=0
    wait "$1" || RC=$?
    unset "RUNNING[$1]"
}

# stop PID: SIGTERM (`timeout` passes it on and SIGKILLs 5 s later), then reap.
# SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    reap "$1"
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${!RUNNING[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${!RUNNING[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${KEEP_WORK:-0} == 1 || $rc != 0 ]]; then
        log "scratch files kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    if [[ $rc != 0 ]]; then
        log "FAILED (exit $rc); tests/data/sipp/ left as it was"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for TRIES CMD...: retry CMD every 0.1 s.
wait_for() {
    local tries=$1
    shift
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        ((tries > 0)) || return 1
        sleep 0.1
    done
}
listening() { ss -Hln"$1" "sport = :$2" | grep -q .; }

# --- captures ----------------------------------------------------------------------------
# capture_start DIR FILE IFACE FILTER DUMPCAP-ARGS...: start dumpcap, wait until it captures.
capture_start() {
    local dir=$1 file=$2 iface=$3 filter=$4
    shift 4
    start_bg "$dir" "$file.dumpcap.out" "$file.dumpcap.err" \
        dumpcap -q -i "$iface" "$@" -f "$filter" -w "$file"
    wait_for 100 grep -q "Capturing on" "$dir/$file.dumpcap.err" ||
        die "dumpcap on $iface did not start: $(cat "$dir/$file.dumpcap.err")"
    sleep 0.2
}

# check_sipp_logs DIR NAME: SIPp's -trace_err logs must be empty (or never created).
check_sipp_logs() {
    local f
    for f in "$1/$2.uac.err.log" "$1/$2.uas.err.log"; do
        [[ ! -s $f ]] || die "$2: SIPp error log $(basename "$f") is not empty: $(head -c 2000 "$f")"
    done
}

# run_pair NAME TRANSPORT(udp|tcp) UAC_PORT UAS_PORT CALLS
# Uses the arrays UAC_ARGS and UAS_ARGS (scenario and extra options of each side). The UAS
# starts first; the UAC places CALLS calls, one at a time (-l 1); both must exit 0.
run_pair() {
    local name=$1 transport=$2 uac_port=$3 uas_port=$4 calls=$5 dir=$WORK/$1
    local t=() uas_pid uac_pid
    [[ $transport == tcp ]] && t=(-t t1)
    local common=(-i "$IP" -ci "$IP" -m "$calls" -nostdin -timeout "${SIPP_TIMEOUT}s"
        -timeout_error -trace_msg -trace_err "${t[@]}")

    local port
    for port in "$uac_port" "$uas_port"; do
        ! listening "${transport:0:1}" "$port" || die "$name: $transport port $port is in use"
    done
    start_bg "$dir" "$name.uas.screen" "$name.uas.stderr" \
        sipp "${UAS_ARGS[@]}" "${common[@]}" -p "$uas_port" \
        -cp $((uas_port + 3000)) -mp $((20000 + (uas_port - 5000) * 4)) \
        -message_file "$name.uas.msg.log" -error_file "$name.uas.err.log"
    uas_pid=$LAST_PID
    wait_for 100 listening "${transport:0:1}" "$uas_port" ||
        die "$name: the SIPp UAS did not listen on $uas_port: $(cat "$dir/$name.uas.stderr")"

    start_bg "$dir" "$name.uac.screen" "$name.uac.stderr" \
        sipp "$IP:$uas_port" "${UAC_ARGS[@]}" "${common[@]}" -p "$uac_port" -l 1 \
        -cp $((uac_port + 3000)) -mp $((20000 + (uac_port - 5000) * 4)) \
        -message_file "$name.uac.msg.log" -error_file "$name.uac.err.log"
    uac_pid=$LAST_PID

    reap "$uac_pid"
    ((RC == 0)) || die "$name: SIPp UAC exited $RC (see $dir/$name.uac.*)"
    reap "$uas_pid"
    ((RC == 0)) || die "$name: SIPp UAS exited $RC (see $dir/$name.uas.*)"
    check_sipp_logs "$dir" "$name"
    grep -q "Successful call *| *[0-9]* *| *$calls *$" "$dir/$name.uac.screen" ||
        die "$name: the UAC does not report $calls successful calls"
    grep -q "Successful call *| *[0-9]* *| *$calls *$" "$dir/$name.uas.screen" ||
        die "$name: the UAS does not report $calls successful calls"
}

# record NAME UAC_PORT UAS_PORT CALLS TRANSPORT(udp|tcp), with UAC_ARGS and UAS_ARGS set:
# one capture, dumpcap on lo (classic pcap, microseconds) around a SIPp UAS/UAC pair.
record() {
    local name=$1 uac_port=$2 uas_port=$3 calls=$4 transport=$5 dir=$WORK/$1 dc
    mkdir -p "$dir"
    log "$name: $calls call(s) over $transport, UAC $IP:$uac_port, UAS $IP:$uas_port"
    capture_start "$dir" "$name.pcap" lo "$transport port $uac_port or $transport port $uas_port" -P
    dc=$LAST_PID
    run_pair "$name" "$transport" "$uac_port" "$uas_port" "$calls"
    sleep 0.5 # let the last packets reach dumpcap
    stop "$dc"
    ((RC == 0)) || die "$name: dumpcap exited $RC: $(cat "$dir/$name.pcap.dumpcap.err")"
    cp "$dir/$name.pcap" "$STAGE/"
}

# --- checks ------------------------------------------------------------------------------
tshark_q() { tshark "$@" 2>>"$WORK/tshark.err"; }

# sip_table FILE DECODE-AS [FILTER]: the manifest's table (frame, method, status, Call-ID).
sip_table() {
    tshark_q -r "$1" -d "$2" -Y "sip${3:+ && ($3)}" \
        -T fields -e frame.number -e sip.Method -e sip.Status-Code -e sip.Call-ID
}

# flows: read sip_table lines, print "CALL-ID<TAB>TOKEN TOKEN ..." per Call-ID in order of
# first appearance; a token is a method or a status code. A TCP frame may end several
# messages: its fields then hold comma-separated lists (all requests or all responses,
# since each side sends only one kind per frame here).
flows() {
    awk -F'\t' '
        { n = split($2 != "" ? $2 : $3, tok, ","); split($4, cid, ",")
          for (i = 1; i <= n; i++) {
              c = cid[i]; if (!(c in seq)) order[++calls] = c
              seq[c] = seq[c] (seq[c] == "" ? "" : " ") tok[i] } }
        END { for (i = 1; i <= calls; i++) print order[i] "\t" seq[order[i]] }'
}

# expect_flows FILE DECODE-AS CALLS "TOKENS" [FILTER]: CALLS Call-IDs, each with TOKENS.
expect_flows() {
    local file=$1 decode=$2 calls=$3 want=$4 filter=${5:-} got n
    got=$(sip_table "$file" "$decode" "$filter" | flows)
    n=$(grep -c . <<<"$got" || true)
    [[ $n == "$calls" ]] || die "$(basename "$file"): $n Call-IDs, expected $calls:"$'\n'"$got"
    while IFS=$'\t' read -r cid seq; do
        [[ $seq == "$want" ]] ||
            die "$(basename "$file"): call $cid: '$seq', expected '$want'"
    done <<<"$got"
}

# field FILE DECODE-AS FILTER FIELD: the values of FIELD in the SIP frames matching FILTER.
field() {
    tshark_q -r "$1" -d "$2" -Y "sip && ($3)" -T fields -E occurrence=a -E aggregator='|' -e "$4"
}

# expect_field FILE DECODE-AS FILTER FIELD WANT: every matching frame has FIELD == WANT.
expect_field() {
    local got
    got=$(field "$1" "$2" "$3" "$4" | sort -u)
    [[ $got == "$5" ]] || die "$(basename "$1"): [$3] $4 is '$got', expected '$5'"
}

# expect_format FILE TYPE ENCAP PRECISION: capinfos says so.
expect_format() {
    local info
    info=$(capinfos -t -E -M "$1" 2>>"$WORK/tshark.err")
    grep -q "File type: *$2\$" <<<"$info" || die "$(basename "$1"): not $2: $info"
    grep -q "File encapsulation: *$3" <<<"$info" || die "$(basename "$1"): not $3: $info"
    info=$(capinfos -M "$1" 2>>"$WORK/tshark.err")
    grep -q "File timestamp precision: *$4" <<<"$info" || die "$(basename "$1"): not $4 timestamps"
}

# same_branch FILE DECODE-AS CALL-ID METHODS...: the Via branch of the INVITE request
# (CSeq method INVITE) is also that of each of METHODS in the same call.
same_branch() {
    local file=$1 decode=$2 cid=$3 invite m got
    shift 3
    invite=$(field "$file" "$decode" "sip.Call-ID == \"$cid\" && sip.Method == \"INVITE\"" sip.Via.branch)
    [[ $invite == z9hG4bK* ]] || die "$(basename "$file"): no INVITE branch in $cid"
    for m in "$@"; do
        got=$(field "$file" "$decode" "sip.Call-ID == \"$cid\" && sip.Method == \"$m\"" sip.Via.branch)
        [[ $got == "$invite" ]] ||
            die "$(basename "$file"): $m branch '$got' is not the INVITE's '$invite' ($cid)"
    done
}

call_ids() { sip_table "$1" "$2" | flows | cut -f1; }

# --- the runs ----------------------------------------------------------------------------
# 1. uac-uas.pcap: built-in uac/uas, 3 calls, UDP 5071 -> 5072.
UAC_ARGS=(-sn uac)
UAS_ARGS=(-sn uas)
record uac-uas 5071 5072 3 udp
P=$STAGE/uac-uas.pcap D=udp.port==5072,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 3 "INVITE 180 200 ACK BYE 200"
cp "$WORK/uac-uas/uac-uas.uac.msg.log" "$WORK/uac-uas/uac-uas.uas.msg.log" "$STAGE/"

# 2. busy.pcap: INVITE, 100, 486, ACK (same branch as the INVITE), 2 calls.
UAC_ARGS=(-sf "$SCN/busy-uac.xml")
UAS_ARGS=(-sf "$SCN/busy-uas.xml")
record busy 5073 5074 2 udp
P=$STAGE/busy.pcap D=udp.port==5074,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 2 "INVITE 100 486 ACK"
for cid in $(call_ids "$P" "$D"); do same_branch "$P" "$D" "$cid" ACK; done

# 3. cancel.pcap: INVITE, 100, 180, CANCEL, 200 (CANCEL), 487, ACK, 2 calls.
UAC_ARGS=(-sf "$SCN/cancel-uac.xml")
UAS_ARGS=(-sf "$SCN/cancel-uas.xml")
record cancel 5075 5076 2 udp
P=$STAGE/cancel.pcap D=udp.port==5076,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 2 "INVITE 100 180 CANCEL 200 487 ACK"
for cid in $(call_ids "$P" "$D"); do same_branch "$P" "$D" "$cid" CANCEL ACK; done
expect_field "$P" "$D" "sip.Status-Code == 487" sip.CSeq.method INVITE
expect_field "$P" "$D" "sip.Status-Code == 200" sip.CSeq.method CANCEL

# 4. forking.pcap: 180 (forkA), 183 (forkB), 200 (forkA); ACK and BYE to fork-a's Contact.
UAC_ARGS=(-sf "$SCN/forking-uac.xml")
UAS_ARGS=(-sf "$SCN/forking-uas.xml")
record forking 5077 5078 1 udp
P=$STAGE/forking.pcap D=udp.port==5078,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 1 "INVITE 100 180 183 200 ACK BYE 200"
expect_field "$P" "$D" "sip.Status-Code == 180" sip.to.tag forkA
expect_field "$P" "$D" "sip.Status-Code == 183" sip.to.tag forkB
expect_field "$P" "$D" "sip.CSeq.method == \"INVITE\" && sip.Status-Code == 200" sip.to.tag forkA
expect_field "$P" "$D" "sip.Method == \"ACK\" || sip.Method == \"BYE\"" sip.r-uri \
    "sip:fork-a@$IP:5078;transport=UDP"
expect_field "$P" "$D" "sip.Method == \"ACK\" || sip.Method == \"BYE\"" sip.to.tag forkA
cp "$WORK/forking/forking.uac.msg.log" "$WORK/forking/forking.uas.msg.log" "$STAGE/"

# 5. reinvite.pcap: 200 with two Record-Route; UAS re-INVITE with a new Contact; BYE to it.
UAC_ARGS=(-sf "$SCN/reinvite-uac.xml")
UAS_ARGS=(-sf "$SCN/reinvite-uas.xml" -key uac_port 5079)
record reinvite 5079 5080 1 udp
P=$STAGE/reinvite.pcap D=udp.port==5080,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 1 "INVITE 100 180 200 ACK INVITE 200 ACK BYE 200"
expect_field "$P" "$D" "sip.Status-Code == 200 && sip.CSeq.seq == 1 && sip.Via.sent-by.port == 5079" \
    sip.Record-Route "<sip:$IP:5079;lr>|<sip:$IP:5080;lr>"
expect_field "$P" "$D" "sip.Method == \"BYE\"" sip.r-uri "sip:uas-moved@$IP:5080"
expect_field "$P" "$D" "sip.Method == \"BYE\"" sip.Route "<sip:$IP:5080;lr>, <sip:$IP:5079;lr>"
expect_field "$P" "$D" "sip.Method == \"INVITE\" && udp.srcport == 5080" sip.contact.uri \
    "sip:uas-moved@$IP:5080"
expect_field "$P" "$D" "sip.Method == \"INVITE\" && udp.srcport == 5080" sip.Route \
    "<sip:$IP:5079;lr>, <sip:$IP:5080;lr>"

# 6. tcp.pcap: uac/uas over one TCP connection (-t t1), 2 calls; the UAS's small
# socket buffers (-buff_size) and the UAC's 6000-octet X-Padding header split each INVITE
# across several TCP segments.
UAC_ARGS=(-sf "$SCN/tcp-uac.xml")
UAS_ARGS=(-sf "$SCN/tcp-uas.xml" -buff_size 4096)
record tcp 5081 5082 2 tcp
P=$STAGE/tcp.pcap D=tcp.port==5082,sip
expect_format "$P" pcap ether microseconds
expect_flows "$P" "$D" 2 "INVITE 180 200 ACK BYE 200"
[[ $(tshark_q -r "$P" -T fields -e tcp.stream | sort -u) == 0 ]] ||
    die "tcp.pcap: more than one TCP connection"
segments=$(field "$P" "$D" 'sip.Method == "INVITE"' tcp.segment.count)
[[ $(wc -w <<<"$segments") == 2 ]] || die "tcp.pcap: INVITE segment counts: '$segments'"
for n in $segments; do
    ((n > 1)) || die "tcp.pcap: an INVITE fits in one TCP segment"
done

# 7. uac-uas.pcapng: one run captured on lo (Ethernet) and on any (Linux cooked v2) at the
# same time, merged; dumpcap writes pcapng with nanosecond timestamps (if_tsresol 9).
name=uac-uas-ng dir=$WORK/uac-uas-ng
mkdir -p "$dir"
log "uac-uas.pcapng: 2 calls over udp, captured on lo and any"
filter="udp port 5071 or udp port 5072"
capture_start "$dir" lo.pcapng lo "$filter"
dc_lo=$LAST_PID
# Linux cooked v2 where libpcap offers it (1.10+), else v1 (wiretap encapsulations 210, 25)
if dumpcap -i any -L 2>/dev/null | grep -q LINUX_SLL2; then
    any_link=LINUX_SLL2 any_encap=210
else
    any_link=LINUX_SLL any_encap=25
fi
capture_start "$dir" any.pcapng any "$filter" -y "$any_link"
dc_any=$LAST_PID
UAC_ARGS=(-sn uac)
UAS_ARGS=(-sn uas)
run_pair "$name" udp 5071 5072 2
sleep 0.5
stop "$dc_lo"
((RC == 0)) || die "dumpcap on lo exited $RC: $(cat "$dir/lo.pcapng.dumpcap.err")"
stop "$dc_any"
((RC == 0)) || die "dumpcap on any exited $RC: $(cat "$dir/any.pcapng.dumpcap.err")"
mergecap -w "$STAGE/uac-uas.pcapng" "$dir/lo.pcapng" "$dir/any.pcapng"
P=$STAGE/uac-uas.pcapng D=udp.port==5072,sip
expect_format "$P" pcapng per-packet nanoseconds
[[ $(tshark_q -r "$P" -T fields -e frame.interface_id -e frame.encap_type | sort -u | tr '\t\n' ':,') \
    == "0:1,1:$any_encap," ]] ||
    die "uac-uas.pcapng: interfaces are not 0=Ethernet (1), 1=$any_link ($any_encap)"
expect_flows "$P" "$D" 2 "INVITE 180 200 ACK BYE 200" "frame.interface_id == 0"
expect_flows "$P" "$D" 2 "INVITE 180 200 ACK BYE 200" "frame.interface_id == 1"

# --- tables and manifest -----------------------------------------------------------------
declare -A DECODE=(
    [uac-uas.pcap]="udp.port==5072,sip" [busy.pcap]="udp.port==5074,sip"
    [cancel.pcap]="udp.port==5076,sip" [forking.pcap]="udp.port==5078,sip"
    [reinvite.pcap]="udp.port==5080,sip" [tcp.pcap]="tcp.port==5082,sip"
    [uac-uas.pcapng]="udp.port==5072,sip"
)
CAPTURES=(uac-uas.pcap busy.pcap cancel.pcap forking.pcap reinvite.pcap tcp.pcap uac-uas.pcapng)
for f in "${CAPTURES[@]}"; do
    sip_table "$STAGE/$f" "${DECODE[$f]}" >"$STAGE/$f.tsv"
done
# the pcapng: which interface each SIP frame came from
tshark_q -r "$STAGE/uac-uas.pcapng" -d udp.port==5072,sip -Y sip -T fields \
    -e frame.number -e frame.interface_id -e frame.encap_type -e sll.pkttype -e sip.Method \
    -e sip.Status-Code -e sip.Call-ID >"$STAGE/uac-uas.pcapng.interfaces.tsv"

# `sipp -v` exits 99
SIPP_VERSION=$({ sipp -v 2>&1 || true; } | grep -o 'SIPp v[0-9.]*' | head -1)
TSHARK_VERSION=$(tshark --version 2>/dev/null | head -1 | grep -o 'TShark (Wireshark) [0-9.]*')
package_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }

# summary FILE: format facts from capinfos
summary() {
    local info
    info=$(capinfos -M "$1" 2>>"$WORK/tshark.err")
    awk -F': *' '
        /^File type:/ { type = $2 } /^File encapsulation:/ { encap = $2 }
        /^Number of packets:/ { n = $2 } /^File timestamp precision:/ { prec = $2 }
        END { printf "%s packets; capinfos: file type `%s`, encapsulation `%s`,\n  timestamp precision %s", n, type, encap, prec }' <<<"$info"
}

tsv_block() {
    echo '```tsv'
    cat "$STAGE/$1.tsv"
    echo '```'
}
cmd() { echo "\`tshark -r $1 -d ${DECODE[$1]} -Y sip -T fields -e frame.number -e sip.Method -e sip.Status-Code -e sip.Call-ID\`"; }

{
    cat <<EOF
# SIPp captures

Real SIP traffic between a SIPp UAS and a SIPp UAC on loopback, recorded with dumpcap by
\`scripts/make_sipp_captures.sh\` (scenarios in \`scripts/sipp/\`). Regenerate with that script
(root, or dumpcap allowed to capture; Debian packages sip-tester and tshark); it checks
every flow below before it replaces anything here. This file and the \`*.tsv\` sidecars are
written by the script from the captures.

- Recorded with $SIPP_VERSION (Debian sip-tester $(package_version sip-tester)) and dumpcap,
  $TSHARK_VERSION, capinfos and mergecap (Debian tshark $(package_version tshark)).
- All traffic is IPv4 loopback, \`127.0.0.1\` to \`127.0.0.1\`; one SIPp UAS and one SIPp
  UAC per capture; the UAC places its calls one at a time (\`-l 1\`).
- No port is 5060: decode with \`-d udp.port==PORT,sip\` (or \`tcp.port\`), or rely on
  dissecting SIP by content.
- Tags, Call-IDs and branches embed the SIPp process ids (\`[pid]SIPpTag00N\` for the UAC's
  From tag, \`[pid]SIPpTag01N\` for the UAS's To tag except the fixed \`forkA\`/\`forkB\`,
  Call-ID \`N-[pid]@127.0.0.1\`, branch \`z9hG4bK-[pid]-N-I\`), and
  timestamps are those of the run, so they change on every regeneration; the flows do not.
  The \`Content-Length\` SIPp writes for a body is padded with spaces (\`Content-Length:   129\`).
- \`FILE.tsv\` beside each capture is the output of the command given for it (columns:
  frame number, request method, status code, Call-ID; no header line). In \`tcp.pcap\` a
  message is listed at the frame that completes it (after TCP reassembly), and a frame that
  completes several messages has comma-separated lists.
- The SIPp runs used \`-trace_err\`; every error log was empty. \`-trace_msg\` logs are kept
  for two runs (below): each message SIPp sent or received, with its time and size.
- Dialog states are those of RFC 3261 section 12 (early, confirmed, terminated), the same
  in the UAC's and in the UAS's view unless told otherwise.

| file | flow | calls | transport | UAC | UAS | link type | timestamps |
| --- | --- | --- | --- | --- | --- | --- | --- |
| \`uac-uas.pcap\` | INVITE 180 200 ACK BYE 200 | 3 | UDP | 127.0.0.1:5071 | 127.0.0.1:5072 | Ethernet | µs |
| \`busy.pcap\` | INVITE 100 486 ACK | 2 | UDP | 127.0.0.1:5073 | 127.0.0.1:5074 | Ethernet | µs |
| \`cancel.pcap\` | INVITE 100 180 CANCEL 200 487 ACK | 2 | UDP | 127.0.0.1:5075 | 127.0.0.1:5076 | Ethernet | µs |
| \`forking.pcap\` | INVITE 100 180 183 200 ACK BYE 200 | 1 | UDP | 127.0.0.1:5077 | 127.0.0.1:5078 | Ethernet | µs |
| \`reinvite.pcap\` | INVITE 100 180 200 ACK, re-INVITE 200 ACK, BYE 200 | 1 | UDP | 127.0.0.1:5079 | 127.0.0.1:5080 | Ethernet | µs |
| \`tcp.pcap\` | INVITE 180 200 ACK BYE 200 | 2 | TCP | 127.0.0.1:5081 | 127.0.0.1:5082 | Ethernet | µs |
| \`uac-uas.pcapng\` | INVITE 180 200 ACK BYE 200, twice each | 2 | UDP | 127.0.0.1:5071 | 127.0.0.1:5072 | Ethernet + $any_link | ns |

## uac-uas.pcap

- Flow: SIPp built-ins \`-sn uac\` and \`-sn uas\`: INVITE, 180, 200, ACK, BYE, 200.
- Calls: 3, UDP, UAC \`127.0.0.1:5071\`, UAS \`127.0.0.1:5072\`.
- Dialogs: 3, each: early (180 with To tag) -> confirmed (200) -> terminated (BYE, 200).
  The UAS sends no 100. The ACK and BYE go to the Request-URI of the INVITE
  (\`sip:service@127.0.0.1:5072\`): the built-in UAC ignores the Contact of the 200
  (\`<sip:127.0.0.1:5072;transport=UDP>\`).
- Format: $(summary "$STAGE/uac-uas.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIPp message logs: \`uac-uas.uac.msg.log\`, \`uac-uas.uas.msg.log\`.
- SIP frames: $(cmd uac-uas.pcap)

$(tsv_block uac-uas.pcap)

## busy.pcap

- Flow: \`scripts/sipp/busy-uac.xml\` to \`busy-uas.xml\`: INVITE, 100, 486 Busy Here, ACK.
- Calls: 2, UDP, UAC \`127.0.0.1:5073\`, UAS \`127.0.0.1:5074\`.
- Dialogs: none is created (no 101-199 response with a To tag, no 2xx): each call's state
  stays none (an INVITE that failed). The ACK of the 486 is hop-by-hop, part of the INVITE
  transaction: same Request-URI and Via branch as the INVITE, CSeq \`1 ACK\`, the 486's To tag.
- Format: $(summary "$STAGE/busy.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIP frames: $(cmd busy.pcap)

$(tsv_block busy.pcap)

## cancel.pcap

- Flow: \`cancel-uac.xml\` to \`cancel-uas.xml\`: INVITE, 100, 180, (200 ms) CANCEL, 200 (to
  the CANCEL, CSeq \`1 CANCEL\`), 487 Request Terminated (to the INVITE, CSeq \`1 INVITE\`), ACK.
- Calls: 2, UDP, UAC \`127.0.0.1:5075\`, UAS \`127.0.0.1:5076\`.
- Dialogs: 2, each: early (180 with To tag) -> terminated (487 to the INVITE). CANCEL and
  ACK have the INVITE's branch; the CANCEL has no To tag, the 200 and the 487 have the 180's
  To tag, the ACK has the 487's.
- Format: $(summary "$STAGE/cancel.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIP frames: $(cmd cancel.pcap)

$(tsv_block cancel.pcap)

## forking.pcap

- Flow: \`forking-uac.xml\` to \`forking-uas.xml\`; one SIPp UAS stands for a forking proxy
  and its two branches: INVITE, 100 (no tag), 180 (To tag \`forkA\`, Contact
  \`<sip:fork-a@127.0.0.1:5078;transport=UDP>\`), 183 with SDP (To tag \`forkB\`, Contact
  \`<sip:fork-b@127.0.0.1:5078;transport=UDP>\`), 200 with SDP (To tag \`forkA\`, Contact
  fork-a), ACK, (300 ms) BYE, 200. The ACK and the BYE have Request-URI
  \`sip:fork-a@127.0.0.1:5078;transport=UDP\` (the 2xx's Contact, SIPp \`rrs="true"\` and
  \`[next_url]\`) and To tag \`forkA\`; no Record-Route, so no Route.
- Calls: 1, UDP, UAC \`127.0.0.1:5077\`, UAS \`127.0.0.1:5078\` (both Contacts name it).
- Dialogs (UAC's view): two early dialogs from the one INVITE (tags forkA, forkB); forkA
  confirmed (200) then terminated (BYE, 200); forkB is never confirmed: it stays early
  until the capture ends (its last packet is the 200 to the BYE, well under a second after
  the 2xx); a UAC with a clock ends it 64*T1 (32 s) after the 2xx (RFC 3261 13.2.2.4).
- Format: $(summary "$STAGE/forking.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIPp message logs: \`forking.uac.msg.log\`, \`forking.uas.msg.log\`.
- SIP frames: $(cmd forking.pcap)

$(tsv_block forking.pcap)

## reinvite.pcap

- Flow: \`reinvite-uac.xml\` to \`reinvite-uas.xml\`: INVITE, 100, 180, 200, ACK, then the UAS
  sends a re-INVITE (CSeq \`1 INVITE\` in its own CSeq space, new branch) with a NEW Contact
  \`<sip:uas-moved@127.0.0.1:5080>\` (it was \`<sip:uas@127.0.0.1:5080>\`), 200 from the UAC,
  ACK from the UAS, (300 ms) then the UAC's BYE, 200.
- Route set: the 180 and the 200 carry two Record-Route entries, in this order:
  \`<sip:127.0.0.1:5079;lr>\`, \`<sip:127.0.0.1:5080;lr>\`. The UAC's route set is their
  reverse: its ACK and BYE carry \`Route: <sip:127.0.0.1:5080;lr>, <sip:127.0.0.1:5079;lr>\`;
  the UAS's re-INVITE and ACK carry \`Route: <sip:127.0.0.1:5079;lr>, <sip:127.0.0.1:5080;lr>\`.
  The entries stand for two loose-routing proxies; no proxy runs, and SIPp sends every
  request straight to its peer's socket. They name the peers' own sockets on purpose, so
  that each side's first Route (RFC 3261 8.1.2) is where its requests really went: the
  UAC's requests to 5080, the UAS's to 5079.
- Targets: the UAC's ACK goes to \`sip:uas@127.0.0.1:5080\`, its BYE to the new Contact
  \`sip:uas-moved@127.0.0.1:5080\`; the UAS's re-INVITE and ACK go to the UAC's Contact
  \`sip:sipp@127.0.0.1:5079\`.
- Calls: 1, UDP, UAC \`127.0.0.1:5079\`, UAS \`127.0.0.1:5080\`.
- Dialogs: 1: early (180) -> confirmed (200) -> confirmed (re-INVITE, a target refresh:
  the remote target of the UAC changes to uas-moved, the route set does not) ->
  terminated (BYE, 200).
- Format: $(summary "$STAGE/reinvite.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIP frames: $(cmd reinvite.pcap)

$(tsv_block reinvite.pcap)

## tcp.pcap

- Flow: \`tcp-uac.xml\` (the built-in uac with a 6000-octet \`X-Padding\` header in the
  INVITE) to \`tcp-uas.xml\` (the built-in uas less its final 4 s wait), over TCP
  (\`-t t1\`): INVITE, 180, 200, ACK, BYE, 200.
- Calls: 2 over ONE TCP connection (one handshake, then both calls, then FIN), UAC
  \`127.0.0.1:5081\`, UAS \`127.0.0.1:5082\`.
- Segmentation: the UAS runs with \`-buff_size 4096\` (small socket buffers, so a small
  window), so each INVITE (about 6.5 kB) arrives in several TCP segments (the tshark
  table lists it at the last one); the script checks this. The other messages are small;
  the table below shows how this recording carried each of them.
- Dialogs: 2, each: early (180) -> confirmed (200) -> terminated (BYE, 200).
- Format: $(summary "$STAGE/tcp.pcap"). Classic pcap, microsecond
  timestamps, link type Ethernet (captured on lo).
- SIP frames: $(cmd tcp.pcap)

$(tsv_block tcp.pcap)

TCP segments (frame, source port, TCP payload length, SIP start line if one starts there):

\`\`\`tsv
$(tshark_q -r "$STAGE/tcp.pcap" -o tcp.desegment_tcp_streams:FALSE -d tcp.port==5082,sip \
        -T fields -e frame.number -e tcp.srcport -e tcp.len -e sip.Request-Line -e sip.Status-Line)
\`\`\`

## uac-uas.pcapng

- Flow: the built-ins again (\`-sn uac\`, \`-sn uas\`): INVITE, 180, 200, ACK, BYE, 200.
- Calls: 2, UDP, UAC \`127.0.0.1:5071\`, UAS \`127.0.0.1:5072\`; each packet is in the
  file twice, once per interface.
- Dialogs: 2, each: early (180) -> confirmed (200) -> terminated (BYE, 200); a reader
  that does not filter by interface sees every message twice.
- Capture: two dumpcaps ran at the same time, one on \`lo\` (link type Ethernet) and one on
  \`any\` with \`-y $any_link\` (Linux cooked capture), merged by \`mergecap\` (by timestamp)
  into one pcapng with two interfaces: interface 0 is \`lo\` (encapsulation 1, Ethernet),
  interface 1 is \`any\` (encapsulation $any_encap, $any_link; each loopback packet appears
  once there, see its packet type below). Both interfaces have nanosecond timestamps
  (\`if_tsresol\` 9, dumpcap's own choice for pcapng on Linux; no conversion was needed),
  and a packet has the same timestamp on both, so frame order between the two copies is
  mergecap's choice (see the table).
- Format: $(summary "$STAGE/uac-uas.pcapng").
- SIP frames: $(cmd uac-uas.pcapng)

$(tsv_block uac-uas.pcapng)

Per interface (\`uac-uas.pcapng.interfaces.tsv\`: frame number, interface id, encapsulation,
Linux SLL packet type (0 = to this host; empty on lo), method, status code, Call-ID):

\`\`\`tsv
$(cat "$STAGE/uac-uas.pcapng.interfaces.tsv")
\`\`\`
EOF
} >"$STAGE/MANIFEST.md"

# --- install -----------------------------------------------------------------------------
mkdir -p "$OUT"
for f in "$STAGE"/*; do
    install -m 0644 "$f" "$OUT/$(basename "$f")"
done
files=("$STAGE"/*)
log "wrote ${#files[@]} files to ${OUT#"$ROOT"/} in $((SECONDS - START_SECONDS)) s"
