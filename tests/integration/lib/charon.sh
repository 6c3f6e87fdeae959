# lib/charon.sh - strongSwan's charon as a real IKEv2 peer for the interop tests
# (sourced, after lib/netns.sh: the caller already runs in a private network
# namespace with lo up; everything here talks over 127.0.0.1).
#
# Each charon runs from /usr/lib/ipsec/charon in the foreground, in a mount
# namespace of its own with a tmpfs on /run (its pid file there is fixed), with a
# private strongswan.conf (STRONGSWAN_CONF) in $charon_tmp/NAME/, its own IKE
# ports and a vici socket in that directory; swanctl drives it with --uri.
# Nothing in /etc is read or written.
#
#   charon_available           0 when charon and swanctl are installed
#   charon_start NAME PORT [CONF]  starts charon NAME with charon.port = PORT and
#                              port_nat_t = PORT + 1 (CONF: more lines for its
#                              charon section); waits for its vici socket.
#                              Its swanctl dir is $charon_tmp/NAME (x509/,
#                              x509ca/, private/); write swanctl.conf there first,
#                              then charon_load NAME. Log: $charon_tmp/NAME/charon.log
#                              (IKE at level 4: the derived SK_* keys are in it).
#   charon_swanctl NAME ARGS   swanctl against charon NAME
#   charon_load NAME           swanctl --load-all of $charon_tmp/NAME/swanctl.conf
#   charon_established NAME CONN  0 when --list-sas shows CONN ESTABLISHED
#   charon_stop NAME           SIGTERM, waits for it
#   charon_stop_all            stops every charon started (call from the trap)
#   charon_certs DIR [rsa|ec] [NAME...]
#                              a CA (EC P-256; DIR/ca.crt, kept when DIR has
#                              one already) and leaf certificates for
#                              NAME.example (default: a and b; dNSName SAN,
#                              CN), PEM: DIR/ca.crt, DIR/NAME.crt,
#                              DIR/NAME.key; leaf keys EC P-256, or RSA-2048
#                              with "rsa"
#   charon_keys NAME CONN|SPIi the SK keys charon NAME derived last, with the SPIs
#                              of its IKE SA named CONN (or with initiator SPI
#                              SPIi, hex): "SPIi SPIr SK_ei SK_er SK_ai
#                              SK_ar" (hex; SK_ei/er with the GCM salt; SK_a* "-"
#                              for an AEAD)
#   ws_ike2_uat SPIi SPIr SK_ei SK_er ENCR KEYBITS SK_ai SK_ar INTEG
#                              one entry of Wireshark's ikev2_decryption_table
#                              UAT for tshark -o (IKEv2 transform IDs, ENCR 12 =
#                              AES-CBC, 20 = AES-GCM-16; INTEG 12/13/14 =
#                              HMAC-SHA2-256/384/512, 0 = none)
#
# Needs $charon_tmp (a temp dir of the caller's).

[ -n "${charon_loaded:-}" ] && return 0
charon_loaded=1
charon_bin=${CHARON_BIN:-/usr/lib/ipsec/charon}
declare -A charon_pid=()

charon_available() {
	[ -x "$charon_bin" ] && command -v swanctl >/dev/null
}

# The plugins loaded: openssl for ECP groups, RSA/ECDSA and most ciphers, gcm and
# kdf (prf+ lives there since 5.9.6), curve25519 for group 31, gmp for MODP,
# kernel-netlink for addresses (no CHILD SA is installed), vici for swanctl.
charon_plugins="random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints
	curve25519 gmp aes sha1 sha2 hmac gcm kdf kernel-netlink socket-default vici"

