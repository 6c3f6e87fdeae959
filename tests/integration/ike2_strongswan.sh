#!/usr/bin/env bash
# Our IKEv2 core (gdoi/ike2*.c, driven by tests/tools/ike2-peer.c) against
# strongSwan's charon (lib/charon.sh; the harness itself is checked by
# strongswan_harness.sh), inside a private network namespace, 127.0.0.1:
#  (a) charon initiates, our responder (port 500) answers: IKE_SA_INIT +
#      IKE_AUTH with a PSK, childless (RFC 6023, as our GCKS answers), for
#      AES-GCM-16-256 / AES-CBC-256 + HMAC-SHA-256 / AES-CBC-128, PRF SHA-256 /
#      SHA-384, groups 19, 20, 31, 14, charon's default proposal, a KE for a
#      group we do not implement (MODP-3072: INVALID_KE_PAYLOAD asks for 19),
#      a request with a child SA (refused, the IKE SA must stay up), and port
#      848 behind charon's Non-ESP Marker (our core strips and mirrors it), and,
#      with one SA half open, a COOKIE (RFC 7296 §2.6) our responder (-c 1)
#      asks for: charon lists the IKE SA ESTABLISHED, derived the same SK_* as
#      ours, and its Delete is answered;
#  (b) our initiator against a charon responder, the same suites and our whole
#      default offer (5 proposals), and with our Non-ESP Marker; charon lists
#      our SPIs ESTABLISHED, same SK_*; our Delete removes the SA at charon;
#      A wrong PSK on our side fails in both roles (AUTHENTICATION_FAILED);
#      with our first IKE_AUTH message dropped (nftables), our responder
#      answers charon's retransmission again, our initiator resends on time;
#  (b') RFC 7383 both ways: a second charon fragments above 120 octets, ours
#      above 100: each side reassembles the other's SKF fragments, same keys;
#  (c) tshark reads the whole capture with no malformed mark, and with our
#      printed ikev2_decryption_table entries decrypts every IKE_AUTH (AUTH
#      method 2 in both messages of each SA) and the Delete.
#  (d) certificates (RFC 7427, EC P-256, AUTH method 14) both ways: charon's
#      initiator to our responder and ours to charon's responder, the SA
#      ESTABLISHED at charon with the same SK_*; then RSA-2048 leaves, charon
#      signing RSASSA-PSS, our responder PKCS#1 v1.5, our initiator PSS (-P).
# TAP output; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib/netns.sh"
. "$top/tests/integration/lib/tap.sh"
. "$top/tests/integration/lib/charon.sh"

