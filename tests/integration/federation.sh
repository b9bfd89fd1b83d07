#!/usr/bin/env bash
# Federation and the third-party rule (issue 4): two daemons on loopback
# over mutual TLS. The KOR daemon (nation KOR) takes KOR-AEGIS-1 and
# KOR-E7-1 and has an uplink KOR-LINK to the USA daemon's feeds port
# (recipient USA); the USA daemon knows KOR-LINK as a federation feed
# (peer_daemon_nation KOR). CC-USA and CC-JPN subscribe to the USA daemon,
# CC-JPN and CC-KOR to the KOR daemon. KOR's policy: everything to USA,
# everything to JPN but only via USA.
#   Case 1: KOR sensors labelled releasable to [USA] only: CC-USA at the
#           USA daemon gets KOR-derived tracks (KOR label kept); CC-JPN
#           gets none at either daemon.
#   Case 2: labels [USA, KOR, JPN]: CC-JPN gets KOR-derived tracks at the
#           USA daemon and none directly at the KOR daemon.
# Plus: a federation link's unlabeled report and a local sensor id are
# refused (Error frame, connection closed, log line naming the peer).
. "$(dirname "$0")/lib.sh"

SIMDUR=${FED_DURATION:-90}
SECRET_USA=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SECRET_KOR=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
SECRET_JPN=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
bash "$SRC/scripts/gen-certs.sh" "$T/certs" USA-AEGIS-1 KOR-AEGIS-1 KOR-E7-1 \
    CC-USA CC-KOR CC-JPN KOR-LINK >/dev/null || fail "gen-certs.sh failed"

# KOR's policy: all to USA; all to JPN, but only through a USA daemon.
mkdir -p "$T/policy"
cat >"$T/policy/KOR.yaml" <<'EOF'
owner: KOR
version: 1
valid: { from: 2026-01-01T00:00:00Z, until: 2030-12-31T23:59:59Z }
rules:
  - to: USA
    categories: [air, surface, subsurface, space, ballistic-missile, land]
    max_classification: secret
  - to: JPN
    via: USA
    categories: [air, surface, subsurface, space, ballistic-missile, land]
    max_classification: secret
EOF

# sub_yaml ID NATION SECRET: one subscriber identity.
sub_yaml() {
	printf '  - id: %s\n    role: subscriber\n    nation: %s\n' "$1" "$2"
	printf '    secret: "%s"\n' "$3"
}

# head_yaml NAME NATION FEEDPORT SUBPORT: the common top of a config.
head_yaml() {
	cat <<EOF
name: $1
nation: $2
listen:
  feeds: { address: 127.0.0.1, port: $3, tls: on }
  subscribers: { address: 127.0.0.1, port: $4, tls: on }
tls: { ca: certs/ca.pem, cert: certs/trackfused.pem, key: certs/trackfused.key }
log: { stats_interval_s: 2 }
policy_dir: policy
audit: { file: $1-audit.log }
EOF
}

# write_configs: kor.yaml (with the uplink) and usa.yaml (with the link).
write_configs() {
	{
		head_yaml kor KOR "$KFP" "$KSP"
		echo "identities:"
		for id in KOR-AEGIS-1 KOR-E7-1; do
			printf '  - id: %s\n    role: feed\n    nation: KOR\n' "$id"
			printf '    sensors: [%s]\n' "$id"
		done
		sub_yaml CC-KOR KOR $SECRET_KOR
		sub_yaml CC-JPN JPN $SECRET_JPN
		cat <<EOF
uplinks:
  - id: KOR-LINK
    connect: 127.0.0.1:$UFP
    recipient: USA
    cert: certs/KOR-LINK.pem
    key: certs/KOR-LINK.key
EOF
	} >"$T/kor.yaml"
	{
		head_yaml usa USA "$UFP" "$USP"
		cat <<EOF
identities:
  - id: USA-AEGIS-1
    role: feed
    nation: USA
    sensors: [USA-AEGIS-1]
  - id: KOR-LINK
    role: feed
    nation: KOR
    federation: true
    peer_daemon_nation: KOR
EOF
		sub_yaml CC-USA USA $SECRET_USA
		sub_yaml CC-JPN JPN $SECRET_JPN
	} >"$T/usa.yaml"
}