charon_start() {
	local name=$1 port=$2 d=$charon_tmp/$1
	mkdir -p "$d"/x509 "$d"/x509ca "$d"/private "$d"/x509ocsp "$d"/x509aa "$d"/x509ac \
		"$d"/x509crl "$d"/pubkey "$d"/rsa "$d"/ecdsa "$d"/bliss "$d"/pkcs8 "$d"/pkcs12
	cat >"$d/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = $(echo $charon_plugins)
	port = $port
	port_nat_t = $((port + 1))
	install_routes = no
	install_virtual_ip = no
	retransmit_tries = 2
	retransmit_timeout = 1.0
	${3:-}
	filelog {
		log {
			path = $d/charon.log
			default = 1
			ike = 4
			cfg = 2
			enc = 1
			net = 2
			flush_line = yes
			time_format = %T
			time_add_ms = yes
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
	plugins {
		vici {
			socket = unix://$d/vici
		}
		revocation {
			enable_ocsp = no
			enable_crl = no
		}
	}
}
swanctl {
	load = pem pkcs1 pkcs8 x509 pubkey openssl random
}
EOF
	rm -f "$d/vici"
	# unshare execs charon itself: the pid is charon's.
	STRONGSWAN_CONF=$d/strongswan.conf unshare -m --propagation private \
		sh -c 'mount -t tmpfs tmpfs /run && exec "$0"' "$charon_bin" \
		>"$d/stdout" 2>"$d/stderr" &
	charon_pid[$name]=$!
	local _
	for _ in $(seq 100); do
		[ -S "$d/vici" ] && return 0
		kill -0 "${charon_pid[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "# charon $name did not start:" >&2
	sed 's/^/#   /' "$d/stderr" >&2
	return 1
}

charon_swanctl() {
	local name=$1 d=$charon_tmp/$1
	shift
	SWANCTL_DIR=$d STRONGSWAN_CONF=$d/strongswan.conf timeout 20 swanctl "$@" --uri "unix://$d/vici"
}

charon_load() {
	charon_swanctl "$1" --load-all --noprompt --file "$charon_tmp/$1/swanctl.conf"
}

charon_established() {
	charon_swanctl "$1" --list-sas --ike "$2" 2>/dev/null | grep -q "^$2: #[0-9]*, ESTABLISHED, IKEv2"
}

charon_stop() {
	local p=${charon_pid[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "charon_pid[$1]"
}

charon_stop_all() {
	local n
	for n in "${!charon_pid[@]}"; do charon_stop "$n"; done
}

charon_certs() {
	local dir=$1 n newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) names
	[ "${2:-}" = rsa ] && newkey=(-newkey rsa:2048)
	shift
	[ $# -gt 0 ] && shift
	names=("$@")
	[ ${#names[@]} -gt 0 ] || names=(a b)
	mkdir -p "$dir"
	[ -s "$dir/ca.crt" ] ||
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/O=gdoi-srtp test/CN=interop CA" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null || return 1
	for n in "${names[@]}"; do
		openssl req "${newkey[@]}" -nodes \
			-subj "/O=gdoi-srtp test/CN=$n.example" -keyout "$dir/$n.key" \
			-out "$dir/$n.csr" 2>/dev/null || return 1
		openssl x509 -req -in "$dir/$n.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 2 -out "$dir/$n.crt" \
			-extfile <(printf 'subjectAltName=DNS:%s.example\nkeyUsage=critical,digitalSignature\n' "$n") \
			2>/dev/null || return 1
		chmod 600 "$dir/$n.key"
	done
}

# The keys come from charon's IKE level 4 dumps ("Sk_ei secret => 36 bytes @ ...",
# then hex lines), the SPIs from --list-sas: call it right after the SA came up.
charon_keys() {
	local spis
	spis=$(charon_swanctl "$1" --list-sas 2>/dev/null |
		sed -n 's/^\([^:]*\): #[0-9]*, [A-Z_]*, IKEv2, \([0-9a-f]\{16\}\)_i\*\{0,1\} \([0-9a-f]\{16\}\)_r.*/\1 \2 \3/p' |
		awk -v w="$2" '$1 == w || $2 == w { print $2, $3 }' | tail -1)
	[ -n "$spis" ] || return 1
	awk -v spis="$spis" '
	function flush() { if (cur != "") { val[cur] = hex; cur = "" } }
	cur != "" && /\[IKE\] +[0-9]+: / {
		sub(/.*\[IKE\] +[0-9]+: /, ""); line = substr($0, 1, 48); gsub(/ /, "", line)
		hex = hex tolower(line); next
	}
	{ flush() }
	/\[IKE\] SKEYSEED => / { delete val; next }
	/\[IKE\] Sk_(d|ai|ar|ei|er|pi|pr) secret => / {
		k = $0; sub(/.*\[IKE\] /, "", k); sub(/ secret.*/, "", k); cur = k; hex = ""; next
	}
	END {
		flush()
		if (val["Sk_ei"] == "" || val["Sk_er"] == "") exit 1
		printf "%s %s %s %s %s\n", spis, val["Sk_ei"], val["Sk_er"],
			(val["Sk_ai"] != "") ? val["Sk_ai"] : "-", (val["Sk_ar"] != "") ? val["Sk_ar"] : "-"
	}' "$charon_tmp/$1/charon.log"
}

ws_ike2_uat() {
	local spi_i=$1 spi_r=$2 ei=$3 er=$4 encr=$5 bits=$6 ai=$7 ar=$8 integ=$9 e i
	case $encr in
	12) e="AES-CBC-$bits [RFC3602]" ;;
	20) e="AES-GCM-$bits with 16 octet ICV [RFC5282]" ;;
	*) return 1 ;;
	esac
	case $integ in
	0) i="NONE [RFC4306]"; ai=""; ar="" ;;
	12) i="HMAC_SHA2_256_128 [RFC4868]" ;;
	13) i="HMAC_SHA2_384_192 [RFC4868]" ;;
	14) i="HMAC_SHA2_512_256 [RFC4868]" ;;
	*) return 1 ;;
	esac
	[ "$ai" = - ] && ai=""
	[ "$ar" = - ] && ar=""
	printf '%s,%s,%s,%s,"%s",%s,%s,"%s"' "$spi_i" "$spi_r" "$ei" "$er" "$e" "$ai" "$ar" "$i"
}

