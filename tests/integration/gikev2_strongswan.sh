#!/usr/bin/env bash
# gikev2_strongswan.sh - strongSwan's charon (lib/charon.sh) as an IKEv2
# initiator against gdoi-ks itself (its G-IKEv2 front end, RFC 9838), in a
# private network namespace on 127.0.0.1: IKE_SA_INIT + IKE_AUTH, childless
# (RFC 6023), to gdoi-ks's own port (27100: charon puts the Non-ESP Marker
# before every message to a port other than 500, and gdoi-ks must hand such a
# datagram to its IKEv2 front end):
#   - alice by PSK (charon: local and remote auth = psk): gdoi-ks answers by
#     PSK although it has a certificate;
#   - alice2 by certificate (RFC 7427, EC P-256; charon: auth = pubkey both
#     ways, send_cert left at its default, ifasked: charon sends its
#     certificate only because gdoi-ks's IKE_SA_INIT response carries a
#     CERTREQ, RFC 7296 §3.7, naming the test CA): gdoi-ks answers with its
#     signature, charon verifies it against the test CA;
#   - carl by an RSA-2048 certificate, charon signing RSASSA-PSS;
#   - bob2, configured psk only, by certificate: refused with
#     AUTHENTICATION_FAILED, gdoi-ks names the reason;
#   - eve by certificate of another CA: refused;
# charon lists the IKE SAs ESTABLISHED, gdoi-ks logs them; charon's Delete is
# answered. TAP output; skipped when charon is not installed.
set -u
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/stack.sh"
. "$top/tests/integration/lib/stack_cert.sh"
stack_need gdoi-ks
charon_available || tap_skip_all "strongSwan charon/swanctl not installed (tests/deps.sh)"

charon_tmp=$tmp
trap 'charon_stop_all; stack_cleanup' EXIT
port=27100		# gdoi-ks
cport=27110		# charon's IKE port (27111: its NAT-T port)
kspsk="charon interop psk 0123456789"

stack_cert_pki alice2 bob2
charon_certs "$pki" rsa carl || tap_bail "openssl made the RSA-2048 leaf"
charon_certs "$tmp/other" ec eve || tap_bail "openssl made the other CA"
stack_ks_start "$(stack_media_group g-ikev2)
$(psk=$kspsk stack_member alice psk)
$(stack_member alice2 cert)
$(stack_member carl cert)
$(psk=$kspsk stack_member bob2 psk)
$(stack_member eve cert)" || tap_bail "gdoi-ks started with certificates"

charon_start c "$cport" "rsa_pss = yes" || tap_bail "charon started"
cp "$pki/ca.crt" "$tmp/c/x509ca/" && cp "$pki"/{alice2,bob2,carl}.crt "$tmp/c/x509/" &&
	cp "$pki"/{alice2,bob2,carl}.key "$tmp/c/private/" && cp "$tmp/other/eve.crt" "$tmp/c/x509/" &&
	cp "$tmp/other/eve.key" "$tmp/c/private/" || tap_bail "charon's certificates in place"

# conn NAME ID AUTH [CERT]: charon's IKE-only connection to gdoi-ks as ID,
# authenticating by AUTH (psk or pubkey, with CERT), expecting gdoi-ks's
# ks.example by the same method
conn() {
	local certs=
	[ "$3" = pubkey ] && certs="
			certs = $4"
	cat <<EOF
	$1 {
		version = 2
		local_addrs = 127.0.0.1
		remote_addrs = 127.0.0.1
		local_port = $cport
		remote_port = $port
		mobike = no
		proposals = aes256gcm16-prfsha256-ecp256
		local {
			auth = $3
			id = $2$certs
		}
		remote {
			auth = $3
			id = ks.example
		}
	}
EOF
}
{
	echo "connections {"
	conn psk alice.example psk
	conn cert alice2.example pubkey alice2.crt
	conn cert-rsa carl.example pubkey carl.crt
	conn psk-only bob2.example pubkey bob2.crt
	conn other-ca eve.example pubkey eve.crt
	echo "}"
	printf 'secrets {\n\tike-1 {\n\t\tsecret = "%s"\n\t}\n}\n' "$kspsk"
} >"$tmp/c/swanctl.conf"
check "swanctl loads charon's 5 connections" \
	eval 'charon_load c >"$tmp/load" 2>&1; grep -q "successfully loaded 5 connections" "$tmp/load"'
