#!/usr/bin/env bash
# gikev2.sh - G-IKEv2 (RFC 9838) through the real daemons on 127.0.0.1: one gdoi-ks
# group served by both protocols (protocols = gdoi, g-ikev2), one gdoi-sidecar that
# registers by G-IKEv2 (protocol = g-ikev2: IKE_SA_INIT + GSA_AUTH) and one by GDOI.
# Both hand their IPC clients (gdoictl get) the same SRTP keys and SPI; the G-IKEv2
# member gets its SSRCs by N(SENDER); a g-ikev2-only group refuses GDOI, a gdoi-only
# group refuses G-IKEv2 (INVALID_GROUP_ID). TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
CTL=$BIN/gdoictl

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes256
rekey_unicast = yes
protocols = gdoi, g-ikev2

[group ikeonly]
id = 55
tek = AEAD_AES_128_GCM
destination = 239.1.2.4:5006
protocols = g-ikev2

[group gdoionly]
id = 66
tek = AES128_CM_SHA1_80
destination = 239.1.2.5:5008

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media, ikeonly, gdoionly
may_send = yes

[member bob]
id = fqdn:bob.example
psk = $psk
groups = media, ikeonly
may_send = yes" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }

# alice: G-IKEv2 for media and ikeonly, and (refused) for gdoionly
stack_sidecar_start "identity = fqdn:alice.example
psk = $psk

[group media]
id = 1234
protocol = g-ikev2
send = yes
ssrcs = 2
allow = uid:$(id -u)

[group ikeonly]
id = 55
protocol = g-ikev2
allow = uid:$(id -u)

[group gdoionly]
id = 66
protocol = g-ikev2
allow = uid:$(id -u)" || { echo "1..1"; echo "not ok 1 - the G-IKEv2 sidecar did not start"; exit 1; }

# bob: GDOI for media and (refused) ikeonly
SC2_SOCK=$tmp/run2/sidecar.sock
(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s\nidentity = fqdn:bob.example\npsk = %s\n
[group media]\nid = 1234\nprotocol = gdoi\nallow = uid:%s\n\n[group ikeonly]\nid = 55\nallow = uid:%s\n' \
	"$port" "$SC2_SOCK" "$psk" "$(id -u)" "$(id -u)" >"$tmp/sidecar2.conf")
"$BIN/gdoi-sidecar" -c "$tmp/sidecar2.conf" -v >"$tmp/sidecar2.log" 2>&1 &
stack_pids+=("$!")

sc1() { "$CTL" --sidecar "$SC_SOCK" "$@"; }
sc2() { "$CTL" --sidecar "$SC2_SOCK" "$@"; }
check "the G-IKEv2 sidecar holds keys for media (GSA_AUTH)" stack_wait 15 sc1 get media --format json
check "the GDOI sidecar holds keys for media (GROUPKEY-PULL)" stack_wait 15 sc2 get media --format json
sc1 get media --format json >"$tmp/a.json" 2>"$tmp/a.err"
sc2 get media --format json >"$tmp/b.json" 2>"$tmp/b.err"

# keys NAME FILE: the TEKs' SPI, profile and key material, one line each
keys() {
	python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
teks = s.get("teks", [])
for t in teks:
    print(" ".join(str(t.get(k)) for k in sorted(t) if k not in ("not_before", "not_after")))
PY
}
ka=$(keys "$tmp/a.json") kb=$(keys "$tmp/b.json")
check "the snapshots carry a TEK with its key ($(printf "%s\n" "$ka" | wc -l) line(s))" test -n "$ka"
check "both protocols gave the same SRTP keys, SPI and profile" test "$ka" = "$kb"
ssrcs=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("ssrcs", [])))' "$tmp/a.json" 2>/dev/null || echo 0)
check "the G-IKEv2 member got 2 SSRCs by N(SENDER) ($ssrcs)" test "$ssrcs" = 2
check "the key server logged the GSA_AUTH registration" \
	grep -q "registered by G-IKEv2 GSA_AUTH, 2 SSRC(s)" "$tmp/ks.log"
check "the G-IKEv2 sidecar holds keys for the g-ikev2-only group" stack_wait 10 sc1 get ikeonly --format json
check "a gdoi-only group refuses G-IKEv2 with INVALID_GROUP_ID" \
	stack_wait 10 grep -q "refused, notify 45" "$tmp/ks.log"
if sc2 get ikeonly --format json >/dev/null 2>&1; then
	notok "a g-ikev2-only group refuses GROUPKEY-PULL"
else
	ok "a g-ikev2-only group refuses GROUPKEY-PULL"
fi
[ "$tap_fail" -eq 0 ] || { stack_logs; tail -n 20 "$tmp/sidecar2.log" | sed 's/^/# /'; }
tap_plan_end
