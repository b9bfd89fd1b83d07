#!/usr/bin/env bash
# End to end over mutual TLS: daemon + all simulated sensors (--fast) + a
# command center recording JSON. The center must receive system tracks for
# the objects the sensors saw; a feed naming another feed's sensor is refused.
. "$(dirname "$0")/lib.sh"

DURATION=${E2E_DURATION:-600}
certs
free_port FP
free_port SP
write_config "$T/trackfused.yaml" "$FP" "$SP"
start_daemon "$T/trackfused.yaml"
say "daemon up feeds=$FP subscribers=$SP"

"$SUB" --id CC-USA --nation USA --certs "$T/certs" \
    --connect "127.0.0.1:$SP" --json --record "$T/sub.rec" \
    >"$T/sub.json" 2>"$T/sub.err" &
SUBPID=$!
PIDS+=("$SUBPID")
wait_snapshot "$T/sub.json" "the subscriber" "$T/sub.err"
say "subscriber has its snapshot"

timeout 240 "$SIM" --fast --scenario "$SRC/configs/scenarios/default.yaml" \
    --certs "$T/certs" --connect "127.0.0.1:$FP" --duration "$DURATION" \
    --truth "$T/truth.jsonl" >"$T/sim.out" 2>"$T/sim.err"
rc=$?
[ $rc -eq 0 ] || fail "trackfuse-sim exited $rc: $(tail -5 "$T/sim.err")"
say "simulator: $(grep 'sim: done' "$T/sim.err" | tail -1)"

# Let the last updates reach the subscriber, then stop it for its summary.
sleep 2
kill -TERM "$SUBPID"
wait "$SUBPID"
rc=$?
[ $rc -eq 0 ] || fail "trackfuse-sub exited $rc on SIGTERM"

[ -s "$T/sub.rec" ] || fail "subscriber --record file is empty"
# --record holds every received frame: as many as --json printed objects.
nrec=$(record_frames "$T/sub.rec")
njson=$(grep -vc '"type":"summary"' "$T/sub.json")
[ "$nrec" -eq "$njson" ] ||
    fail "--record has $nrec frames, --json printed $njson"
say "ok: --record holds all $nrec frames received"
invalid=$(grep -o '"invalid":[0-9]*' "$T/sub.json" | tail -1 | cut -d: -f2)
[ "${invalid:-x}" = 0 ] || fail "subscriber saw invalid picture tracks: ${invalid:-no summary}"

ids=$(grep '"type":"picture_track"' "$T/sub.json" |
    grep -o '"track_id":[0-9]*' | sort -u | wc -l)
cats=$(grep '"type":"picture_track"' "$T/sub.json" |
    grep -o '"category":"[a-z-]*"' | sort -u | cut -d'"' -f4 | tr '\n' ' ')
ncats=$(echo $cats | wc -w)
covered=$(grep -v '"covered_by":\[\]' "$T/truth.jsonl" |
    grep -o '"id":"[^"]*"' | sort -u | wc -l)
tcats=$(grep -v '"covered_by":\[\]' "$T/truth.jsonl" |
    grep -o '"category":"[a-z-]*"' | sort -u | cut -d'"' -f4 | tr '\n' ' ')
final=$(grep '"type":"summary"' "$T/sub.json" | grep -o '"tracks":[0-9]*' |
    cut -d: -f2)
say "truth: covered objects=$covered categories=[$tcats]"
say "picture: distinct track ids=$ids final tracks=${final:-?} categories=[$cats]"

[ "$covered" -ge 5 ] || fail "truth file shows only $covered covered objects"
[ "$ids" -ge 1 ] || fail "the subscriber received no system tracks"
[ "$ncats" -ge 3 ] || fail "only $ncats categories in the picture: $cats"
# (Sensors' false tracks may add categories no object has: not checked.)
for c in $tcats; do
	case " $cats " in
	*" $c "*) ;;
	*) fail "covered objects of category $c but none in the picture" ;;
	esac
done
# Sane factor: at least half the covered objects got a track; false tracks,
# renumbered tracks and split tracks may add ids, but not without bound.
[ $((ids * 2)) -ge "$covered" ] ||
    fail "only $ids track ids for $covered covered objects"
[ "$ids" -le $((covered * 10 + 20)) ] ||
    fail "$ids track ids for $covered covered objects: tracks are not fused"
[ -n "$final" ] && [ "$final" -le $((covered * 4 + 10)) ] ||
    fail "final picture holds ${final:-?} tracks for $covered covered objects"

# --count N: a late subscriber gets the snapshot and leaves after N frames.
timeout 20 "$SUB" --id CC-KOR --nation KOR --certs "$T/certs" \
    --connect "127.0.0.1:$SP" --count 3 >"$T/count.out" 2>"$T/count.err"
rc=$?
[ $rc -eq 0 ] || fail "trackfuse-sub --count 3 exited $rc: $(tail -3 "$T/count.err")"
n=$(grep -cE ' (NEW|UPD) ' "$T/count.out")
[ "$n" -eq 3 ] || fail "trackfuse-sub --count 3 printed $n track lines"
grep -q "^SNAPSHOT begin tracks=" "$T/count.out" || fail "late subscriber: no snapshot"
say "ok: late subscriber: $(head -1 "$T/count.out"), left after 3 frames"

# A feed presenting another sensor's id is refused with ERROR_FORBIDDEN.
out=$("$POKE" --certs "$T/certs" --id USA-AEGIS-1 --connect "127.0.0.1:$FP" \
    --send foreign-sensor --wait 3000)
echo "$out" | sed "s/^/[$TNAME] poke: /"
echo "$out" | grep -q "error code=ERROR_FORBIDDEN" ||
    fail "foreign sensor not refused with ERROR_FORBIDDEN"
echo "$out" | grep -q "^closed" || fail "foreign sensor connection not closed"
lport=$(echo "$out" | sed -n 's/^local .*:\([0-9]*\)$/\1/p')
re="peer=127\.0\.0\.1:$lport([^0-9]|$).*KOR-AEGIS-1.*USA-AEGIS-1"
log_wait "$re" 3 || fail "daemon log has no line naming peer port $lport, the sensor and the identity"
say "foreign sensor refused: $(grep -E "$re" "$DLOG" | head -1)"

stop_daemon
say "PASS"