tap_diag() {
	charon_log_tail c 10
	tail -n 6 "$tmp/ks.log" | sed 's/^/# ks: /'
}

# up NAME: charon initiates NAME
up() { charon_swanctl c --initiate --ike "$1" >"$tmp/$1.init" 2>&1; }

up psk
check "psk: charon -> gdoi-ks: charon lists the IKE SA ESTABLISHED" charon_established c psk
check "psk: gdoi-ks logged alice's IKE SA, authenticated by PSK" \
	grep -q "G-IKEv2 member 127.0.0.1:$cport (alice.example) authenticated by PSK: IKE SA established by IKE_AUTH" "$tmp/ks.log"
check "psk: charon verified gdoi-ks's AUTH by PSK" \
	grep -q "authentication of 'ks.example' with pre-shared key successful" "$tmp/c/charon.log"

up cert
check "cert: charon -> gdoi-ks: charon lists the IKE SA ESTABLISHED" charon_established c cert
check "cert: charon received gdoi-ks's CERTREQ for the test CA and sent its certificate (send_cert = ifasked)" \
	eval 'grep -q "received cert request for .*CN=interop CA" "$tmp/c/charon.log" && grep -q "sending end entity cert .*CN=alice2.example" "$tmp/c/charon.log"'
check "cert: gdoi-ks logged alice2's IKE SA, authenticated by signature" \
	grep -q "G-IKEv2 member 127.0.0.1:$cport (alice2.example) authenticated by signature: IKE SA established by IKE_AUTH" "$tmp/ks.log"
check "cert: charon verified gdoi-ks's RFC 7427 signature against the CA" \
	grep -q "authentication of 'ks.example' with ECDSA_WITH_SHA256_DER successful" "$tmp/c/charon.log"
charon_swanctl c --terminate --ike cert --timeout 3 >"$tmp/cert.term" 2>&1
check "cert: gdoi-ks answered charon's Delete" \
	eval 'grep -q "terminate completed successfully" "$tmp/cert.term" && stack_wait 3 grep -q "(alice2.example) deleted its IKE SA" "$tmp/ks.log"'

up cert-rsa
check "cert-rsa: charon (RSA-2048, RSASSA-PSS) -> gdoi-ks: ESTABLISHED" charon_established c cert-rsa
check "cert-rsa: gdoi-ks logged carl's IKE SA, authenticated by signature" \
	grep -q "G-IKEv2 member 127.0.0.1:$cport (carl.example) authenticated by signature: IKE SA established by IKE_AUTH" "$tmp/ks.log"
check "cert-rsa: charon signed RSASSA-PSS" grep -q "authentication of 'carl.example' (myself) with RSA_EMSA_PSS" "$tmp/c/charon.log"

up psk-only
if charon_established c psk-only; then notok "psk-only: no IKE SA"; else ok "psk-only: no IKE SA"; fi
check "psk-only: charon was answered AUTHENTICATION_FAILED" \
	grep -q "received AUTHENTICATION_FAILED notify error" "$tmp/c/charon.log"
check "psk-only: gdoi-ks refused bob2's certificate (member configured psk only), naming why" \
	grep -q "member bob2 (fqdn:bob2.example) authenticated by a certificate, but its member is not configured auth = cert" "$tmp/ks.log"

up other-ca
if charon_established c other-ca; then notok "other-ca: no IKE SA"; else ok "other-ca: no IKE SA"; fi
check "other-ca: gdoi-ks refused eve's certificate of another CA" \
	grep -q "IKE SA failed (notify 24): ike2_sig_verify: peer certificate does not verify" "$tmp/ks.log"

# gdoi-ks kept serving: the PSK SA is still there, a new one comes up
charon_swanctl c --terminate --ike psk --timeout 3 >/dev/null 2>&1
up psk
check "psk again: charon -> gdoi-ks ESTABLISHED after the refusals" charon_established c psk
kill -TERM "$KS_PID"
wait "$KS_PID" 2>/dev/null
rc=$?
check "gdoi-ks stopped cleanly (exit $rc), no sanitizer report" \
	eval '[ $rc -eq 0 ] && ! grep -q "Sanitizer\|runtime error" "$tmp/ks.log"'
tap_plan_end
