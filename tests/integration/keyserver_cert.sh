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
. "$top/tests/integration/lib/stack_cert.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl

stack_cert_pki alice carol
stack_ks_start "$(stack_media_group)
$(stack_member alice cert)
$(stack_member bob psk)
$(stack_member carol psk)" || tap_bail "gdoi-ks started with certificates"

get() { stack_sc_get "$@"; }
spi() { get "$1" 2>/dev/null | python3 -c 'import json,sys; print([t["spi"] for t in json.load(sys.stdin)["teks"]])'; }
tap_diag() { tail -n 8 "$tmp/ks.log" | sed 's/^/# ks: /'; }

stack_sc alice "$(stack_cert_of alice)"
stack_sc bob "identity = fqdn:bob.example
psk = $psk"
stack_sc carol "$(stack_cert_of carol)"
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
