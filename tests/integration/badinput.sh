#!/usr/bin/env bash
# Bad input never hurts anyone else: each misbehaving peer gets an Error
# frame (when a TLS session exists), is closed, and is named in the daemon
# log, while a good feed keeps a good subscriber's picture moving; the
# daemon is alive at the end and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"

certs
free_port FP
free_port SP
write_config "$T/trackfused.yaml" "$FP" "$SP" "  handshake_timeout_ms: 1000
  idle_timeout_ms: 3000"
start_daemon "$T/trackfused.yaml"
say "daemon up feeds=$FP subscribers=$SP"

# The good ones: a command center and three ship radars in real time.
"$SUB" --id CC-JPN --nation JPN --certs "$T/certs" \
    --connect "127.0.0.1:$SP" >"$T/good-sub.out" 2>"$T/good-sub.err" &
SUBPID=$!
PIDS+=("$SUBPID")
"$SIM" --scenario "$SRC/configs/scenarios/default.yaml" --certs "$T/certs" \
    --connect "127.0.0.1:$FP" --sensor USA-AEGIS-1 --sensor KOR-AEGIS-1 \
    --sensor JPN-AEGIS-1 --duration 600 >"$T/sim.out" 2>"$T/sim.err" &
SIMPID=$!
PIDS+=("$SIMPID")
for _ in $(seq 200); do
	[ "$(grep -cE ' (NEW|UPD) ' "$T/good-sub.out")" -ge 3 ] && break
	sleep 0.1
done
before=$(grep -cE ' (NEW|UPD) ' "$T/good-sub.out")
[ "$before" -ge 3 ] ||
    fail "good subscriber sees no updates from the good feed: $(tail -3 "$T/good-sub.err")"
say "good subscriber receiving: $before updates so far"

# poke_case NAME ERROR LOGRE POKE-ARGS...: run one misbehaving peer.
# ERROR is the Error code it must receive ("-" when no TLS session exists);
# LOGRE an extended regex the daemon's line about that peer must match.
poke_case() {
	local name=$1 code=$2 re=$3 from out lport line rc
	shift 3
	NCASES=$((NCASES + 1))
	from=$(log_size)
	out=$("$POKE" --certs "$T/certs" --wait 3000 "$@" 2>&1)
	rc=$?
	echo "$out" >"$T/poke-$name.out"
	[ $rc -eq 0 ] || fail "$name: tf-poke exited $rc: $out"
	if [ "$code" != - ]; then
		echo "$out" | grep -q "^error code=$code " ||
		    fail "$name: no Error $code: $(echo $out)"
	fi
	echo "$out" | grep -q "^closed" ||
	    fail "$name: connection not closed by the daemon: $(echo $out)"
	lport=$(echo "$out" | sed -n 's/^local .*:\([0-9]*\)$/\1/p')
	[ -n "$lport" ] || fail "$name: tf-poke did not connect: $(echo $out)"
	log_wait "peer=127\.0\.0\.1:$lport([^0-9]|$)" 3 "$from" ||
	    fail "$name: no daemon log line names peer=127.0.0.1:$lport"
	line=$(tail -c +$((from + 1)) "$DLOG" |
	    grep -E " warn .*peer=127\.0\.0\.1:$lport([^0-9]|$)" |
	    grep -Ei -- "$re" | head -1)
	[ -n "$line" ] || fail "$name: no daemon log line for the peer matches /$re/:
$(tail -c +$((from + 1)) "$DLOG" | grep -E "peer=127\.0\.0\.1:$lport")"
	kill -0 "$DPID" 2>/dev/null || fail "$name: trackfused died"
	say "ok $name: $(echo "$out" | grep -E '^error' | head -1) | log: ${line#* }"
}