build=${GDOI_BUILD:-build/asan}
case $build in /*) ;; *) build=$top/$build ;; esac
peer=$build/tests/ike2-peer
[ -x "$peer" ] || tap_bail "$peer not built (make test-bins)"
charon_available || tap_skip_all "strongSwan charon/swanctl not installed (tests/deps.sh)"

charon_setup
psk="interop psk 0123456789"
cport=18580		# charon c's IKE port (18581: its NAT-T port)
fport=18582		# charon f's (fragment_size = 120)
ch=c chport=$cport	# the charon a case talks to
lport=500		# our port in b cases
diag_case=
tap_diag() {
	[ -n "$diag_case" ] || return 0
	echo "# ike2-peer ($diag_case):"
	sed 's/^/#   /' "$tmp/$diag_case.err" 2>/dev/null | tail -8
	charon_log_tail "$ch" 12
}

have_cap=0
charon_capture "$tmp/ike2.pcap" udp port 500 or udp port 848 && have_cap=1

charon_start c "$cport" "rsa_pss = yes" || tap_bail "charon started"

# conn NAME PROPOSALS [CHILD] [PORT]: charon's connection to (or from) our peer
# on PORT (500); IKE only, or with a child SA request when CHILD is not empty.
# Its own ID (NAME.charon.example) keeps it apart: charon reuses an IKE SA of
# an equal connection instead of initiating a new one.
conn() {
	local child=
	[ -n "${3:-}" ] && child="
		children {
			$3 {
				local_ts = 127.0.0.1/32
				remote_ts = 127.0.0.1/32
				esp_proposals = aes128gcm16
				mode = transport
			}
		}"
	cat <<EOF
	$1 {
		version = 2
		local_addrs = 127.0.0.1
		remote_addrs = 127.0.0.1
		local_port = $chport
		remote_port = ${4:-500}
		mobike = no
		proposals = $2
		local {
			auth = psk
			id = $1.charon.example
		}
		remote {
			auth = psk
			id = %any
		}$child
	}
EOF
}
# cert_auth: a conn of charon's with EC P-256 certificates (RFC 7427) instead
# of the PSK: charon is a.example, we are b.example (lib/charon.sh charon_certs);
# charon keeps its default send_cert = ifasked: it sends its certificate
# because our CERTREQ (RFC 7296 §3.7) asks, in our responder's IKE_SA_INIT
# response and in our initiator's IKE_AUTH request.
cert_auth() {
	sed -e '/local {/,/}/c\
		local {\
			auth = pubkey\
			certs = '"${1:-a.crt}"'\
			id = a.example\
		}' -e '/remote {/,/}/c\
		remote {\
			auth = pubkey\
			id = b.example\
		}'
}
charon_certs "$tmp/pki" || tap_bail "openssl made the test certificates"
cp "$tmp/pki/ca.crt" "$tmp/c/x509ca/" && cp "$tmp/pki/a.crt" "$tmp/c/x509/" &&
	cp "$tmp/pki/a.key" "$tmp/c/private/" || tap_bail "charon c's certificates in place"
certs=(-I b.example -C "$tmp/pki/b.crt" -K "$tmp/pki/b.key" -A "$tmp/pki/ca.crt")
# RSA-2048 leaves (charon c signs RSASSA-PSS: rsa_pss = yes)
charon_certs "$tmp/pki-rsa" rsa || tap_bail "openssl made the RSA test certificates"
cp "$tmp/pki-rsa/ca.crt" "$tmp/c/x509ca/ca-rsa.crt" && cp "$tmp/pki-rsa/a.crt" "$tmp/c/x509/a-rsa.crt" &&
	cp "$tmp/pki-rsa/a.key" "$tmp/c/private/a-rsa.key" || tap_bail "charon c's RSA certificates in place"
rsacerts=(-I b.example -C "$tmp/pki-rsa/b.crt" -K "$tmp/pki-rsa/b.key" -A "$tmp/pki-rsa/ca.crt")
# our initiator trusts both CAs: charon answers b.example with the first
# matching conn, certr (its EC certificate)
cat "$tmp/pki/ca.crt" "$tmp/pki-rsa/ca.crt" >"$tmp/cas.crt"
# cases: name, charon proposal (IKE), our suite (ENCR:BITS:PRF:INTEG:GROUP)
cases=(
	"gcm256-p256 aes256gcm16-prfsha256-ecp256 20:256:5:0:19"
	"cbc256-p256 aes256-sha256-ecp256 12:256:5:12:19"
	"gcm256-x25519 aes256gcm16-prfsha256-x25519 20:256:5:0:31"
	"gcm256-p384 aes256gcm16-prfsha384-ecp384 20:256:6:0:20"
	"cbc128-modp2048 aes128-sha256-modp2048 12:128:5:12:14"
)
{
	echo "connections {"
	for c in "${cases[@]}"; do
		set -- $c
		conn "$1" "$2"
	done
	conn default default
	conn ke aes256gcm16-prfsha256-modp3072-ecp256
	conn child aes256gcm16-prfsha256-ecp256 esp
	conn p848 aes256gcm16-prfsha256-ecp256 "" 848
	conn cookie aes256gcm16-prfsha256-ecp256
	conn retransmit aes256gcm16-prfsha256-ecp256
	conn badpsk aes256gcm16-prfsha256-ecp256
	conn gm "aes256gcm16-prfsha256-ecp256,aes256-sha256-ecp256,aes256gcm16-prfsha256-x25519,aes256gcm16-prfsha384-ecp384,aes128-sha256-modp2048"
	conn certr aes256gcm16-prfsha256-ecp256 | cert_auth
	conn certi aes128-sha256-modp2048 | cert_auth
	conn certr-rsa aes256gcm16-prfsha256-ecp256 | cert_auth a-rsa.crt
	echo "}"
	printf 'secrets {\n\tike-1 {\n\t\tsecret = "%s"\n\t}\n}\n' "$psk"
} >"$tmp/c/swanctl.conf"
nconn=$((${#cases[@]} + 11))
check "swanctl loads charon's $nconn connections" \
	eval 'charon_load c >"$tmp/load" 2>&1; grep -q "successfully loaded $nconn connections" "$tmp/load"'

uats=()
# same_keys CONN|SPIi OUT: our "uat" line in OUT for that SA equals the entry
# built from the keys charon logged for it (SPIs, SK_ei/er with the GCM salt,
# SK_ai/ar, algorithm names)
same_keys() {
	local ours mine out=$2
	set -- $(charon_keys "$ch" "$1")
	[ $# -eq 6 ] || return 1
	ours=$(sed -n "s/^uat \($1,.*\)/\1/p" "$out")
	set -- "$@" $(sed -n "s/^established $1 $2 //p" "$out")
	[ $# -ge 11 ] || return 1
	mine=$(ws_ike2_uat "$1" "$2" "$3" "$4" "$7" "$8" "$5" "$6" "${10}")
	[ -n "$ours" ] && [ "$ours" = "$mine" ] && uats+=("$ours")
}
# responder CASE [PORT [ARGS]]: our responder on PORT (500), until SIGTERM
responder() {
	local name=$1 port=${2:-500}
	shift $(($# < 2 ? $# : 2))
	"$peer" -r -k "$psk" -I gcks.example -n 0 -t 10 "$@" "$port" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	resp_pid=$!
	for _ in $(seq 100); do
		grep -q '^port ' "$tmp/$name.out" 2>/dev/null && return 0
		kill -0 "$resp_pid" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}
clean() { ! grep -qE 'Sanitizer|runtime error' "$tmp/$1.err"; }

# ---- (a) charon initiates, our responder answers --------------------------------
a_before=	# a command run before charon initiates
# half_open PORT: an IKE_SA_INIT of ours to 127.0.0.1:PORT that never goes on
half_open() {
	"$peer" -i -1 -k "$psk" -I half.example -t 2 18590 "$1" >/dev/null 2>>"$tmp/half.err"
}
a_case() { # NAME CHARON-CONN [CHILD [PORT ARGS]]
	local name=$1 cn=$2 rc spis
	diag_case=$name
	if ! responder "$name" "${@:4}"; then
		notok "$name: our responder started"
		return
	fi
	[ -n "$a_before" ] && eval "$a_before"
	if [ -n "${3:-}" ]; then
		charon_swanctl "$ch" --initiate --child "$3" >"$tmp/$name.init" 2>&1
	else
		charon_swanctl "$ch" --initiate --ike "$cn" >"$tmp/$name.init" 2>&1
	fi
	check "$name: charon -> ours: charon lists the IKE SA ESTABLISHED" charon_established "$ch" "$cn"
	if ! charon_established "$ch" "$cn"; then	# the rest would only repeat it
		kill -TERM "$resp_pid"
		wait "$resp_pid"
		return
	fi
	spis=$(charon_keys "$ch" "$cn" | cut -d' ' -f1-2)
	check "$name: our responder established the same SA ($spis)" \
		eval '[ -n "$spis" ] && grep -q "^established $spis " "$tmp/$name.out"'
	check "$name: charon derived the same SK_* as ours" same_keys "$cn" "$tmp/$name.out"
	charon_swanctl "$ch" --terminate --ike "$cn" --timeout 3 >"$tmp/$name.term" 2>&1
	check "$name: our responder answered charon's Delete (terminate completed, SA deleted)" \
		eval 'grep -q "terminate completed successfully" "$tmp/$name.term" && grep -q "^deleted $spis" "$tmp/$name.out"'
	kill -TERM "$resp_pid"
	wait "$resp_pid"
	rc=$?
	check "$name: our responder exits 0 on SIGTERM, no sanitizer report" \
		eval '[ $rc -eq 0 ] && clean "$name"'
}
for c in "${cases[@]}"; do
	set -- $c
	a_case "resp-$1" "$1"
done
a_case resp-default default
a_case resp-ke ke
check "resp-ke: our responder asked for group 19 (INVALID_KE_PAYLOAD), charon retried with it" \
	grep -q "peer didn't accept DH group MODP_3072, it requested ECP_256" "$tmp/c/charon.log"
a_case resp-child child esp
check "resp-child: charon logged the refused child SA, not a failed IKE SA" \
	grep -q "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built\|no CHILD_SA built" "$tmp/c/charon.log"

# charon puts the Non-ESP Marker (four zero octets, RFC 3948 §2.2) before every
# message to a port other than 500, IKE_SA_INIT too: our core strips it and
# marks its answers as the peer does.
a_case resp-848-marker p848 "" 848
check "resp-848-marker: charon's messages to 848 carried the marker, and so did our answers" \
	eval 'grep -A1 "datagram with a Non-ESP Marker" "$tmp/resp-848-marker.err" | grep -q "IKE_SA_INIT answered" && grep -q "(Non-ESP Marker) to port $cport" "$tmp/resp-848-marker.err"'

# RFC 7296 §2.6: with one SA half open our responder (-c 1) asks for a cookie
a_before="half_open 500"
a_case resp-cookie cookie "" 500 -c 1
a_before=
check "resp-cookie: we asked for a COOKIE, charon returned it and went on" \
	eval 'grep -q "cookie asked" "$tmp/resp-cookie.err" && grep -q "received COOKIE notify" "$tmp/c/charon.log"'

# ---- (b) our initiator against charon as responder ------------------------------
b_case() { # NAME SUITE|"" [ARGS]: "" offers our default list of suites
	local name=$1 rc
	local suite=(${2:+-s "$2"})
	shift 2
	diag_case=$name
	"$peer" -i -k "$psk" -I gm.example "${suite[@]}" -t 8 "$@" "$lport" "$chport" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	check "$name: ours -> charon: our initiator established the IKE SA (exit $rc), no sanitizer report" \
		eval '[ $rc -eq 0 ] && grep -q "^established " "$tmp/$name.out" && clean "$name"'
	local spi
	spi=$(awk '$1 == "established" { print $2 "_i " $3 "_r" }' "$tmp/$name.out")
	if [ "${1:-}" = -D ]; then
		sleep 0.3
		check "$name: charon took our Delete: SA $spi gone" \
			eval '[ -n "$spi" ] && ! charon_swanctl "$ch" --list-sas | grep -q "$spi"'
		check "$name: charon logged the DELETE of the IKE SA" \
			eval 'grep -A4 "parsed INFORMATIONAL request [0-9]* \[ D \]" "$tmp/c/charon.log" | grep -q "IKE_SA deleted"'
		return
	fi
	check "$name: charon lists our SPIs ESTABLISHED" \
		eval '[ -n "$spi" ] && charon_swanctl "$ch" --list-sas | grep -q "ESTABLISHED, IKEv2, ${spi%% *}\*\? ${spi#* }"'
	check "$name: charon derived the same SK_* as ours" same_keys "${spi%%_*}" "$tmp/$name.out"
}
for c in "${cases[@]}"; do
	set -- $c
	b_case "init-$1" "$3"
done
b_case init-offer ""
# with the marker, from a port other than 500 (charon reads a message from port
# 500 as unmarked: "unsupported IKE version 0.0")
lport=18590
b_case init-marker 20:256:5:0:19 -m
lport=500
[ ${#uats[@]} -gt 0 ] && unset 'uats[-1]'	# not on the captured ports
check "init-marker: our initiator marked its messages (-m, nonesp_marker) and charon took them" \
	grep -q "(Non-ESP Marker) to port $cport" "$tmp/init-marker.err"
b_case init-delete 20:256:5:0:19 -D

# ---- retransmissions: nftables (in this namespace) drops the first datagram
# under 180 octets from our port 500 to charon c, i.e. our first IKE_AUTH
# message; our responder must answer charon's retransmitted request again, our
# initiator must resend on its timer.
drop_once() {
	nft add table inet ike2i && nft add chain inet ike2i out '{ type filter hook output priority 0; }' &&
		nft add rule inet ike2i out udp sport 500 udp dport "$cport" udp length lt 180 \
			quota until 175 bytes drop
}
if command -v nft >/dev/null && drop_once && nft delete table inet ike2i; then
	a_before=drop_once
	a_case resp-retransmit retransmit
	a_before=
	nft delete table inet ike2i
	check "resp-retransmit: charon resent IKE_AUTH, our responder answered it again from its cache" \
		eval 'grep -q "retransmitted request answered again" "$tmp/resp-retransmit.err"'
	drop_once
	b_case init-retransmit 20:256:5:0:19
	nft delete table inet ike2i
	check "init-retransmit: our initiator resent its lost IKE_AUTH on its timer" \
		eval 'grep -q "^ike2-peer: timer .* out 1: " "$tmp/init-retransmit.err"'
else
	skip "retransmissions against charon" "no nft, or no nftables in this namespace"
fi

# ---- a wrong PSK on our side, both roles: AUTHENTICATION_FAILED, no SA
diag_case=badpsk-resp
if responder badpsk-resp 500 -k "not the psk"; then
	charon_swanctl c --initiate --ike badpsk >"$tmp/badpsk-resp.init" 2>&1
	check "badpsk-resp: a wrong PSK at our responder: charon gets AUTHENTICATION_FAILED, no SA" \
		eval 'grep -q "received AUTHENTICATION_FAILED notify error" "$tmp/badpsk-resp.init" && ! charon_established c badpsk'
	kill -TERM "$resp_pid"
	wait "$resp_pid"
	rc=$?
	check "badpsk-resp: our responder established nothing (exit $rc)" \
		eval '[ $rc -eq 1 ] && ! grep -q "^established" "$tmp/badpsk-resp.out" && clean badpsk-resp'
else
	notok "badpsk-resp: our responder started"
fi
diag_case=badpsk-init
"$peer" -i -k "not the psk" -I gm.example -s 20:256:5:0:19 -t 8 500 "$cport" \
	>"$tmp/badpsk-init.out" 2>"$tmp/badpsk-init.err"
rc=$?
check "badpsk-init: a wrong PSK at our initiator: charon refuses it (Notify 24), exit $rc" \
	eval '[ $rc -eq 1 ] && grep -q "notify 24" "$tmp/badpsk-init.err" && clean badpsk-init'

# ---- RFC 7383 fragments both ways: charon f fragments above 120 octets, ours
# above 100 (-f): the IKE_AUTH messages go as 4-5 SKF fragments each way.
if charon_start f "$fport" "fragment_size = 120"; then
	ch=f chport=$fport
	{
		echo "connections {"
		conn frag aes256gcm16-prfsha256-ecp256
		echo "}"
		printf 'secrets {\n\tike-1 {\n\t\tsecret = "%s"\n\t}\n}\n' "$psk"
	} >"$tmp/f/swanctl.conf"
	charon_load f >"$tmp/load-f" 2>&1
	nuat=${#uats[@]}
	a_case frag-resp frag "" 500 -f 100
	b_case frag-init 20:256:5:0:19 -f 100
	for n in frag-resp frag-init; do
		check "$n: we reassembled charon's fragmented IKE_AUTH and sent ours in fragments" \
			eval 'grep -q "fragment kept" "$tmp/$n.err" && grep -q "out [2-9]: " "$tmp/$n.err"'
	done
	check "charon reassembled our fragmented IKE_AUTH request and response" \
		eval '[ "$(grep -c "reassembled fragmented IKE message" "$tmp/f/charon.log")" -eq 2 ]'
	# tshark decrypts fragments one by one but does not reassemble them: these
	# SAs only go to the malformed check below
	frag_uats=("${uats[@]:$nuat}")
	uats=("${uats[@]:0:$nuat}")
	ch=c chport=$cport
else
	notok "charon f (fragment_size = 120) started"
	frag_uats=()
fi

# ---- certificates (RFC 7427, AUTH method 14, EC P-256), both directions
a_case resp-cert certr "" 500 "${certs[@]}"
b_case init-cert 12:128:5:12:14 "${certs[@]}"
check "certificates: charon (send_cert = ifasked) got our CERTREQ for the test CA in both roles and sent its certificate" \
	eval '[ "$(grep -c "received cert request for .*CN=interop CA" "$tmp/c/charon.log")" -ge 2 ] && [ "$(grep -c "sending end entity cert .*CN=a.example" "$tmp/c/charon.log")" -ge 2 ]'
check "certificates: charon verified our signatures (both roles) and signed its own" \
	eval '[ "$(grep -c "authentication of .b.example. with .* successful" "$tmp/c/charon.log")" -eq 2 ] && grep -q "authentication of .a.example. (myself) with .* successful" "$tmp/c/charon.log"'
# RSA-2048: charon's RSASSA-PSS to our responder (which signs PKCS#1 v1.5),
# our initiator's RSASSA-PSS (-P) to charon
a_case resp-cert-rsa certr-rsa "" 500 "${rsacerts[@]}"
b_case init-cert-rsa 20:256:5:0:19 "${rsacerts[@]}" -A "$tmp/cas.crt" -P
check "RSA certificates: charon verified our PKCS#1 v1.5 and RSASSA-PSS signatures, signed RSASSA-PSS" \
	eval 'grep -q "authentication of .b.example. with RSA_EMSA_PKCS1_SHA2_256 successful" "$tmp/c/charon.log" && grep -q "authentication of .b.example. with RSA_EMSA_PSS.* successful" "$tmp/c/charon.log" && grep -q "authentication of .a.example. (myself) with RSA_EMSA_PSS.* successful" "$tmp/c/charon.log"'

# ---- (c) tshark over the whole capture ---------------------------------------
if [ "$have_cap" = 1 ]; then
	charon_capture_stop
	diag_case=
	[ -s "$tmp/init-delete.out" ] && uats+=("$(sed -n 's/^uat //p' "$tmp/init-delete.out")")
	uo=()
	for u in "${uats[@]}" "${frag_uats[@]}"; do uo+=(-o "uat:ikev2_decryption_table:$u"); done
	ts() { tshark -r "$tmp/ike2.pcap" -d udp.port==848,udpencap "$@" 2>/dev/null; }
	n=$(ts -Y isakmp | wc -l)
	echo "# capture: $n IKEv2 messages, ${#uats[@]} + ${#frag_uats[@]} decryption table entries"
	check "tshark marks no packet malformed (without and with the keys)" \
		eval '[ "$n" -gt 0 ] && [ -z "$(ts -Y _ws.malformed)" ] && [ -z "$(ts "${uo[@]}" -Y _ws.malformed)" ]'
	ts "${uo[@]}" -Y 'isakmp.exchangetype == 35' -T fields -e isakmp.ispi -e isakmp.auth.method \
		>"$tmp/auth"
	bad=0
	for u in "${uats[@]}"; do
		spi=${u%%,*}
		[ "$(grep -cE "^$spi	(2|14)$" "$tmp/auth")" -ge 2 ] || { bad=$((bad + 1)); echo "# not decrypted: $spi"; }
	done
	check "tshark decrypts both IKE_AUTH messages of each of the ${#uats[@]} SAs (AUTH method 2, 14 with certificates)" \
		eval '[ ${#uats[@]} -ge 10 ] && [ $bad -eq 0 ]'
	check "tshark decodes our CERTREQ (X.509 Signature) in an IKE_SA_INIT response and a decrypted IKE_AUTH request" \
		eval 'ts -Y "udp.srcport == 500 && isakmp.exchangetype == 34 && isakmp.flag_r == 1 && isakmp.certreq.type == 4" | grep -q . && ts "${uo[@]}" -Y "udp.srcport == 500 && isakmp.exchangetype == 35 && isakmp.flag_r == 0 && isakmp.certreq.type == 4" | grep -q .'
	dspi=$(sed -n 's/^uat \([0-9a-f]*\),.*/\1/p' "$tmp/init-delete.out")
	check "tshark decrypts our INFORMATIONAL Delete (protocol IKE)" \
		eval '[ -n "$dspi" ] && ts "${uo[@]}" -Y "isakmp.ispi == $dspi && isakmp.exchangetype == 37 && isakmp.typepayload == 42" | grep -q .'
else
	skip "tshark decodes and decrypts the capture" "no tcpdump/tshark, or no capture on lo"
fi

charon_stop c
charon_stop f
check "charon logged no daemon error" eval '! grep -qi "segmentation\|\[DMN\].*error" "$tmp/c/stderr" "$tmp/f/stderr"'
tap_plan_end
