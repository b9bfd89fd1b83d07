#!/usr/bin/env bash
# Record and replay. The simulator records a scenario offline; trackfused
# --replay runs the daemon's pipeline over it twice and must write the same
# picture bytes both times. Corrupted copies (garbage appended, one frame's
# sensor id changed to one no identity owns) are refused frame by frame,
# counted, logged with the frame's byte offset, and the replay still exits
# 0. Finally the live pipeline must agree with replay: a subscriber records
# the picture while trackfuse-sim --fast feeds a live daemon the same
# scenario and seed, and its final picture is compared with the replay's.
. "$(dirname "$0")/lib.sh"
: "${PICDUMP:?}"

SCEN=$SRC/configs/scenarios/default.yaml
SEED=7
DURATION=${REPLAY_DURATION:-300}

# summary_field LOG KEY: the value of KEY= in the replay summary line.
summary_field() {
	grep '^replay: frames=' "$1" | tail -1 | tr ' ' '\n' |
	    sed -n "s/^$2=//p"
}

# replay REC PIC LOG: run trackfused --replay; fail unless it exits 0.
replay() {
	"$TRACKFUSED" -f "$T/replay/trackfused.yaml" --replay "$1" \
	    --picture-out "$2" 2>"$3"
	local rc=$?
	[ $rc -eq 0 ] || fail "replay of $1 exited $rc: $(tail -3 "$3")"
	grep -q '^replay: frames=' "$3" || fail "replay of $1: no summary line"
}

certs
free_port FP
free_port SP
write_config "$T/trackfused.yaml" "$FP" "$SP"
# Replay loads no certificates: its copy of the config (same identities,
# limits and correlator) has plain listeners, no tls section, and sits
# where there is no certs/ directory.
mkdir -p "$T/replay"
sed -e 's/tls: on/tls: off/' -e '/^tls:/,/^  key:/d' "$T/trackfused.yaml" \
    >"$T/replay/trackfused.yaml"

"$SIM" --offline --scenario "$SCEN" --seed $SEED --duration "$DURATION" \
    --record "$T/rec" --truth "$T/truth" 2>"$T/sim-offline.err" ||
    fail "trackfuse-sim --offline failed: $(tail -3 "$T/sim-offline.err")"
[ -s "$T/rec" ] || fail "the recording is empty"
nrec=$(record_frames "$T/rec")
say "recorded $nrec frames ($(stat -c %s "$T/rec") bytes)"

# 1. Determinism: two replays, identical bytes.
replay "$T/rec" "$T/pic1" "$T/replay1.err"
replay "$T/rec" "$T/pic2" "$T/replay2.err"
say "$(grep '^replay: frames=' "$T/replay1.err")"
[ -s "$T/pic1" ] || fail "the replay picture is empty"
cmp "$T/pic1" "$T/pic2" || fail "two replays of one recording differ"
[ "$(summary_field "$T/replay1.err" frames)" -eq "$nrec" ] ||
    fail "replay read $(summary_field "$T/replay1.err" frames) of $nrec frames"
[ "$(summary_field "$T/replay1.err" rejected)" -eq 0 ] ||
    fail "a clean recording had rejected frames: $(grep warn "$T/replay1.err" | head -3)"
dump=$("$PICDUMP" "$T/pic1") || fail "the replay picture does not parse"
say "picture: $dump"
pframes=$(summary_field "$T/replay1.err" picture_frames)
echo "$dump" | grep -q "^frames=$pframes snapshots=1 " ||
    fail "picture_frames=$pframes but the file holds: $dump"
