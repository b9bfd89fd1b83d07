#!/usr/bin/env bash
# Noninterference (issue 4): for each recipient R and several seeds, R's
# stream from `trackfused --replay REC --as R` is byte-identical to R's
# stream from a replay of REC in which every contribution R may not
# receive is (a) deleted and (b) replaced by random values (tf-recfilter,
# judged by the real policies). Heartbeats and drops are kept: they are
# what R may know (time passes; a source it held is gone).
. "$(dirname "$0")/lib.sh"
: "${RECFILTER:?} ${PICDUMP:?}"

SCEN=$SRC/configs/scenarios/default.yaml
CFG=$SRC/configs/dev-plain.yaml		# the shipped policies, no certs needed
DURATION=${NI_DURATION:-150}
SEEDS=${NI_SEEDS:-"1 2 3"}

# replay_as REC R PIC: R's stream from a replay of REC.
replay_as() {
	"$TRACKFUSED" -f "$CFG" --replay "$1" --as "$2" --picture-out "$3" \
	    2>"$3.err" || fail "replay of $1 --as $2 failed: $(tail -3 "$3.err")"
}

for seed in $SEEDS; do
	"$SIM" --offline --scenario "$SCEN" --seed "$seed" --duration "$DURATION" \
	    --record "$T/rec.$seed" --truth "$T/truth.$seed" 2>"$T/sim.$seed.err" ||
	    fail "trackfuse-sim --offline failed: $(tail -3 "$T/sim.$seed.err")"
	for r in CC-USA CC-KOR CC-JPN; do
		replay_as "$T/rec.$seed" "$r" "$T/pic.$seed.$r"
		frames=$("$PICDUMP" "$T/pic.$seed.$r" | tr ' ' '\n' |
		    sed -n 's/^tracks=//p')
		[ "${frames:-0}" -gt 100 ] ||
		    fail "seed $seed $r: only ${frames:-0} track frames (empty picture?)"
		for mode in delete random; do
			"$RECFILTER" -f "$CFG" --as "$r" --mode "$mode" \
			    --seed "$seed" "$T/rec.$seed" "$T/rec.$seed.$r.$mode" \
			    2>"$T/rf.$seed.$r.$mode.err" ||
			    fail "tf-recfilter $r $mode: $(cat "$T/rf.$seed.$r.$mode.err")"
			changed=$(sed -n 's/.* changed=\([0-9]*\).*/\1/p' \
			    "$T/rf.$seed.$r.$mode.err")
			replay_as "$T/rec.$seed.$r.$mode" "$r" \
			    "$T/pic.$seed.$r.$mode"
			cmp -s "$T/pic.$seed.$r" "$T/pic.$seed.$r.$mode" ||
			    fail "seed $seed $r $mode: stream differs ($(cmp \
			    "$T/pic.$seed.$r" "$T/pic.$seed.$r.$mode" 2>&1))"
			say "ok: seed $seed $r $mode: identical, $frames track frames, $changed contributions changed"
		done
	done
	# The shipped policies must make a difference: not everyone sees
	# the same picture.
	cmp -s "$T/pic.$seed.CC-KOR" "$T/pic.$seed.CC-JPN" &&
	    fail "seed $seed: CC-KOR and CC-JPN streams are identical"
done
# At least some contributions must have been withheld from someone.
grep -h 'changed=' "$T"/rf.*.err | grep -qv 'changed=0 ' ||
    fail "no recipient was refused anything: the test proves nothing"
say "PASS"
