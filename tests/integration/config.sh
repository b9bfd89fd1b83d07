#!/usr/bin/env bash
# Every shipped config under configs/ passes `trackfused -n`; a config with
# a typo fails with file:line:column.
. "$(dirname "$0")/lib.sh"

# The shipped configs point at configs/certs/ (gitignored): make it first.
bash "$SRC/scripts/gen-certs.sh" "$SRC/configs/certs" >/dev/null ||
    fail "gen-certs.sh configs/certs failed"

n=0
for f in "$SRC"/configs/*.yaml; do
	[ -e "$f" ] || continue
	out=$("$TRACKFUSED" -n -f "$f" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "trackfused -n -f $f exited $rc: $out"
	echo "$out" | grep -q "configuration OK" ||
	    fail "trackfused -n -f $f did not print 'configuration OK': $out"
	say "ok: $(basename "$f")"
	n=$((n + 1))
done
[ $n -ge 1 ] || fail "no shipped configs under $SRC/configs"

# A typo'd key, at top level and nested, must name file:line:column.
mkdir -p "$T/cfg"
ln -s "$SRC/configs/certs" "$T/cfg/certs"
free_port FP
free_port SP
write_config "$T/cfg/good.yaml" "$FP" "$SP"
out=$("$TRACKFUSED" -n -f "$T/cfg/good.yaml" 2>&1) ||
    fail "the test's own config is refused: $out"

sed 's/^nation: USA/nattion: USA/' "$T/cfg/good.yaml" >"$T/cfg/typo-top.yaml"
sed 's/^  max_frame:/  max_fraem:/' "$T/cfg/good.yaml" >"$T/cfg/typo-nested.yaml"
sed "s/port: $FP,/port: abc,/" "$T/cfg/good.yaml" >"$T/cfg/bad-type.yaml"
for b in typo-top typo-nested bad-type; do
	out=$("$TRACKFUSED" -n -f "$T/cfg/$b.yaml" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fail "$b.yaml was accepted"
	echo "$out" | grep -Eq "$b\.yaml:[0-9]+:[0-9]+: " ||
	    fail "$b.yaml: error does not give file:line:column: $out"
	echo "$out" | grep -q "configuration OK" && fail "$b.yaml: says OK: $out"
	say "ok: $b.yaml refused: $(echo "$out" | grep -E "$b\.yaml:" | head -1)"
done

# The typo'd key's line is the line the typo is on.
line=$(grep -n '^nattion:' "$T/cfg/typo-top.yaml" | cut -d: -f1)
"$TRACKFUSED" -n -f "$T/cfg/typo-top.yaml" 2>&1 |
    grep -Eq "typo-top\.yaml:$line:[0-9]+: " ||
    fail "typo-top.yaml: error is not on line $line"
say "PASS"
