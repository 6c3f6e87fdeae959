#!/usr/bin/env bash
# The strongSwan interop harness checked on its own (charon <-> charon): none of
# our code runs here. It shows that what tests/integration/ike2_strongswan.sh
# relies on works, so a failure there is ours, not the harness's:
#  - two charons (lib/charon.sh: own mount namespace, tmpfs /run, private
#    strongswan.conf, ports 18580/18581 and 18582/18583 on 127.0.0.1) complete
#    IKE_SA_INIT + IKE_AUTH with a PSK, and with EC P-256 certificates from
#    charon_certs (RFC 7427 signatures), childless (RFC 6023) as our GCKS
#    answers; both ends list the IKE SA ESTABLISHED;
#  - both ends log the same SK_ei/SK_er (charon_keys), and tshark, given them in
#    its ikev2_decryption_table (ws_ike2_uat), decrypts the IKE_AUTH SK payloads
#    (IDi, IDr, AUTH of the expected method) with no malformed packet; with a
#    wrong SK_ei it shows no AUTH payload (so the decryption check can fail).
# Runs in a private network namespace (lib/netns.sh). TAP output.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib/netns.sh"
. "$top/tests/integration/lib/tap.sh"
. "$top/tests/integration/lib/charon.sh"

charon_available || tap_skip_all "strongSwan charon/swanctl not installed (tests/deps.sh)"
charon_setup
tap_diag() { charon_log_tail a 8; charon_log_tail b 8; }

# conn NAME PROPOSALS AUTH LPORT RPORT ME PEER [CERT]: one IKE-only connection
# (no children) between ME.example and PEER.example.
conn() {
	cat <<EOF
	$1 {
		version = 2
		local_addrs = 127.0.0.1
		remote_addrs = 127.0.0.1
		local_port = $4
		remote_port = $5
		mobike = no
		proposals = $2
		local {
			auth = $3
			id = $6.example${8:+
			certs = $8}
		}
		remote {
			auth = $3
			id = $7.example
		}
	}
EOF
}
# conf NAME LPORT RPORT ME PEER: "psk" (AES-GCM-256, P-256) and "cert"
# (AES-CBC-128 + HMAC-SHA-256, MODP-2048) in NAME's swanctl.conf.
conf() {
	{
		echo "connections {"
		conn psk aes256gcm16-prfsha256-ecp256 psk "$2" "$3" "$4" "$5"
		conn cert aes128-sha256-modp2048 pubkey "$2" "$3" "$4" "$5" "$4.crt"
		cat <<EOF
}
secrets {
	ike-1 {
		secret = "interop psk 0123456789"
		id-1 = $4.example
		id-2 = $5.example
	}
	private-1 {
		file = $4.key
	}
}
EOF
	} >"$tmp/$1/swanctl.conf"
}

charon_certs "$tmp/pki" || tap_bail "openssl made the test certificates"
have_cap=0
charon_capture "$tmp/h.pcap" udp portrange 18580-18583 && have_cap=1

charon_start a 18580 && charon_start b 18582 || tap_bail "two charons started"
for n in a b; do
	cp "$tmp/pki/ca.crt" "$tmp/$n/x509ca/"
	cp "$tmp/pki/$n.crt" "$tmp/$n/x509/"
	cp "$tmp/pki/$n.key" "$tmp/$n/private/"
done
conf a 18580 18582 a b
conf b 18582 18580 b a
check "swanctl loads both charons' connections and credentials" \
	eval 'charon_load a >"$tmp/load-a" 2>&1 && charon_load b >"$tmp/load-b" 2>&1'

check "charon a initiates a childless IKE SA (PSK) to charon b" \
	eval 'charon_swanctl a --initiate --ike psk >"$tmp/init-psk" 2>&1'
