#!/usr/bin/env bash
# Revocation (issue 4): a live daemon, the simulator feeding in real time,
# CC-JPN subscribed. Narrowing KOR's rule for JPN (rewrite KOR.yaml,
# SIGUSR1) makes JPN receive a PictureDrop for every track it holds that
# carries KOR data before its next picture (the resync snapshot), and
# nothing KOR-derived afterwards; widening it again (SIGHUP this time)
# brings KOR-derived tracks back. No restart, no reconnect.
. "$(dirname "$0")/lib.sh"

certs
free_port FP
free_port SP
mkdir -p "$T/policy"
cp "$SRC"/configs/policy/*.yaml "$T/policy/"
POLICY_DIR=$T/policy write_config "$T/trackfused.yaml" "$FP" "$SP"
start_daemon "$T/trackfused.yaml"

OUT=$T/jpn.json
: >"$OUT"
"$SUB" --id CC-JPN --nation JPN --certs "$T/certs" \
    --connect "127.0.0.1:$SP" --json >>"$OUT" 2>"$T/sub.err" &
PIDS+=("$!")
wait_snapshot "$OUT" CC-JPN "$T/sub.err"

timeout 60 "$SIM" --scenario "$SRC/configs/scenarios/default.yaml" \
    --certs "$T/certs" --connect "127.0.0.1:$FP" --duration 32 \
    >"$T/sim.out" 2>"$T/sim.err" &
SIMPID=$!
PIDS+=("$SIMPID")

# KOR data reaches JPN 10 s late (delay_s: 10): wait for some.
for _ in $(seq 200); do
	grep '"type":"picture_track"' "$OUT" | grep -q '"nations":\[[^]]*"KOR"' &&
	    break
	sleep 0.1
done
grep '"type":"picture_track"' "$OUT" | grep -q '"nations":\[[^]]*"KOR"' ||
    fail "CC-JPN never received a KOR-derived track"
say "ok: CC-JPN holds KOR-derived tracks"

# Narrow: KOR's file without its rule for JPN.
awk '/^  - to: JPN/ { skip = 1; next } skip && /^  - to:/ { skip = 0 }
    !skip { print }' "$SRC/configs/policy/KOR.yaml" |
    sed 's/^version: .*/version: 4/' >"$T/policy/KOR.yaml"
grep -q 'to: JPN' "$T/policy/KOR.yaml" && fail "narrowed KOR.yaml still has a JPN rule"
echo '{"type":"mark","what":"narrow"}' >>"$OUT"
from=$(log_size)
kill -USR1 "$DPID"
log_wait "policies in force" 5 "$from" || fail "no policy reload on SIGUSR1"
sleep 3

# Widen again: the shipped file, by SIGHUP (config and policies).
cp "$SRC/configs/policy/KOR.yaml" "$T/policy/KOR.yaml"
echo '{"type":"mark","what":"widen"}' >>"$OUT"
from=$(log_size)
kill -HUP "$DPID"
log_wait "policies in force" 5 "$from" || fail "no policy reload on SIGHUP"
for _ in $(seq 150); do
	sed -n '/"what":"widen"/,$p' "$OUT" | grep '"type":"picture_track"' |
	    grep -q '"nations":\[[^]]*"KOR"' && break
	sleep 0.1
done
wait "$SIMPID" 2>/dev/null

awk '
function kor(line) { return line ~ /"nations":\[[^]]*"KOR"/ }
function id(line) {
	match(line, /"track_id":[0-9]+/)
	return substr(line, RSTART + 11, RLENGTH - 11)
}
/"type":"mark","what":"narrow"/ { phase = 1; next }
/"type":"mark","what":"widen"/ { phase = 3; next }
/"type":"snapshot_begin"/ {
	if (phase == 1) {
		for (i in held) if (held[i]) { print "FAIL: KOR-derived T" i \
		    " not dropped before the resync snapshot"; bad = 1 }
		phase = 2; resync = 1; retracted = ndrop
	}
	delete held
	next
}
/"type":"picture_drop"/ { delete held[id($0)]; if (phase == 1) ndrop++; next }
/"type":"picture_track"/ {
	held[id($0)] = kor($0)
	if (phase == 0 && kor($0)) before++
	if (phase == 2 && kor($0)) { print "FAIL: KOR-derived T" id($0) \
	    " after the narrowing"; bad = 1 }
	if (phase == 3 && kor($0)) back++
}
END {
	if (!resync) { print "FAIL: no resync snapshot after the narrowing"; bad = 1 }
	if (!back) { print "FAIL: no KOR-derived track after widening"; bad = 1 }
	printf "before=%d retracted=%d back=%d\n", before, retracted, back
	exit bad
}' "$OUT" >"$T/check.out" || fail "$(grep FAIL "$T/check.out" | head -5)"
say "ok: $(tail -1 "$T/check.out")"
grep -q "disconnected id=CC-JPN" "$DLOG" &&
    fail "CC-JPN was disconnected"
stop_daemon
say "PASS"