# scenario REL OUT: the default scenario with KOR sensors releasable to REL.
scenario() {
	awk -v rel="$1" '
		/^  - id: / { id = $3 }
		/^    releasable_to:/ && id ~ /^KOR-/ {
			print "    releasable_to: [" rel "]"; next
		}
		{ print }' "$SRC/configs/scenarios/default.yaml" >"$2"
	grep -q "releasable_to: \[$1\]" "$2" || fail "scenario relabel failed"
}

# start NAME: run the daemon of $T/NAME.yaml, wait for its start line.
start() {
	local log=$T/$1.log
	"$TRACKFUSED" -d -f "$T/$1.yaml" >>"$log" 2>&1 &
	PIDS+=("$!")
	eval "PID_$1=$!"
	for _ in $(seq 100); do
		grep -q "trackfused: started" "$log" 2>/dev/null && return 0
		kill -0 "$!" 2>/dev/null || { DLOG=$log; fail "$1 daemon exited at start-up"; }
		sleep 0.1
	done
	DLOG=$log
	fail "$1 daemon did not start within 10 s"
}

# subscribe TAG ID NATION PORT: a JSON subscriber in the background.
subscribe() {
	"$SUB" --id "$2" --nation "$3" --certs "$T/certs" \
	    --connect "127.0.0.1:$4" --json >"$T/$1.json" 2>"$T/$1.err" &
	PIDS+=("$!")
	for _ in $(seq 50); do
		grep -q '"type":"snapshot_end"' "$T/$1.json" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "subscriber $1 got no snapshot: $(cat "$T/$1.err")"
}

# kor_tracks TAG: picture_track lines naming KOR among the nations.
kor_tracks() {
	grep '"type":"picture_track"' "$T/$1.json" | grep -c '"nations":\[[^]]*"KOR"'
}

# stop_all: TERM daemons and subscribers of this case, wait for them.
stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

