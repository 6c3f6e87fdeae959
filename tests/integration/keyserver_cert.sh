#!/usr/bin/env bash
# keyserver_cert.sh - GDOI (RFC 6407) Phase 1 with certificates at gdoi-ks: the
# same rule as its G-IKEv2 front end (gikev2_cert.sh). With [server]
# certificate, private_key and ca (a test PKI, lib/charon.sh charon_certs, EC
# P-256), gdoi-sidecars registering by GROUPKEY-PULL:
#   - alice (auth = cert) with a certificate of the CA registers;
#   - bob, a PSK member of the same group, registers by PSK, with the same keys;
#   - carol, configured psk only, with a valid certificate of the CA is refused
#     at Phase 1 (gdoi-ks names the reason) and holds no keys.
# TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$top/tests/integration/lib/charon.sh"	# charon_certs only
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl
command -v openssl >/dev/null || tap_skip_all "openssl not installed"

pki=$tmp/pki
charon_certs "$pki" ec ks alice carol >/dev/null || tap_bail "openssl made the PKI"
export KS_SERVER_EXTRA="identity = fqdn:ks.example
certificate = $pki/ks.crt
private_key = $pki/ks.key
ca = $pki/ca.crt"
stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004

$(stack_member alice cert)
$(stack_member bob psk)
$(stack_member carol psk)" || tap_bail "gdoi-ks started with certificates"

# sc NAME BODY: a GDOI sidecar NAME (socket $tmp/NAME/sidecar.sock, log $tmp/NAME.log)
sc() {
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s/%s/sidecar.sock\n%s\n
[group media]\nid = 1234\nallow = uid:%s\n' "$port" "$tmp" "$1" "$2" "$(id -u)" >"$tmp/$1.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1.conf" -v >"$tmp/$1.log" 2>&1 &
	stack_pids+=("$!")
}
cert_of() { printf 'identity = fqdn:%s.example\ncertificate = %s/%s.crt\nprivate_key = %s/%s.key\nca = %s/ca.crt' \
	"$1" "$pki" "$1" "$pki" "$1" "$pki"; }
get() { "$CTL" --sidecar "$tmp/$1/sidecar.sock" get media --format json; }
spi() { get "$1" 2>/dev/null | python3 -c 'import json,sys; print([t["spi"] for t in json.load(sys.stdin)["teks"]])'; }
tap_diag() { tail -n 8 "$tmp/ks.log" | sed 's/^/# ks: /'; }

sc alice "$(cert_of alice)"
sc bob "identity = fqdn:bob.example
psk = $psk"
sc carol "$(cert_of carol)"
check "alice (auth = cert) holds the group's keys by GDOI" stack_wait 20 get alice
check "bob (PSK) holds the group's keys by GDOI" stack_wait 20 get bob
check "alice and bob hold the same TEK" test "$(spi alice)" = "$(spi bob)"
check "gdoi-ks refuses carol (configured psk only) with a certificate of its CA, naming why" \
	stack_wait 15 grep -q "member carol (fqdn:carol.example) authenticated by a certificate, but its member is not configured auth = cert" "$tmp/ks.log"
if get carol >/dev/null 2>&1; then notok "carol holds no keys"; else ok "carol holds no keys"; fi
kill -TERM "$KS_PID"
wait "$KS_PID" 2>/dev/null
rc=$?
check "gdoi-ks stopped cleanly (exit $rc), no sanitizer report" \
	sh -c "[ $rc -eq 0 ] && ! grep -q 'Sanitizer' '$tmp/ks.log'"
[ "$tap_fail" -eq 0 ] || { stack_logs; tail -n 5 "$tmp/carol.log" | sed 's/^/# carol: /'; }
tap_plan_end
