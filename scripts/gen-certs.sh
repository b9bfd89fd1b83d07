#!/usr/bin/env bash
# gen-certs.sh DIR [--force] [ID...]
#
# Makes a throwaway certificate authority and the certificates trackfuse
# needs, with the openssl CLI only:
#   DIR/ca.pem                          the CA (ECDSA P-256, 30 days)
#   DIR/trackfused.pem, .key            the daemon (serverAuth, SAN IP:127.0.0.1, DNS:localhost)
#   DIR/<ID>.pem, DIR/<ID>.key          one client certificate per identity (clientAuth, CN=<ID>)
#   DIR/rogue/ca.pem, USA-AEGIS-1.*     a second, untrusted CA and a client
#                                       certificate claiming CN=USA-AEGIS-1 (tests)
# Keys are mode 0600. Default identities: the 9 demo sensors and 3 command
# centers. Idempotent: does nothing when DIR/ca.pem and every requested
# certificate exist, unless --force is given.
set -euo pipefail

DEFAULT_IDS="USA-AEGIS-1 USA-SBIRS-1 USA-E2D-1 KOR-AEGIS-1 KOR-E7-1 KOR-P8-1
JPN-AEGIS-1 JPN-E767-1 JPN-P1-1 CC-USA CC-KOR CC-JPN"
DAYS=30

usage() {
	echo "usage: gen-certs.sh DIR [--force] [ID...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
DIR=$1
shift
FORCE=0
IDS=()
for a in "$@"; do
	case $a in
	--force) FORCE=1 ;;
	-*) usage ;;
	*) IDS+=("$a") ;;
	esac
done
if [ ${#IDS[@]} -eq 0 ]; then
	read -r -a IDS <<<"$(echo $DEFAULT_IDS)"
fi
for id in "${IDS[@]}"; do
	if ! [[ $id =~ ^[A-Za-z0-9_.-]{1,31}$ ]]; then
		echo "gen-certs: bad identity id '$id'" >&2
		exit 2
	fi
done

# complete: 0 when every requested file is already there.
complete() {
	local f
	for f in ca.pem ca.key trackfused.pem trackfused.key rogue/ca.pem \
	    rogue/USA-AEGIS-1.pem rogue/USA-AEGIS-1.key; do
		[ -s "$DIR/$f" ] || return 1
	done
	for f in "${IDS[@]}"; do
		[ -s "$DIR/$f.pem" ] && [ -s "$DIR/$f.key" ] || return 1
	done
	return 0
}

# newkey FILE: an ECDSA P-256 private key, readable by its owner only.
newkey() {
	(umask 077 && openssl genpkey -algorithm EC \
	    -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
	chmod 600 "$1"
}

# mkca DIR NAME: a self-signed CA in DIR/ca.pem, DIR/ca.key.
mkca() {
	newkey "$1/ca.key"
	openssl req -new -x509 -key "$1/ca.key" -out "$1/ca.pem" -days $DAYS \
	    -subj "/O=trackfuse/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# mkcert CADIR OUTDIR CN EKU [SAN]: a leaf certificate signed by CADIR's CA.
mkcert() {
	local cadir=$1 out=$2 cn=$3 eku=$4 san=${5:-} ext
	newkey "$out/$cn.key"
	openssl req -new -key "$out/$cn.key" -out "$out/$cn.csr" \
	    -subj "/O=trackfuse/CN=$cn" 2>/dev/null
	ext=$(mktemp)
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$eku"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$ext"
	openssl x509 -req -in "$out/$cn.csr" -CA "$cadir/ca.pem" \
	    -CAkey "$cadir/ca.key" -CAcreateserial -days $DAYS -sha256 \
	    -extfile "$ext" -out "$out/$cn.pem" 2>/dev/null
	rm -f "$ext" "$out/$cn.csr"
}

command -v openssl >/dev/null || { echo "gen-certs: openssl not found" >&2; exit 1; }
mkdir -p "$DIR"
if [ $FORCE -eq 0 ] && complete; then
	echo "gen-certs: certificates already in $DIR (use --force to remake)"
	exit 0
fi
if [ $FORCE -eq 1 ] || [ ! -s "$DIR/ca.pem" ] || [ ! -s "$DIR/ca.key" ]; then
	# A new CA invalidates every certificate signed by the old one.
	rm -f "$DIR"/*.pem "$DIR"/*.key "$DIR"/*.srl
	rm -rf "$DIR/rogue"
	mkca "$DIR" "trackfuse demo CA"
fi
[ -s "$DIR/trackfused.pem" ] || mkcert "$DIR" "$DIR" trackfused serverAuth \
    "IP:127.0.0.1,DNS:localhost"
for id in "${IDS[@]}"; do
	[ -s "$DIR/$id.pem" ] && [ -s "$DIR/$id.key" ] && continue
	mkcert "$DIR" "$DIR" "$id" clientAuth
done
if [ ! -s "$DIR/rogue/USA-AEGIS-1.pem" ]; then
	mkdir -p "$DIR/rogue"
	mkca "$DIR/rogue" "rogue CA"
	mkcert "$DIR/rogue" "$DIR/rogue" USA-AEGIS-1 clientAuth
fi
rm -f "$DIR"/*.srl "$DIR"/rogue/*.srl
echo "gen-certs: wrote CA, trackfused and ${#IDS[@]} identities to $DIR"
