#!/usr/bin/env bash
# trackfuse-audit against a chain built here with sha256sum from the
# canonical form in docs/audit.md (so the documentation is checked too):
# verify accepts it, names the first broken record of an altered, shortened
# or gapped copy, honours --last, and show prints it.
. "$(dirname "$0")/lib.sh"
: "${AUDIT:?}"

ZERO=0000000000000000000000000000000000000000000000000000000000000000
F=$T/audit.log

# record SEQ PREV BODY: print one record line; sets HASH.
record() {
	local canon="{\"seq\":$1,\"time\":\"2026-11-29T00:00:0$1.000Z\","
	canon+="\"event_time_ns\":$(($1 * 500000000)),$3,\"prev\":\"$2\"}"
	HASH=$(printf '%s' "$canon" | sha256sum | cut -c1-64)
	printf '%s,"hash":"%s"}\n' "${canon%\}}" "$HASH"
}

prev=$ZERO
: >"$F"
record 1 $prev '"type":"audit_open","name":"trackfused","nation":"USA","version":"0.1.0","resumed_seq":0' >>"$F"
prev=$HASH
record 2 $prev '"type":"policy_load","owner":"KOR","file":"configs/policy/KOR.yaml","version":3,"sha256":"'$ZERO'"' >>"$F"
prev=$HASH
for s in 3 4 5; do
	record $s $prev '"type":"release_counts","recipient":"CC-JPN","rule":"KOR/1","released":'$s',"withheld":1' >>"$F"
	prev=$HASH
done
record 6 $prev '"type":"retraction","recipient":"CC-JPN","track_id":17,"reason":"policy narrowed \"KOR\"","owner":"KOR","policy_version":4' >>"$F"
prev=$HASH

out=$("$AUDIT" verify "$F") || fail "verify refused a good chain: $out"
[ "$out" = "audit: $F ok records=6 last=$prev" ] || fail "verify said: $out"
"$AUDIT" verify --last "$prev" "$F" >/dev/null || fail "--last refused the anchor"
say "ok: $out"

# expect_broken FILE N WHAT: verify exits 1 naming record N (line N).
expect_broken() {
	local o rc
	o=$("$AUDIT" verify "${@:4}" "$1")
	rc=$?
	[ $rc -eq 1 ] || fail "verify $1 exited $rc: $o"
	echo "$o" | grep -q "^audit: $1 broken at record $2 (line $2): $3" ||
	    fail "verify $1: expected record $2 $3, got: $o"
	say "ok: $o"
}

sed '4s/CC-JPN/CC-JPM/' "$F" >"$T/altered.log"
expect_broken "$T/altered.log" 4 "hash mismatch"
sed '3s/"prev":"\(.\)/"prev":"f/' "$F" >"$T/prev.log"
cmp -s "$F" "$T/prev.log" && fail "sed did not alter prev"
expect_broken "$T/prev.log" 3 "hash mismatch"
sed '2d' "$F" >"$T/gap.log"
expect_broken "$T/gap.log" 2 "seq gap"
head -c -1 "$F" >"$T/cut.log"
expect_broken "$T/cut.log" 6 "truncated"
head -n 5 "$F" >"$T/short.log"
expect_broken "$T/short.log" 5 "last hash mismatch" --last "$prev"
printf 'not json\n' >"$T/junk.log"
expect_broken "$T/junk.log" 1 "bad json"

out=$("$AUDIT" show "$F") || fail "show failed: $out"
[ "$(echo "$out" | wc -l)" -eq 6 ] || fail "show printed: $out"
echo "$out" | grep -q '^#6 2026-11-29T00:00:06.000Z retraction .*recipient="CC-JPN" track_id=17' ||
    fail "show: no readable retraction line: $out"
"$AUDIT" show "$T/altered.log" | grep -q '^line 4: broken: hash mismatch' ||
    fail "show does not mark the altered line"

"$AUDIT" --help | grep -q 'usage: trackfuse-audit verify' || fail "--help"
"$AUDIT" -V | grep -q '^trackfuse-audit ' || fail "-V"
"$AUDIT" frob "$F" >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown subcommand is not a usage error"
"$AUDIT" verify "$T/missing.log" >/dev/null && fail "verify of a missing file passed"
say "PASS"
