#!/usr/bin/env bash
# gikev2_cert.sh - G-IKEv2 (RFC 9838) with certificates: Digital Signature
# authentication (RFC 7427, AUTH method 14) at gdoi-ks's G-IKEv2 front end, with
# gdoi-sidecars as members, on 127.0.0.1. A test PKI (openssl, lib/charon.sh
# charon_certs): gdoi-ks is ks.example with an EC P-256 certificate.
#   - alice (auth = cert, a sidecar with a certificate and no PSK: both AUTHs
#     must be signatures) registers and serves the TEK on its socket, the same
#     as bob, a PSK member of the same group, gets (the GCKS answers him by PSK);
#   - mallory (auth = cert) with a certificate of another CA is refused
#     (AUTHENTICATION_FAILED, "does not verify" at gdoi-ks);
#   - carol, configured psk only, with a valid certificate of our CA is refused
#     (gdoi-ks names the reason), so is frank's PSK from 127.0.0.1 when his
#     `address` is 127.0.0.9 (bob's, 127.0.0.1, is his), and zed's valid
#     certificate without a [member] section; gdoi-ks keeps serving;
#   - erin with an RSA-2048 certificate (PKCS#1 v1.5) registers;
#   - after SIGHUP (credentials loaded again) dave registers by certificate;
#   - a certificate file that is not one: gdoi-ks refuses to start, naming it.
# KS_SERVER_EXTRA (e.g. "workers = 2", gikev2_cert_workers.sh) goes to [server].
# TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$top/tests/integration/lib/stack_cert.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl

extra=${KS_SERVER_EXTRA:-}
stack_cert_pki alice carol dave zed
charon_certs "$pki" rsa erin || tap_bail "openssl made the RSA-2048 leaf"
charon_certs "$tmp/other" ec mallory || tap_bail "openssl made the other CA"

members="$(stack_member alice cert media "may_send = yes")
$(stack_member bob psk media "address = 127.0.0.1")
$(stack_member frank psk media "address = 127.0.0.9")
$(stack_member carol psk)
$(for m in mallory erin dave; do stack_member "$m" cert; done)"
stack_ks_start "$(stack_media_group g-ikev2)
$members" || tap_bail "gdoi-ks started with certificates"
nw=$(sed -n 's/^workers *= *\([0-9]*\).*/\1/p' <<<"$extra")
[ -z "$nw" ] || check "gdoi-ks runs $nw workers" grep -q "($nw worker(s))" "$tmp/ks.log"

# sc NAME BODY [LINES]: a G-IKEv2 sidecar NAME (lib/stack_cert.sh)
sc() { stack_sc "$1" "$2" "protocol = g-ikev2
${3:-}"; }
cert_of() { stack_cert_of "$@"; }
get() { stack_sc_get "$@"; }
# keys FILE: the TEKs' SPI, profile and key material, one line each
keys() {
	python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for t in s.get("teks", []):
    print(" ".join(str(t.get(k)) for k in sorted(t) if k not in ("not_before", "not_after")))
PY
}
tap_diag() {
	tail -n 12 "$tmp/ks.log" | sed 's/^/# ks: /'
}

sc alice "$(cert_of alice)" "send = yes
ssrcs = 2"
sc bob "identity = fqdn:bob.example
psk = $psk"
sc mallory "$(cert_of mallory "$tmp/other")"
sc carol "$(cert_of carol)
psk = $psk"
sc frank "identity = fqdn:frank.example
psk = $psk"
sc zed "$(cert_of zed)"

check "alice (certificate, no PSK) holds the group's keys by G-IKEv2" stack_wait 20 get alice
check "bob (PSK) holds the group's keys by G-IKEv2" stack_wait 20 get bob
get alice >"$tmp/a.json" 2>/dev/null
get bob >"$tmp/b.json" 2>/dev/null
ka=$(keys "$tmp/a.json" 2>/dev/null) kb=$(keys "$tmp/b.json" 2>/dev/null)
check "alice's snapshot carries a TEK with its key" test -n "$ka"
check "alice and bob were given the same SRTP keys, SPI and profile" test "$ka" = "$kb"
nssrc=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("ssrcs", [])))' "$tmp/a.json" 2>/dev/null || echo 0)
check "alice got 2 SSRCs by N(SENDER) ($nssrc)" test "$nssrc" = 2
check "gdoi-ks: alice registered by GSA_AUTH, authenticated by signature" \
	grep -q "member alice (127.0.0.1:[0-9]*) registered by G-IKEv2 GSA_AUTH, 2 SSRC(s), authenticated by signature" "$tmp/ks.log"
