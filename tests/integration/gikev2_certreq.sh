#!/usr/bin/env bash
# gikev2_certreq.sh - CERTREQ (RFC 7296 §3.7) between gdoi-ks and a gdoi-sidecar that
# authenticate by certificate (G-IKEv2, RFC 9838), in a private network namespace on
# 127.0.0.1, key server port 29400, captured by tcpdump:
#   - gdoi-ks's IKE_SA_INIT response carries CERTREQ (encoding 4) whose one hash is
#     the SHA-1 of the test CA's SubjectPublicKeyInfo (computed here by openssl);
#   - the sidecar's GSA_AUTH request (decrypted by gdoi-dump with the sidecar's
#     ike2_keys_log) carries the same CERTREQ, after its CERT and before AUTH;
#   - tshark, given the keys, decodes both (isakmp.certreq.type == 4) and marks no
#     packet malformed.
# TAP output; skipped without tcpdump.
set -u
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/stack.sh"
. "$top/tests/integration/lib/stack_cert.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl gdoi-dump
command -v tcpdump >/dev/null || tap_skip_all "no tcpdump"
port=29400

tcpdump -i lo -U --immediate-mode -Z root -w "$tmp/cap.pcap" udp port $port >/dev/null 2>"$tmp/tcpdump.err" &
cap_pid=$!
stack_pids+=("$cap_pid")
for _ in $(seq 50); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.1; done

stack_cert_pki alice
stack_ks_start "$(stack_media_group g-ikev2)
$(stack_member alice cert)" || tap_bail "gdoi-ks started with certificates"
stack_sidecar_start "$(stack_cert_of alice)
ike2_keys_log = $tmp/ike2.keys

[group media]
id = 1234
protocol = g-ikev2
allow = uid:$(id -u)" || tap_bail "the sidecar started"
check "the sidecar registered by G-IKEv2, authenticated by certificate" \
	stack_wait 15 "$BIN/gdoictl" --sidecar "$SC_SOCK" get media --format json
check "gdoi-ks logged the member authenticated by signature" \
	stack_wait 5 grep -q "member alice (127.0.0.1:[0-9]*) registered by G-IKEv2 GSA_AUTH, .*authenticated by signature" "$tmp/ks.log"
sleep 0.3
kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null

# the expected CA field: SHA-1 over the DER SubjectPublicKeyInfo of the CA
want=$(openssl x509 -in "$pki/ca.crt" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha1 -r | cut -c1-40)
"$BIN/gdoi-dump" --json --port "$port" --ike2-keys "$tmp/ike2.keys" "$tmp/cap.pcap" >"$tmp/d.json" 2>"$tmp/d.err"
rc=$?
check "gdoi-dump decoded and decrypted every message (exit $rc)" test $rc -eq 0
cat >"$tmp/check.py" <<'EOF'
import json, sys
path, want = sys.argv[1], sys.argv[2]
ike = [json.loads(l) for l in open(path) if l.strip()]
ike = [m for m in ike if m.get("ike_version") == 2]
def inner(m):
    for p in m.get("payloads", []):
        if p["type"] in ("SK", "SKF"):
            return p.get("payloads", [])
    return []
def fail(why):
    print("# " + why)
    sys.exit(1)
def certreq(pls, where):
    c = [p for p in pls if p["type"] == "CERTREQ"]
    if len(c) != 1:
        fail("%s: %d CERTREQ payloads: %s" % (where, len(c), [p["type"] for p in pls]))
    if c[0].get("encoding") != 4 or c[0].get("length") != 25 or c[0].get("data", "").lower() != want:
        fail("%s: CERTREQ %s, want encoding 4, length 25, data %s" % (where, c[0], want))
    return [p["type"] for p in pls]
init = [m for m in ike if m["exchange_name"] == "IKE_SA_INIT"]
auth = [m for m in ike if m["exchange_name"] == "GSA_AUTH"]
if len(init) != 2 or len(auth) != 2 or not auth[0].get("decrypted"):
    fail("exchanges: %s" % [(m["exchange_name"], m.get("decrypted")) for m in ike])
if any(p["type"] == "CERTREQ" for p in init[0]["payloads"]):
    fail("a CERTREQ in the IKE_SA_INIT request")
t = certreq(init[1]["payloads"], "IKE_SA_INIT response")
if t.index("CERTREQ") < t.index("Nonce"):
    fail("IKE_SA_INIT response order: %s" % t)
t = certreq(inner(auth[0]), "GSA_AUTH request")
if not t.index("IDi") < t.index("CERT") < t.index("CERTREQ") < t.index("AUTH"):
    fail("GSA_AUTH request order: %s" % t)
EOF
check "gdoi-ks's IKE_SA_INIT response and the sidecar's GSA_AUTH request carry CERTREQ for the CA (SHA-1 $want)" \
	python3 "$tmp/check.py" "$tmp/d.json" "$want"
if command -v tshark >/dev/null; then
	uo=()
	while read -r l; do uo+=(-o "uat:ikev2_decryption_table:$l"); done < <(grep -v '^#' "$tmp/ike2.keys")
	ts() { tshark -r "$tmp/cap.pcap" -d "udp.port==$port,isakmp" "$@" 2>/dev/null; }
	check "tshark, given the keys, marks no packet malformed" \
		eval '[ "$(ts -Y isakmp | wc -l)" -ge 4 ] && [ -z "$(ts "${uo[@]}" -Y _ws.malformed)" ]'
	check "tshark decodes the CERTREQ (X.509 Signature, 4) in the IKE_SA_INIT response and the GSA_AUTH request" \
		eval '[ "$(ts "${uo[@]}" -Y "isakmp.certreq.type == 4" | wc -l)" -eq 2 ]'
else
	skip "tshark decodes the CERTREQs" "no tshark"
fi
check "no sanitizer report" bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/ks.log' '$tmp/sidecar.log' '$tmp/d.err'"
tap_plan_end
