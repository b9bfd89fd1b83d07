#!/usr/bin/env bash
# A slow subscriber costs only itself: one center stops reading while the
# simulator floods the daemon (--fast); the daemon's queued bytes stay near
# subscriber_buffer, and a good center still ends with exactly the daemon's
# picture (snapshot + updates + drops add up).
. "$(dirname "$0")/lib.sh"

BUF=65536
certs
free_port FP
free_port SP
write_config "$T/trackfused.yaml" "$FP" "$SP" "  subscriber_buffer: $BUF"
sed -i 's/stats_interval_s: 2/stats_interval_s: 1/' "$T/trackfused.yaml"
start_daemon "$T/trackfused.yaml"

"$SUB" --id CC-USA --nation USA --certs "$T/certs" --connect "127.0.0.1:$SP" \
    >"$T/good.out" 2>"$T/good.err" &
GOOD=$!
PIDS+=("$GOOD")
"$POKE" --certs "$T/certs" --connect "127.0.0.1:$SP" --id CC-KOR \
    --send stall --wait 30000 >"$T/stall.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do
	grep -q "^stalling" "$T/stall.out" && grep -q "SNAPSHOT end" "$T/good.out" && break
	sleep 0.1
done
grep -q "^stalling" "$T/stall.out" || fail "staller did not subscribe: $(cat "$T/stall.out")"

timeout 240 "$SIM" --fast --scenario "$SRC/configs/scenarios/default.yaml" \
    --certs "$T/certs" --connect "127.0.0.1:$FP" >"$T/sim.out" 2>"$T/sim.err" ||
    fail "trackfuse-sim failed: $(tail -3 "$T/sim.err")"
say "simulator: $(grep 'sim: done' "$T/sim.err" | tail -1)"

# Let the good center catch up and two stats lines pass.
sleep 2.5
kill -0 "$DPID" 2>/dev/null || fail "trackfused died"
daemon_tracks=$(grep 'stats: ' "$DLOG" | tail -1 | sed -n 's/.* tracks=\([0-9]*\) .*/\1/p')
maxq=$(grep 'stats: ' "$DLOG" | sed -n 's/.* bytes_queued=\([0-9]*\).*/\1/p' | sort -n | tail -1)
kill -TERM "$GOOD"
wait "$GOOD" || fail "good subscriber exited non-zero"
good_tracks=$(sed -n 's/^summary: tracks=\([0-9]*\).*/\1/p' "$T/good.out")
say "daemon tracks=$daemon_tracks good center holds=$good_tracks max bytes_queued=$maxq (subscriber_buffer=$BUF)"
[ -n "$daemon_tracks" ] && [ -n "$good_tracks" ] || fail "missing stats or summary"
[ "$good_tracks" -eq "$daemon_tracks" ] ||
    fail "good center holds $good_tracks tracks, the daemon $daemon_tracks"
# Two subscribers; each may exceed its buffer by about one burst of frames.
[ "${maxq:-0}" -le $((2 * (BUF + 65536))) ] ||
    fail "bytes_queued reached $maxq with subscriber_buffer=$BUF"
grep -q "^error" "$T/stall.out" && say "staller was closed: $(grep '^error' "$T/stall.out")"
stop_daemon
say "PASS"