# run_case N REL: both daemons, four subscribers, the KOR sensors.
run_case() {
	local n=$1 rel=$2
	T0=$T/case$n
	free_port KFP; free_port KSP; free_port UFP; free_port USP
	write_configs
	scenario "$rel" "$T/scenario$n.yaml"
	rm -f "$T/kor.log" "$T/usa.log" "$T"/*-audit.log
	DLOG=$T/usa.log
	if [ "$n" = 1 ]; then
		# The KOR daemon first: its uplink must retry until USA is up.
		start kor
		DLOG=$T/kor.log
		log_wait "uplink: connect failed id=KOR-LINK peer=127\.0\.0\.1:$UFP .*retry_in=" 5 ||
		    fail "no uplink connect failure logged while the USA daemon is down"
		start usa
	else
		start usa
		start kor
	fi
	DLOG=$T/kor.log
	log_wait "uplink: accepted id=KOR-LINK daemon=usa nation=USA" 10 ||
	    fail "the KOR daemon's uplink was not accepted by the USA daemon"
	grep -q "feed: connected id=KOR-LINK nation=KOR" "$T/usa.log" ||
	    fail "the USA daemon logged no federation feed connection"
	if [ "$n" = 2 ]; then
		# A reload of both daemons: links and checks carry on.
		kill -HUP "$PID_usa" "$PID_kor"
		log_wait "config: reloaded" 5 ||
		    fail "the KOR daemon did not reload on SIGHUP"
		DLOG=$T/usa.log
		log_wait "config: reloaded" 5 ||
		    fail "the USA daemon did not reload on SIGHUP"
		DLOG=$T/kor.log
	fi
	subscribe usa-usa CC-USA USA "$USP"
	subscribe usa-jpn CC-JPN JPN "$USP"
	subscribe kor-jpn CC-JPN JPN "$KSP"
	subscribe kor-kor CC-KOR KOR "$KSP"
	timeout 60 "$SIM" --fast --scenario "$T/scenario$n.yaml" \
	    --sensor KOR-AEGIS-1 --sensor KOR-E7-1 --certs "$T/certs" \
	    --connect "127.0.0.1:$KFP" --duration "$SIMDUR" \
	    >"$T/sim$n.out" 2>"$T/sim$n.err" ||
	    fail "case $n: trackfuse-sim failed: $(tail -3 "$T/sim$n.err")"
	sleep 3		# let the last updates cross the link
	stop_all
	for f in usa-usa usa-jpn kor-jpn kor-kor; do
		cp "$T/$f.json" "$T/case$n-$f.json"
	done
	cp "$T/kor.log" "$T/case$n-kor.log"
	cp "$T/usa.log" "$T/case$n-usa.log"
	KK=$(kor_tracks kor-kor)
	UU=$(kor_tracks usa-usa)
	UJ=$(kor_tracks usa-jpn)
	KJ=$(kor_tracks kor-jpn)
	say "case $n (KOR releasable to [$rel]): KOR-derived updates" \
	    "kor:CC-KOR=$KK usa:CC-USA=$UU usa:CC-JPN=$UJ kor:CC-JPN=$KJ"
	[ "$KK" -gt 0 ] || fail "case $n: CC-KOR got no KOR tracks at the KOR daemon"
	[ "$UU" -gt 0 ] || fail "case $n: CC-USA got no KOR-derived track over the link"
	[ "$KJ" -eq 0 ] || fail "case $n: CC-JPN got $KJ KOR-derived updates directly at the KOR daemon"
	# Labels are kept end to end: every KOR-derived product CC-USA sees
	# carries KOR's label as the sensors set it.
	grep '"type":"picture_track"' "$T/usa-usa.json" |
	    grep -v "\"owner\":\"KOR\",\"classification\":\"secret\"" | grep -q . &&
	    fail "case $n: a track at the USA daemon lost KOR's label"
	# (The core lists a label's nations sorted.)
	want=$(echo "$rel" | tr -d ' ' | tr ',' '\n' | sort | sed 's/.*/"&"/' |
	    paste -sd, -)
	grep '"type":"picture_track"' "$T/usa-usa.json" |
	    grep -v "\"releasable_to\":\[$want\]" | grep -q . &&
	    fail "case $n: a track at the USA daemon is not releasable to exactly [$rel]"
	grep -Eq "feed: rejected .*id=KOR-LINK" "$T/usa.log" &&
	    fail "case $n: the USA daemon rejected the link's input: $(grep 'id=KOR-LINK' "$T/usa.log" | tail -1)"
	grep -q "uplink: stopped id=KOR-LINK sent=[1-9]" "$T/kor.log" ||
	    fail "case $n: the uplink sent nothing ($(grep 'uplink: stopped' "$T/kor.log"))"
	return 0
}

run_case 1 "USA"
[ "$UJ" -eq 0 ] || fail "case 1: CC-JPN got $UJ KOR-derived updates at the USA daemon though KOR labelled them [USA]"
say "ok: case 1: releasable to USA only never reaches JPN, at either daemon"

run_case 2 "USA, KOR, JPN"
[ "$UJ" -gt 0 ] || fail "case 2: CC-JPN got no KOR-derived track at the USA daemon (via USA)"
say "ok: case 2: via USA, KOR data reaches JPN only through the USA daemon"