check "gdoi-ks: bob registered by GSA_AUTH, authenticated by PSK" \
	grep -q "member bob (127.0.0.1:[0-9]*) registered by G-IKEv2 GSA_AUTH, 0 SSRC(s), authenticated by PSK" "$tmp/ks.log"
check "gdoictl on gdoi-ks lists alice's registration in group media" \
	stack_wait 5 sh -c "'$CTL' --socket '$KS_SOCK' members media 2>/dev/null | grep -q alice"

check "gdoi-ks refuses mallory's certificate of another CA" \
	stack_wait 15 grep -q "G-IKEv2 from 127.0.0.1:[0-9]*: IKE SA failed (notify 24): .*certificate does not verify" "$tmp/ks.log"
check "gdoi-ks refuses carol (configured psk only) with a certificate of its CA, naming why" \
	stack_wait 15 grep -q "G-IKEv2 from 127.0.0.1:[0-9]*: member carol (fqdn:carol.example) authenticated by a certificate, but its member is not configured auth = cert: refused with AUTHENTICATION_FAILED" "$tmp/ks.log"
check "gdoi-ks refuses frank's PSK from an address not his (address = 127.0.0.9), naming why" \
	stack_wait 15 grep -q "member frank (fqdn:frank.example) authenticated by PSK from an address that is not its member's" "$tmp/ks.log"
check "gdoi-ks refuses zed, with a certificate of its CA but no [member]" \
	stack_wait 15 grep -q "G-IKEv2 from 127.0.0.1:[0-9]*: (fqdn:zed.example) not a configured member: refused with AUTHENTICATION_FAILED" "$tmp/ks.log"
if get mallory >/dev/null 2>&1 || get carol >/dev/null 2>&1 || get frank >/dev/null 2>&1 ||
	get zed >/dev/null 2>&1; then
	notok "none of mallory, carol, frank and zed holds keys"
else
	ok "none of mallory, carol, frank and zed holds keys"
fi
check "mallory's sidecar was answered AUTHENTICATION_FAILED" \
	grep -qi "AUTHENTICATION_FAILED\|notify 24" "$tmp/mallory.log"

# gdoi-ks keeps serving: a member with an RSA-2048 certificate
sc erin "$(cert_of erin)"
check "erin (RSA-2048 certificate) registers after the refusals" stack_wait 20 get erin
check "gdoi-ks: erin authenticated by signature" \
	grep -q "member erin (127.0.0.1:[0-9]*) registered by G-IKEv2 GSA_AUTH, 0 SSRC(s), authenticated by signature" "$tmp/ks.log"

# SIGHUP: the registrars (and their G-IKEv2 engines) are built again with the credentials
kill -HUP "$KS_PID"
check "gdoi-ks reloaded its configuration" stack_wait 10 grep -q "configuration reloaded" "$tmp/ks.log"
sc dave "$(cert_of dave)"
check "dave registers by certificate after the reload" stack_wait 20 get dave
check "gdoi-ks: dave authenticated by signature" \
	grep -q "member dave (127.0.0.1:[0-9]*) registered by G-IKEv2 GSA_AUTH, 0 SSRC(s), authenticated by signature" "$tmp/ks.log"

# ASan: gdoi-ks stops clean (no leak of the credentials it was given twice)
kill -TERM "$KS_PID"
wait "$KS_PID" 2>/dev/null
rc=$?
check "gdoi-ks stopped cleanly (exit $rc), no sanitizer report" \
	sh -c "[ $rc -eq 0 ] && ! grep -q 'Sanitizer' '$tmp/ks.log'"

# a certificate file that holds no certificate: the error names it
echo "not a certificate" >"$tmp/bad.crt"
sed "s|^certificate = .*|certificate = $tmp/bad.crt|; s|^admin_socket = .*|admin_socket = $tmp/ks2.sock|" \
	"$tmp/ks.conf" >"$tmp/ks-bad.conf"
chmod 600 "$tmp/ks-bad.conf"
timeout 10 "$BIN/gdoi-ks" -c "$tmp/ks-bad.conf" >"$tmp/ks-bad.log" 2>&1
rc=$?
sed "s/^/# /" "$tmp/ks-bad.log"
check "gdoi-ks refuses a bad certificate file (exit $rc), naming it" \
	sh -c "[ $rc -ne 0 ] && grep -q '$tmp/bad.crt' '$tmp/ks-bad.log'"
[ "$tap_fail" -eq 0 ] || { stack_logs; for n in alice mallory carol; do tail -n 5 "$tmp/$n.log" | sed "s/^/# $n: /"; done; }
tap_plan_end