# Uncoalesced: every track the core created, updated or dropped is there.
field() { echo "$dump" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
created=$(summary_field "$T/replay1.err" tracks_created)
atend=$(summary_field "$T/replay1.err" tracks_at_end)
[ "$(field ids)" -eq "$created" ] ||
    fail "picture has $(field ids) track ids, the core created $created"
[ "$(field live)" -eq "$atend" ] ||
    fail "picture ends with $(field live) tracks, the core with $atend"
[ "$(field drops)" -eq $((created - atend)) ] ||
    fail "picture has $(field drops) drops for $((created - atend)) dropped tracks"
[ "$(field tracks)" -ge "$created" ] ||
    fail "fewer PictureTrack frames than tracks created"
say "ok: two replays wrote identical pictures ($(stat -c %s "$T/pic1") bytes)"

# 2a. Garbage appended: the framing breaks at the old end of file.
cp "$T/rec" "$T/rec.garbage"
head -c 64 /dev/zero | tr '\0' '\377' >>"$T/rec.garbage"
replay "$T/rec.garbage" "$T/pic.garbage" "$T/replay.garbage.err"
[ "$(summary_field "$T/replay.garbage.err" rejected)" -gt 0 ] ||
    fail "appended garbage was not rejected"
size=$(stat -c %s "$T/rec")
grep -q "rejected frame peer=offset:$size " "$T/replay.garbage.err" ||
    fail "no rejection naming offset $size: $(grep warn "$T/replay.garbage.err" | head -3)"
cmp "$T/pic1" "$T/pic.garbage" ||
    fail "garbage after the last frame changed the picture"
say "ok: garbage refused: $(grep 'rejected frame' "$T/replay.garbage.err" | head -1 | cut -d' ' -f3-)"

# 2b. One report's sensor id changed to one that no identity owns (same
# length, so the framing holds): that frame alone is refused.
cp "$T/rec" "$T/rec.sensor"
off=$(grep -obUa 'KOR-AEGIS-1' "$T/rec" | sed -n '5p' | cut -d: -f1)
[ -n "$off" ] || fail "no KOR-AEGIS-1 frame in the recording"
printf 'XXX' | dd of="$T/rec.sensor" bs=1 seek="$off" conv=notrunc \
    status=none
replay "$T/rec.sensor" "$T/pic.sensor" "$T/replay.sensor.err"
[ "$(summary_field "$T/replay.sensor.err" rejected)" -eq 1 ] ||
    fail "rejected=$(summary_field "$T/replay.sensor.err" rejected), want 1"
[ "$(summary_field "$T/replay.sensor.err" frames)" -eq "$nrec" ] ||
    fail "replay stopped early after the foreign sensor"
line=$(grep 'feed: rejected' "$T/replay.sensor.err" | head -1)
echo "$line" | grep -Eq 'peer=offset:[0-9]+ .*error=forbidden.*XXX-AEGIS-1' ||
    fail "no forbidden line naming the offset and the sensor: $line"
foff=$(echo "$line" | sed 's/.*peer=offset:\([0-9]*\).*/\1/')
[ "$foff" -lt "$off" ] && [ $((off - foff)) -lt 64 ] ||
    fail "rejection names offset $foff, the id sits at $off"
say "ok: unowned sensor refused: $(echo "$line" | cut -d' ' -f3-)"

# 3. Live agrees with replay. A subscriber connected before the first
# report records the picture while the simulator feeds the same scenario
# and seed over 9 TLS connections.
start_daemon "$T/trackfused.yaml"
"$SUB" --id CC-USA --nation USA --certs "$T/certs" \
    --connect "127.0.0.1:$SP" --json --record "$T/live.rec" \
    >"$T/sub.json" 2>"$T/sub.err" &
SUBPID=$!
PIDS+=("$SUBPID")
wait_snapshot "$T/sub.json" "the subscriber" "$T/sub.err"
timeout 200 "$SIM" --fast --scenario "$SCEN" --seed $SEED \
    --duration "$DURATION" --certs "$T/certs" --connect "127.0.0.1:$FP" \
    --record "$T/live-sent.rec" >"$T/sim.out" 2>"$T/sim.err"
rc=$?
[ $rc -eq 0 ] || fail "trackfuse-sim --fast exited $rc: $(tail -3 "$T/sim.err")"
sleep 2
kill -TERM "$SUBPID"
wait "$SUBPID"
stop_daemon
grep -q 'feed: rejected' "$DLOG" && fail "the live daemon rejected feed input"

# The simulator is deterministic: live it sent what offline it recorded.
cmp -s "$T/rec" "$T/live-sent.rec" ||
    fail "trackfuse-sim --fast sent other frames than --offline recorded"
"$PICDUMP" --final "$T/pic1" >"$T/final.replay" ||
    fail "the replay picture does not parse"
"$PICDUMP" --final "$T/live.rec" >"$T/final.live" ||
    fail "the live picture does not parse"
ldump=$("$PICDUMP" "$T/live.rec")
say "live picture: $ldump"
echo "$ldump" | grep -q ' stray=0$' || fail "live picture drops unknown ids"
echo "$dump" | grep -q ' stray=0$' || fail "replay picture drops unknown ids"
rlive=$(grep -c ' live ' "$T/final.replay")
llive=$(grep -c ' live ' "$T/final.live")
say "track ids: replay=$(wc -l <"$T/final.replay") live=$(wc -l <"$T/final.live"); at the end: replay=$rlive live=$llive"
if cmp -s "$T/final.live" "$T/final.replay"; then
	say "ok: live and replay end on the same picture, id by id"
	say "PASS"
	exit 0
fi
# Exact equality does not hold (README, "Record and replay"): live, the 9
# feeds arrive over 9 connections and the daemon reads each in chunks, so
# the core sees another interleaving than the recording's event-time order
# (one feed may run up to 60 s ahead of another). Correlation depends on
# that order, and track ids are numbered in creation order, so ids differ
# and a lagging feed's contributions may age out and be re-made under new
# ids; near-ties (a tight formation) may end as one track more or less.
# What must hold is the picture at the end: about as many tracks, and for
# (nearly) every replay track a live one of the same category within 5 km.
match=$(awk '
	FNR == NR && $2 == "live" { rc[++nr] = $4; rlat[nr] = $6; rlon[nr] = $7; next }
	$2 == "live" { lc[++nl] = $4; llat[nl] = $6; llon[nl] = $7 }
	END {
		m = 0
		for (i = 1; i <= nr; i++) {
			best = -1; bd = 5000
			for (j = 1; j <= nl; j++) {
				if (used[j] || lc[j] != rc[i])
					continue
				dy = (llat[j] - rlat[i]) * 111320
				dx = (llon[j] - rlon[i]) * 111320 * cos(rlat[i] * 3.14159265 / 180)
				d = sqrt(dx * dx + dy * dy)
				if (d < bd) { bd = d; best = j }
			}
			if (best > 0) { used[best] = 1; m++ }
		}
		print m
	}' "$T/final.replay" "$T/final.live")
say "final tracks matched by category and position (< 5 km): $match of $rlive"
tol=$((rlive / 8 + 2))
d=$((llive - rlive)); d=${d#-}
[ $d -le $tol ] || fail "live ends with $llive tracks, replay with $rlive"
[ "$match" -ge $((rlive - tol)) ] ||
    fail "only $match of $rlive replay tracks have a live counterpart"
say "ok: live and replay end on the same picture (ids aside)"
say "PASS"