check "charon b lists the PSK IKE SA ESTABLISHED" charon_established b psk
check "charon a lists the PSK IKE SA ESTABLISHED" charon_established a psk
ka=$(charon_keys a psk) kb=$(charon_keys b psk)
check "both charons derived the same SK_ei/SK_er (PSK SA)" \
	eval '[ -n "$ka" ] && [ "$ka" = "$kb" ]'

check "charon a initiates a childless IKE SA (certificates) to charon b" \
	eval 'charon_swanctl a --initiate --ike cert >"$tmp/init-cert" 2>&1'
check "charon b lists the certificate IKE SA ESTABLISHED" charon_established b cert
check "charon b verified a's certificate signature (RFC 7427)" \
	grep -q "authentication of 'a.example' with ECDSA_WITH_SHA.* successful" \
	"$tmp/b/charon.log"
kc=$(charon_keys a cert) kd=$(charon_keys b cert)
check "both charons derived the same SK_* (certificate SA, AES-CBC + HMAC-SHA-256)" \
	eval '[ -n "$kc" ] && [ "$kc" = "$kd" ]'

if [ "$have_cap" = 1 ]; then
	charon_capture_stop
	# charon prepends the non-ESP marker on ports other than 500: udpencap
	dec=(-d udp.port==18580,udpencap -d udp.port==18582,udpencap)
	set -- $ka
	u1=$(ws_ike2_uat "$1" "$2" "$3" "$4" 20 256 "$5" "$6" 0)
	bad=$(ws_ike2_uat "$1" "$2" "00${3:2}" "$4" 20 256 "$5" "$6" 0)
	set -- $kc
	u2=$(ws_ike2_uat "$1" "$2" "$3" "$4" 12 128 "$5" "$6" 12)
	ts() { tshark -r "$tmp/h.pcap" "${dec[@]}" "$@" 2>/dev/null; }
	ts -T fields -e frame.number -e isakmp.exchangetype >"$tmp/frames"
	check "tshark sees 8 IKEv2 messages (2 x IKE_SA_INIT + IKE_AUTH)" \
		eval '[ "$(grep -c "	3[45]$" "$tmp/frames")" -eq 8 ]'
	check "tshark marks no packet malformed" \
		eval '[ -z "$(ts -Y _ws.malformed)" ] && [ -z "$(ts -o "uat:ikev2_decryption_table:$u1" -o "uat:ikev2_decryption_table:$u2" -Y _ws.malformed)" ]'
	ts -o "uat:ikev2_decryption_table:$u1" -o "uat:ikev2_decryption_table:$u2" \
		-Y 'isakmp.exchangetype == 35' -T fields -e isakmp.ispi -e isakmp.auth.method \
		-e isakmp.id.data.fqdn >"$tmp/auth"
	cat "$tmp/auth" | sed 's/^/# /'
	check "decrypted PSK IKE_AUTH: AUTH method 2 and the FQDN IDs, both messages" \
		eval '[ "$(grep -c "^${ka%% *}	2	" "$tmp/auth")" -eq 2 ]'
	check "decrypted certificate IKE_AUTH: AUTH method 14 (RFC 7427), both messages" \
		eval '[ "$(grep -c "^${kc%% *}	14	" "$tmp/auth")" -eq 2 ]'
	ts -o "uat:ikev2_decryption_table:$bad" -Y 'isakmp.exchangetype == 35' \
		-T fields -e isakmp.ispi -e isakmp.auth.method >"$tmp/auth-bad"
	check "with a wrong SK_ei only the responder's IKE_AUTH (SK_er) decrypts" \
		eval '[ "$(grep -c "^${ka%% *}	2" "$tmp/auth-bad")" -eq 1 ]'
else
	skip "tshark decodes and decrypts the harness traffic" "no tcpdump/tshark, or no capture on lo"
fi

charon_stop a
charon_stop b
check "no charon logged an error" eval '! grep -q "\[DMN\].*error\|segmentation" "$tmp/a/stderr" "$tmp/b/stderr"'
tap_plan_end
