#!/usr/bin/env bash
# Development mode: both listeners `tls: off` on loopback. The daemon warns
# about it; the simulator and subscriber run with --plain; a Hello still
# has to name a configured identity of the right role and nation.
. "$(dirname "$0")/lib.sh"

free_port FP
free_port SP
sed -e "s/port: 7411, tls: off/port: $FP, tls: off/" \
    -e "s/port: 7412, tls: off/port: $SP, tls: off/" \
    "$SRC/configs/dev-plain.yaml" >"$T/plain.yaml"
grep -q "port: $FP" "$T/plain.yaml" || fail "could not set ports in dev-plain.yaml copy"
start_daemon "$T/plain.yaml"
grep -E "tls=off.*(development|Hello)" "$DLOG" >/dev/null ||
    fail "no warning about the plain listener"
say "warned: $(grep -E 'tls=off' "$DLOG" | head -1)"

"$SUB" --id CC-JPN --nation JPN --plain --connect "127.0.0.1:$SP" --json \
    >"$T/sub.json" 2>"$T/sub.err" &
SUBPID=$!
PIDS+=("$SUBPID")
wait_snapshot "$T/sub.json" "the --plain subscriber" "$T/sub.err"
timeout 120 "$SIM" --fast --plain --scenario "$SRC/configs/scenarios/default.yaml" \
    --connect "127.0.0.1:$FP" --duration 60 >"$T/sim.out" 2>"$T/sim.err" ||
    fail "trackfuse-sim --plain failed: $(tail -3 "$T/sim.err")"
sleep 1
kill -TERM "$SUBPID"
wait "$SUBPID" || fail "trackfuse-sub --plain exited non-zero"
n=$(grep -c '"type":"picture_track"' "$T/sub.json")
[ "$n" -ge 10 ] || fail "plain subscriber received only $n picture tracks"
say "ok: plain subscriber received $n picture tracks"

# Without certificates the Hello is all there is: it must still be right.
out=$("$POKE" --plain --connect "127.0.0.1:$FP" --id NOBODY-1 --nation USA \
    --send good-report --wait 2000)
echo "$out" | grep -q "^error code=ERROR_AUTH" || fail "unknown id accepted: $(echo $out)"
out=$("$POKE" --plain --connect "127.0.0.1:$FP" --id KOR-E7-1 --nation USA \
    --send good-report --wait 2000)
echo "$out" | grep -q "^error code=ERROR_AUTH" || fail "wrong nation accepted: $(echo $out)"
out=$("$POKE" --plain --connect "127.0.0.1:$FP" --id KOR-E7-1 \
    --send foreign-sensor --wait 2000)
echo "$out" | grep -q "^error code=ERROR_FORBIDDEN" || fail "foreign sensor accepted: $(echo $out)"
say "ok: plain Hello checked against the config"
stop_daemon

# A sensor the daemon will never take (its identity is not configured):
# the simulator gives it up and ends, in failure, instead of retrying it
# forever while the other eight finish.
grep -v 'id: KOR-P8-1,' "$T/plain.yaml" >"$T/nop8.yaml"
start_daemon "$T/nop8.yaml"
rc=0
timeout 60 "$SIM" --fast --plain --scenario "$SRC/configs/scenarios/default.yaml" \
    --connect "127.0.0.1:$FP" --duration 20 >"$T/sim2.out" 2>"$T/sim2.err" || rc=$?
[ "$rc" -ne 124 ] || fail "trackfuse-sim kept retrying a refused sensor"
[ "$rc" -ne 0 ] || fail "trackfuse-sim exited 0 with a sensor refused"
grep -q 'refused for good sensor=KOR-P8-1' "$T/sim2.err" ||
    fail "no log line for the refused sensor: $(tail -3 "$T/sim2.err")"
n=$(grep -c 'simnet: accepted sensor=' "$T/sim2.err")
[ "$n" -eq 8 ] || fail "expected the 8 other sensors accepted, saw $n"
say "ok: refused sensor given up (rc=$rc), $n others accepted"
stop_daemon
say "PASS"
