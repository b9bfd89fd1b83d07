#!/usr/bin/env bash
# Release policies live (issue 4). A broken KOR policy stops KOR releases
# only: CC-USA and CC-JPN get no KOR-derived track while USA and JPN data
# still flows to the others, and CC-KOR still gets KOR data. The daemon's
# audit trail records the loads and the reject, the per-interval counts
# and, after KOR's file is fixed (SIGUSR1), the load and the retractions;
# trackfuse-audit verifies the chain, and one altered byte fails it at
# that record. `trackfused -n` prints the release matrix and names the
# failing owner.
. "$(dirname "$0")/lib.sh"
: "${AUDIT:?}"

certs
free_port FP
free_port SP
mkdir -p "$T/policy"
cp "$SRC"/configs/policy/*.yaml "$T/policy/"
printf 'owner: KOR\nversion: 9\nrules: [ { to: JPN, bogus: 1 } ]\n' \
    >"$T/policy/KOR.yaml"
POLICY_DIR=$T/policy write_config "$T/trackfused.yaml" "$FP" "$SP"
printf 'audit: { file: audit.log, interval_s: 1 }\n' >>"$T/trackfused.yaml"

# -n: configuration OK, the matrix, and KOR named as failing closed.
out=$("$TRACKFUSED" -n -f "$T/trackfused.yaml" 2>&1) ||
    fail "trackfused -n refused the config: $out"
echo "$out" | grep -q "configuration OK" || fail "-n: no 'configuration OK'"
echo "$out" | grep -q "KOR FAILS CLOSED" || fail "-n: KOR not named failing: $out"
echo "$out" | grep -q "CC-JPN" || fail "-n: no release matrix: $out"
say "ok: -n prints the matrix and the failing owner"

start_daemon "$T/trackfused.yaml"
for cc in USA KOR JPN; do
	: >"$T/$cc.json"
	"$SUB" --id "CC-$cc" --nation "$cc" --certs "$T/certs" \
	    --connect "127.0.0.1:$SP" --json >>"$T/$cc.json" 2>"$T/$cc.err" &
	PIDS+=("$!")
done
for cc in USA KOR JPN; do
	wait_snapshot "$T/$cc.json" "CC-$cc" "$T/$cc.err"
done

timeout 60 "$SIM" --fast --scenario "$SRC/configs/scenarios/default.yaml" \
    --certs "$T/certs" --connect "127.0.0.1:$FP" --duration 120 \
    >"$T/sim.out" 2>"$T/sim.err" || fail "trackfuse-sim: $(tail -3 "$T/sim.err")"
sleep 2

# has CC NATION: does CC's stream hold a track with NATION among its nations?
has() {
	grep '"type":"picture_track"' "$T/$1.json" |
	    grep -q "\"nations\":\[[^]]*\"$2\""
}
has USA KOR && fail "CC-USA received KOR-derived data while KOR fails closed"
has JPN KOR && fail "CC-JPN received KOR-derived data while KOR fails closed"
has KOR KOR || fail "CC-KOR did not receive its own nation's data"
has JPN USA || fail "CC-JPN did not receive USA data"
has KOR USA || fail "CC-KOR did not receive USA data"
has USA JPN || fail "CC-USA did not receive JPN data"
say "ok: broken KOR policy stops KOR releases only"

# Fix KOR's file: its data flows again; held pictures are retracted.
cp "$SRC/configs/policy/KOR.yaml" "$T/policy/KOR.yaml"
from=$(log_size)
kill -USR1 "$DPID"
log_wait "policies in force" 5 "$from" || fail "no reload on SIGUSR1"
sleep 1.5
stop_daemon

A=$T/audit.log
[ -s "$A" ] || fail "no audit trail at $A"
"$AUDIT" verify "$A" >"$T/verify.out" 2>&1 ||
    fail "the daemon's audit chain does not verify: $(cat "$T/verify.out")"
for t in audit_open policy_load policy_reject release_counts retraction \
    audit_close; do
	grep -q "\"type\":\"$t\"" "$A" || fail "no $t record in the audit trail"
done
grep '"type":"policy_reject"' "$A" | grep -q '"owner":"KOR"' ||
    fail "KOR's reject is not audited"
grep '"type":"policy_load"' "$A" | grep '"owner":"KOR"' | grep -q '"version":3' ||
    fail "KOR's fixed policy load is not audited"
grep '"type":"release_counts"' "$A" | grep -q '"rule":"KOR/default-deny"' ||
    fail "withheld KOR data not counted under KOR/default-deny"
n=$(wc -l <"$A")
say "ok: audit chain of $n records verifies: $(head -1 "$T/verify.out")"

# One altered byte in record k: verify fails and names record k.
k=$(( (n + 1) / 2 ))
awk -v k="$k" 'NR == k { sub(/"type"/, "\"typf\"") } { print }' "$A" >"$T/bad.log"
cmp -s "$A" "$T/bad.log" && fail "could not alter record $k"
if "$AUDIT" verify "$T/bad.log" >"$T/bad.out" 2>&1; then
	fail "an altered audit trail verifies"
fi
grep -Eq "record $k\b|record=$k\b|line $k\b|line=$k\b" "$T/bad.out" ||
    fail "verify does not name record $k: $(cat "$T/bad.out")"
say "ok: altered record $k detected: $(head -1 "$T/bad.out")"
say "PASS"
