#!/usr/bin/env bash
# SIGHUP with a broken config is refused and the daemon keeps running on the
# old one; a good reload is applied. A subscriber survives a daemon restart
# by reconnecting and taking a new snapshot.
. "$(dirname "$0")/lib.sh"

certs
free_port FP
free_port SP
CFG=$T/trackfused.yaml
write_config "$CFG" "$FP" "$SP"
cp "$CFG" "$T/good.yaml"
start_daemon "$CFG"

"$SUB" --id CC-USA --nation USA --certs "$T/certs" \
    --connect "127.0.0.1:$SP" >"$T/sub.out" 2>"$T/sub.err" &
PIDS+=("$!")
for _ in $(seq 50); do
	grep -q "SNAPSHOT end" "$T/sub.out" && break
	sleep 0.1
done
grep -q "SNAPSHOT end" "$T/sub.out" || fail "no snapshot: $(cat "$T/sub.err")"

# A broken config: refused, the old one keeps running.
sed 's/^name:/nmae:/' "$T/good.yaml" >"$CFG"
from=$(log_size)
kill -HUP "$DPID"
log_wait "reload refused" 5 "$from" || fail "broken config on SIGHUP: no 'reload refused' line"
sleep 0.5
kill -0 "$DPID" 2>/dev/null || fail "trackfused died on SIGHUP with a broken config"
say "ok: $(tail -c +$((from + 1)) "$DLOG" | grep 'reload refused' | head -1)"
out=$("$POKE" --certs "$T/certs" --connect "127.0.0.1:$FP" --id USA-E2D-1 \
    --send good-report --wait 1500)
echo "$out" | grep -q "^hello_ack" || fail "not serving after a refused reload: $(echo $out)"

# A good config (one identity less): applied, and the connected center
# whose identity is gone is told so and closed.
"$SUB" --id CC-KOR --nation KOR --certs "$T/certs" \
    --connect "127.0.0.1:$SP" >"$T/kor.out" 2>"$T/kor.err" &
PIDS+=("$!")
for _ in $(seq 50); do
	grep -q "SNAPSHOT end" "$T/kor.out" && break
	sleep 0.1
done
grep -q "SNAPSHOT end" "$T/kor.out" || fail "CC-KOR got no snapshot: $(cat "$T/kor.err")"
awk 'BEGIN { skip = 0 }
	/^  - id: CC-KOR$/ { skip = 3; next }	# role, nation, secret
	skip > 0 { skip--; next }
	{ print }' "$T/good.yaml" >"$CFG"
from=$(log_size)
kill -HUP "$DPID"
log_wait "config: reloaded" 5 "$from" || fail "good config on SIGHUP: no 'config: reloaded' line"
say "ok: $(tail -c +$((from + 1)) "$DLOG" | grep 'config: reloaded' | head -1)"
out=$("$POKE" --certs "$T/certs" --connect "127.0.0.1:$SP" --id CC-KOR \
    --send good-report --wait 1500)
echo "$out" | grep -q "^error code=ERROR_AUTH" ||
    fail "identity removed by reload still accepted: $(echo $out)"
for _ in $(seq 30); do
	grep -q "ERROR code=ERROR_AUTH" "$T/kor.out" && break
	sleep 0.1
done
grep -q "ERROR code=ERROR_AUTH" "$T/kor.out" ||
    fail "connected CC-KOR not closed with ERROR_AUTH after its identity was removed"
say "ok: removed identity disconnected and refused after reload"

# Restart the daemon: the subscriber reconnects and takes a new snapshot.
stop_daemon
DLOG=$T/daemon2.log
start_daemon "$CFG"
for _ in $(seq 150); do
	[ "$(grep -c 'SNAPSHOT begin' "$T/sub.out")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'SNAPSHOT begin' "$T/sub.out")" -ge 2 ] ||
    fail "subscriber did not resynchronise after a daemon restart: $(tail -3 "$T/sub.err")"
say "ok: subscriber reconnected and took a new snapshot"
stop_daemon
say "PASS"
