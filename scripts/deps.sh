#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages trackfuse needs to build and test,
# only those that are missing. Runs as root (no sudo on a fresh Debian) or
# through sudo when it exists; never asks a question.
set -euo pipefail

PKGS="build-essential cmake pkg-config libevent-dev libprotobuf-c-dev
protobuf-c-compiler libcyaml-dev libyaml-dev libssl-dev openssl libcmocka-dev
ca-certificates"

missing=()
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all build packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO="sudo -n"
	else
		echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" </dev/null