# charon_setup: the caller's temp dir in $tmp (= $charon_tmp), kept when KEEP_TMP
# is set; an EXIT trap stops every charon and the capture and removes it.
charon_setup() {
	tmp=$(mktemp -d)
	charon_tmp=$tmp
	[ -n "${KEEP_TMP:-}" ] && echo "# temp dir kept: $tmp"
	trap charon_cleanup EXIT
}
charon_cap_pid=
charon_cleanup() {
	charon_stop_all
	charon_capture_stop
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$charon_tmp"
}

# charon_capture FILE FILTER...: tcpdump on lo into FILE (pcap) in the
# background; 0 once it listens, 1 when tcpdump or tshark is missing or lo
# cannot be captured here.
charon_capture() {
	local f=$1 _
	shift
	command -v tcpdump >/dev/null && command -v tshark >/dev/null || return 1
	tcpdump -i lo -U --immediate-mode -Z root -w "$f" "$@" >/dev/null 2>"$f.err" &
	charon_cap_pid=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$f.err" && return 0
		kill -0 "$charon_cap_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
# charon_capture_stop: lets the last packets in, then ends the capture.
charon_capture_stop() {
	[ -n "$charon_cap_pid" ] || return 0
	sleep 0.3
	kill "$charon_cap_pid" 2>/dev/null
	wait "$charon_cap_pid" 2>/dev/null
	charon_cap_pid=
}

# charon_log_tail NAME N: the last N lines of charon NAME's log as TAP comments,
# without key dumps and vici chatter.
charon_log_tail() {
	[ -f "$charon_tmp/$1/charon.log" ] || return 0
	echo "# charon $1, last log lines:"
	grep -v '\[IKE\] \+[0-9]\+: \|vici client' "$charon_tmp/$1/charon.log" | tail -"$2" | sed 's/^/#   /'
}