NCASES=0
F=(--connect "127.0.0.1:$FP" --id USA-E2D-1)
S=(--connect "127.0.0.1:$SP" --id CC-KOR)
poke_case garbage ERROR_PROTOCOL "unpack|message|envelope|frame|protocol" "${F[@]}" --send garbage
poke_case garbage-first ERROR_PROTOCOL "unpack|message|envelope|frame|protocol|hello" "${F[@]}" --send garbage-first
poke_case truncated ERROR_TIMEOUT "timeout|idle|truncat" "${F[@]}" --send truncated --wait 6000
poke_case oversize ERROR_FRAME_TOO_LARGE "limit|large|length|size" "${F[@]}" --send oversize --oversize 70000
poke_case varint11 ERROR_PROTOCOL "varint" "${F[@]}" --send varint11
poke_case wrong-msg-feed ERROR_PROTOCOL "subscribe|unexpected|not allowed|protocol" "${F[@]}" --send wrong-msg
poke_case wrong-msg-sub ERROR_PROTOCOL "track_report|report|unexpected|not allowed|protocol" "${S[@]}" --send wrong-msg
poke_case report-before-hello ERROR_PROTOCOL "hello|report|protocol" "${F[@]}" --send report-before-hello
poke_case second-hello ERROR_PROTOCOL "hello|protocol" "${F[@]}" --send second-hello
poke_case nan ERROR_INVALID "nan|finite|latitude" "${F[@]}" --send nan
poke_case inf ERROR_INVALID "inf|finite|alt" "${F[@]}" --send inf
poke_case bad-lat ERROR_INVALID "latitude|lat" "${F[@]}" --send bad-lat
poke_case bad-enum ERROR_INVALID "category" "${F[@]}" --send bad-enum
poke_case nonpsd ERROR_INVALID "covariance|semi-definite|psd" "${F[@]}" --send nonpsd
poke_case future ERROR_INVALID "future|ahead|time" "${F[@]}" --send future
poke_case foreign-sensor ERROR_FORBIDDEN "KOR-AEGIS-1" "${F[@]}" --send foreign-sensor
poke_case foreign-label ERROR_FORBIDDEN "owner|label|KOR" "${F[@]}" --send foreign-label
poke_case hello-mismatch ERROR_AUTH "USA-SBIRS-1|claimed|mismatch|hello" "${F[@]}" --send hello-mismatch
poke_case wrong-listener ERROR_AUTH "role|listener|hello|subscriber" --connect "127.0.0.1:$FP" --id CC-KOR --send good-report
poke_case version ERROR_VERSION "version" "${F[@]}" --send version
poke_case silent ERROR_TIMEOUT "timeout" "${F[@]}" --send silent --wait 4000
poke_case no-cert - "tls handshake failed.*certificate" "${F[@]}" --no-cert --send good-report
poke_case rogue-ca - "tls handshake failed.*(verify|issuer|unknown ca)" --connect "127.0.0.1:$FP" --id USA-AEGIS-1 --ca-dir "$T/certs/rogue" --send good-report

# A good peer is still welcome after all that.
out=$("$POKE" --certs "$T/certs" "${F[@]}" --send good-report --wait 1500)
echo "$out" | grep -q "^hello_ack" || fail "good peer not accepted afterwards: $(echo $out)"
echo "$out" | grep -q "^error" && fail "good report refused: $(echo $out)"
say "ok good-report accepted"

# The good subscriber kept receiving while the bad peers ran, and still does.
mid=$(grep -cE ' (NEW|UPD) ' "$T/good-sub.out")
[ "$mid" -gt "$before" ] || fail "good subscriber stalled during bad input ($before -> $mid)"
sleep 5
after=$(grep -cE ' (NEW|UPD) ' "$T/good-sub.out")
[ "$after" -gt "$mid" ] || fail "good subscriber stalled after bad input ($mid -> $after)"
kill -0 "$SIMPID" 2>/dev/null || fail "the good feed (trackfuse-sim) died: $(tail -3 "$T/sim.err")"
grep -q "ERROR" "$T/good-sub.out" && fail "good subscriber got an Error: $(grep ERROR "$T/good-sub.out")"
say "good subscriber updates: $before -> $mid -> $after"
# Every fault is counted: a stats line shows them all.
for _ in $(seq 50); do
	rej=$(grep 'stats: ' "$DLOG" | tail -1 | sed -n 's/.* rejected=\([0-9]*\).*/\1/p')
	[ "${rej:-0}" -ge "$NCASES" ] && break
	sleep 0.1
done
[ "${rej:-0}" -ge "$NCASES" ] ||
    fail "stats count ${rej:-no} rejected peers, $NCASES were refused: $(grep 'stats: ' "$DLOG" | tail -1)"
say "stats: $(grep 'stats: ' "$DLOG" | tail -1)"

stop_daemon
for _ in $(seq 30); do
	grep -q "ERROR code=ERROR_SHUTDOWN" "$T/good-sub.out" && break
	sleep 0.1
done
grep -q "ERROR code=ERROR_SHUTDOWN" "$T/good-sub.out" ||
    fail "subscriber was not told ERROR_SHUTDOWN"
kill -TERM "$SUBPID"
wait "$SUBPID"
rc=$?
[ $rc -eq 0 ] || fail "good subscriber exited $rc: $(tail -5 "$T/good-sub.err")"
grep -q "^summary: tracks=" "$T/good-sub.out" || fail "good subscriber printed no summary"
say "PASS"
