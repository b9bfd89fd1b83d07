# shellcheck shell=bash
# Shared helpers for the integration tests; sourced, not run.
#
# Environment (set by tests/integration.cmake, or by hand):
#   TRACKFUSED SIM SUB POKE   paths of the binaries
#   SRC                       the source tree
#   WORK                      a scratch directory under the build tree
# Every test gets its own directory, its own free loopback ports, its own
# certificates and config, and kills what it started on exit.

set -u
: "${TRACKFUSED:?} ${SIM:?} ${SUB:?} ${POKE:?} ${SRC:?}"
WORK=${WORK:-${TMPDIR:-/tmp}/trackfuse-it}
TNAME=${TNAME:-$(basename "$0" .sh)}
T=$WORK/$TNAME.$$
PIDS=()
DPID=
DLOG=$T/daemon.log
# Listen ports come from 10000..31999, below Linux's ephemeral range
# (32768..60999): a client socket of a test running alongside can then never
# hold the port a daemon is about to bind.
NEXT_PORT=$((10000 + ($$ * 7) % 22000))
rm -rf "$WORK/$TNAME".*
mkdir -p "$T"

# say MSG: a progress line.
say() {
	echo "[$TNAME] $*"
}

# fail MSG: print why, the daemon log's tail, and exit 1 (the trap cleans up).
fail() {
	echo "[$TNAME] FAIL: $*" >&2
	if [ -f "$DLOG" ]; then
		echo "---- daemon log (last 40 lines): $DLOG" >&2
		tail -n 40 "$DLOG" >&2
	fi
	exit 1
}

# cleanup: TERM everything we started, KILL what is left after 3 s.
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for _ in $(seq 30); do
		local alive=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_free P: 0 when nothing listens on 127.0.0.1:P.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port VAR: set VAR to a free loopback port (never the same one twice;
# not in a subshell, so that the counter advances).
free_port() {
	local p
	while :; do
		p=$NEXT_PORT
		NEXT_PORT=$((NEXT_PORT + 1))
		[ $NEXT_PORT -gt 31999 ] && NEXT_PORT=10000
		if port_free "$p"; then
			printf -v "$1" '%s' "$p"
			return
		fi
	done
}

# certs: a CA and certificates for every demo identity in $T/certs.
certs() {
	bash "$SRC/scripts/gen-certs.sh" "$T/certs" >/dev/null ||
	    fail "gen-certs.sh failed"
}

# write_config FILE FEEDPORT SUBPORT [EXTRA-LIMITS-YAML]: a test config with
# the 9 demo feeds and 3 command centers, TLS on both listeners.
write_config() {
	local f=$1 fp=$2 sp=$3 limits=${4:-}
	{
		cat <<EOF
name: trackfuse-test
nation: USA
listen:
  feeds: { address: 127.0.0.1, port: $fp, tls: on }
  subscribers: { address: 127.0.0.1, port: $sp, tls: on }
tls:
  ca: certs/ca.pem
  cert: certs/trackfused.pem
  key: certs/trackfused.key
log:
  stats_interval_s: 2
limits:
  max_frame: 65536
$limits
identities:
EOF
		local id
		for id in USA-AEGIS-1 USA-SBIRS-1 USA-E2D-1 KOR-AEGIS-1 \
		    KOR-E7-1 KOR-P8-1 JPN-AEGIS-1 JPN-E767-1 JPN-P1-1; do
			printf '  - id: %s\n    role: feed\n    nation: %s\n' \
			    "$id" "${id:0:3}"
			printf '    sensors: [%s]\n' "$id"
		done
		for id in USA KOR JPN; do
			printf '  - id: CC-%s\n    role: subscriber\n' "$id"
			printf '    nation: %s\n' "$id"
			# Per-recipient track-id key (the release filter
			# gives a subscriber without one nothing).
			printf '    secret: %s\n' "$(printf 'test-secret-of-CC-%s-0123456789' \
			    "$id" | od -An -tx1 | tr -d ' \n')"
		done
		# The shipped owner policies (audit.log lands next to FILE).
		cat <<EOF
policy_dir: ${POLICY_DIR:-$SRC/configs/policy}
classifications:
  - { nation: KOR, level: "II", common: secret }
  - { nation: KOR, level: "III", common: confidential }
  - { nation: JPN, level: tokutei-himitsu, common: secret }
  - { nation: JPN, level: hi, common: confidential }
EOF
	} >"$f"
}

# start_daemon CONFIG: run trackfused in the foreground, wait for its start line.
start_daemon() {
	"$TRACKFUSED" -d -f "$1" >>"$DLOG" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	for _ in $(seq 100); do
		grep -q "trackfused: started" "$DLOG" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || fail "trackfused exited at start-up"
		sleep 0.1
	done
	fail "trackfused did not log its start line within 10 s"
}

# stop_daemon: SIGTERM; the daemon must exit 0 within 5 s.
stop_daemon() {
	kill -0 "$DPID" 2>/dev/null || fail "trackfused is not running at the end"
	kill -TERM "$DPID"
	local rc
	for _ in $(seq 50); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DPID" 2>/dev/null && fail "trackfused still running 5 s after SIGTERM"
	wait "$DPID"
	rc=$?
	[ $rc -eq 0 ] || fail "trackfused exited $rc on SIGTERM"
	grep -q "trackfused: stopped" "$DLOG" || fail "no 'trackfused: stopped' line"
	say "daemon stopped cleanly on SIGTERM"
}

# wait_snapshot JSON WHO [ERRFILE]: wait up to 5 s for a --json subscriber's
# snapshot_end in JSON; fail naming WHO (and ERRFILE's text) if none came.
wait_snapshot() {
	for _ in $(seq 50); do
		grep -q '"type":"snapshot_end"' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$2 got no snapshot${3:+: $(cat "$3")}"
}

# log_wait REGEX [SECONDS] [FROM-BYTE]: wait for a daemon log line.
log_wait() {
	local re=$1 secs=${2:-5} from=${3:-0}
	for _ in $(seq $((secs * 10))); do
		tail -c +$((from + 1)) "$DLOG" | grep -Eq -- "$re" && return 0
		sleep 0.1
	done
	return 1
}

# log_size: bytes in the daemon log now (to look only at newer lines).
log_size() {
	stat -c %s "$DLOG"
}

# lines FILE: number of lines in FILE (0 if absent).
lines() {
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# record_frames FILE: number of varint-delimited frames in a --record file
# (-1 if the file does not end on a frame boundary).
record_frames() {
	od -An -v -tu1 "$1" | awk '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			p = 0; frames = 0
			while (p < n) {
				len = 0; mul = 1
				do {
					if (p >= n) { print -1; exit }
					c = b[p++]
					len += (c % 128) * mul; mul *= 128
				} while (c >= 128)
				p += len; frames++
			}
			print (p == n) ? frames : -1
		}'
}