# SIGHUP applies uplinks: changes. An unchanged link carries on; a link
# taken out of kor.yaml is closed (the USA daemon sees its feed go); put
# back, it connects again; with a setting changed, it is restarted.
# hup_kor RE...: SIGHUP the KOR daemon, wait for each RE in its log after.
# (HUP_FROM: where the log stood before the signal.)
hup_kor() {
	local re
	DLOG=$T/kor.log
	HUP_FROM=$(log_size)
	kill -HUP "$PID_kor"
	log_wait "config: reloaded" 5 "$HUP_FROM" ||
	    fail "uplink reload: the KOR daemon did not reload"
	for re in "$@"; do
		log_wait "$re" 10 "$HUP_FROM" ||
		    fail "uplink reload: no /$re/ in the KOR log"
	done
}
rm -f "$T/kor.log" "$T/usa.log"
start usa
start kor
DLOG=$T/kor.log
log_wait "uplink: accepted id=KOR-LINK" 10 || fail "uplink reload: no link"
hup_kor "config: reloaded"
sleep 1
tail -c +$((HUP_FROM + 1)) "$T/kor.log" |
    grep -Eq "uplink: (removed|changed|stopped|starting)" &&
    fail "uplink reload: an unchanged link was touched: $(grep 'uplink:' "$T/kor.log" | tail -2)"
cp "$T/kor.yaml" "$T/kor-link.yaml"
sed '/^uplinks:/,$d' "$T/kor-link.yaml" >"$T/kor.yaml"
hup_kor "uplink: removed id=KOR-LINK"
DLOG=$T/usa.log
log_wait "feed: disconnected id=KOR-LINK" 5 ||
    fail "uplink reload: the USA daemon still holds the removed link"
cp "$T/kor-link.yaml" "$T/kor.yaml"
hup_kor "uplink: accepted id=KOR-LINK"
sed 's/^    key: certs\/KOR-LINK.key$/&\n    max_tracks: 5000/' \
    "$T/kor-link.yaml" >"$T/kor.yaml"
grep -q "max_tracks: 5000" "$T/kor.yaml" || fail "uplink reload: edit failed"
hup_kor "uplink: changed id=KOR-LINK" "uplink: accepted id=KOR-LINK"
say "uplink reload: $(grep -E 'uplink: (removed|changed|accepted)' "$T/kor.log" | sed 's/.*uplink: /uplink: /' | paste -sd';' -)"
stop_all

# A federation link that sends an unlabeled report, or names one of the
# receiving daemon's own sensors, is refused with an Error and closed.
DLOG=$T/usa.log
rm -f "$T/usa.log"
start usa
out=$("$POKE" --certs "$T/certs" --id KOR-LINK --nation KOR \
    --connect "127.0.0.1:$UFP" --send foreign-sensor --sensor USA-AEGIS-1 \
    --wait 3000 2>&1)
echo "$out" | sed "s/^/[$TNAME] poke: /"
echo "$out" | grep -q "error code=ERROR_FORBIDDEN" ||
    fail "the link naming a local sensor was not refused with ERROR_FORBIDDEN"
echo "$out" | grep -q "^closed" || fail "the refused link was not closed"
lport=$(echo "$out" | sed -n 's/^local .*:\([0-9]*\)$/\1/p')
re="feed: rejected msg=track_report peer=127\.0\.0\.1:$lport id=KOR-LINK error=forbidden reason=sensor USA-AEGIS-1 from federation link KOR-LINK collides with local identity USA-AEGIS-1"
log_wait "$re" 3 || fail "no log line refusing the link's colliding sensor"
say "link refusal: $(grep -E "$re" "$T/usa.log" | head -1)"
# A link's reports are checked like any feed's: a good labelled one passes.
out=$("$POKE" --certs "$T/certs" --id KOR-LINK --nation KOR \
    --connect "127.0.0.1:$UFP" --send good-report --wait 1000 2>&1)
echo "$out" | grep -q "error code" &&
    fail "a good labelled report over the link was refused: $out"
stop_all
say "PASS"
