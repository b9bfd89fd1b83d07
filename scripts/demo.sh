#!/usr/bin/env bash
# demo.sh: build trackfuse and run the demo on the shipped default config:
# the daemon, three simulator processes (one per nation: USA, KOR, JPN
# sensors) and three command centers (CC-USA, CC-KOR, CC-JPN), for about
# 30 seconds, showing what each center sees; then stops everything.
# Run files and logs go to demo-run/. Environment knobs:
#   DEMO_SECONDS=N   how long to run (default 30)
#   JOBS=N           parallel build jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_TO_RUN=${DEMO_SECONDS:-30}
JOBS=${JOBS:-2}
RUN=$ROOT/demo-run
CONFIG=configs/trackfused.yaml
SCENARIO=configs/scenarios/default.yaml
CERTS=configs/certs
BIN=$ROOT/build
PIDS=()

# stop_all: SIGTERM what we started, newest first (simulators and centers
# before the daemon), wait up to 3 s for each, then SIGKILL stragglers.
stop_all() {
	local i p
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		p=${PIDS[$i]}
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# held LOG: what a center holds now, from its log since its last snapshot.
held() {
	awk '
		/^SNAPSHOT begin/ { delete cat; next }
		$2 == "NEW" || $2 == "UPD" { cat[$3] = $4; next }
		$2 == "DROP" { delete cat[$3] }
		END {
			n = 0
			for (t in cat) { n++; by[cat[t]]++ }
			printf "%d tracks held", n
			sep = ": "
			k = split("air surface subsurface space ballistic-missile land", order)
			for (i = 1; i <= k; i++) {
				if (!(order[i] in by))
					continue
				printf "%s%s=%d", sep, order[i], by[order[i]]
				sep = " "
			}
			printf "\n"
		}' "$1"
}

echo "== trackfuse demo; daemon log: demo-run/trackfused.log"
echo "   (follow it from another terminal: tail -f demo-run/trackfused.log)"
echo "== installing missing packages (if any)"
bash scripts/deps.sh

echo "== building into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    -DTF_WERROR=OFF >/dev/null
cmake --build build -j"$JOBS" --target trackfused trackfuse-sim trackfuse-sub

echo "== certificates in $CERTS/"
bash scripts/gen-certs.sh "$CERTS"

mkdir -p "$RUN"
rm -f "$RUN"/*.log
for port in 7401 7402; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "demo: port $port is in use (another trackfused?); stop it first" >&2
		exit 1
	fi
done

DLOG=$RUN/trackfused.log
echo "== starting trackfused; its log: $DLOG"
"$BIN/daemon/trackfused" -d -f "$CONFIG" 2>"$DLOG" >/dev/null &
PIDS+=("$!")
DPID=$!
for _ in $(seq 100); do
	grep -q "trackfused: started" "$DLOG" && break
	if ! kill -0 "$DPID" 2>/dev/null; then
		echo "demo: trackfused failed to start:" >&2
		cat "$DLOG" >&2
		exit 1
	fi
	sleep 0.1
done
grep -q "trackfused: started" "$DLOG" || { echo "demo: trackfused did not start" >&2; exit 1; }
grep "trackfused: started" "$DLOG"

CENTERS="USA KOR JPN"
for n in $CENTERS; do
	"$BIN/tools/trackfuse-sub" --id "CC-$n" --nation "$n" --certs "$CERTS" \
	    >"$RUN/CC-$n.log" 2>"$RUN/CC-$n.err" &
	PIDS+=("$!")
done
echo "== command centers CC-USA CC-KOR CC-JPN subscribed (demo-run/CC-*.log)"

declare -A SENSORS=(
	[USA]="USA-AEGIS-1 USA-SBIRS-1 USA-E2D-1"
	[KOR]="KOR-AEGIS-1 KOR-E7-1 KOR-P8-1"
	[JPN]="JPN-AEGIS-1 JPN-E767-1 JPN-P1-1"
)
for n in $CENTERS; do
	args=()
	for s in ${SENSORS[$n]}; do
		args+=(--sensor "$s")
	done
	"$BIN/sim/trackfuse-sim" --scenario "$SCENARIO" --certs "$CERTS" \
	    "${args[@]}" >"$RUN/sim-$n.log" 2>&1 &
	PIDS+=("$!")
	echo "   simulator $n: ${SENSORS[$n]} (demo-run/sim-$n.log)"
done

# The clock starts once the nine feeds are in (simulators take a moment).
for _ in $(seq 300); do
	[ "$(grep -c 'feed: connected' "$DLOG" || true)" -ge 9 ] && break
	sleep 0.1
done
echo "== $(grep -c 'feed: connected' "$DLOG" || true) feeds connected; running for $SECONDS_TO_RUN s"
elapsed=0
while [ "$elapsed" -lt "$SECONDS_TO_RUN" ]; do
	step=6
	[ $((elapsed + step)) -gt "$SECONDS_TO_RUN" ] && step=$((SECONDS_TO_RUN - elapsed))
	sleep "$step"
	elapsed=$((elapsed + step))
	kill -0 "$DPID" 2>/dev/null || { echo "demo: trackfused died; see $DLOG" >&2; exit 1; }
	echo
	echo "-------- t+${elapsed}s --------"
	for n in $CENTERS; do
		echo "== CC-$n: $(held "$RUN/CC-$n.log")"
		{ grep -E '^[0-9].* (NEW|UPD|DROP) ' "$RUN/CC-$n.log" || true; } |
		    tail -n 3 | sed 's/^/   /'
	done
	{ grep "stats: " "$DLOG" || true; } | tail -n 1 | sed 's/^/   daemon /'
done

echo
echo "== stopping"
stop_all
echo
for n in $CENTERS; do
	echo "CC-$n $(grep '^summary:' "$RUN/CC-$n.log" | tail -n 1 || true)"
done
grep -E "trackfused: (stopping|stopped)" "$DLOG" || true
echo
echo "logs: $DLOG (daemon), $RUN/CC-*.log (centers), $RUN/sim-*.log (simulators)"
