#!/usr/bin/env bash
# GROUPKEY-PULL over real UDP on loopback (three policies: SRTP of every profile
# with KEK and SSRCs, SRTP alone, ESP+AH with KEK) and a GROUPKEY-PUSH, captured
# to a pcap by the driver; gdoi-dump must decode and decrypt every message of it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDOI_BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
driver=$build/tests/pull-udp
dump=$build/bin/gdoi-dump
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$top/tests/integration/lib/tap.sh"

if "$driver" "$tmp/pull.pcap" >"$tmp/keys" 2>"$tmp/driver.err"; then
	ok "member and key server registered three times over UDP and applied a push"
else
	notok "pull-udp driver failed: $(cat "$tmp/driver.err")"
fi
[ "$(grep -c '^ike-key ' "$tmp/keys")" -eq 3 ] && ok "three Phase 1 keys for gdoi-dump" || notok "Phase 1 keys missing"

args=()
while read -r _ kv; do args+=(--ike-key "$kv"); done <"$tmp/keys"
if "$dump" --json "${args[@]}" "$tmp/pull.pcap" >"$tmp/dump.json" 2>"$tmp/dump.err"; then
	ok "gdoi-dump exits 0 on the capture"
else
	notok "gdoi-dump failed: $(head -3 "$tmp/dump.err")"
fi

python3 - "$tmp/dump.json" <<'PY' && ok "every message decoded and decrypted, payload sequences as expected" || notok "gdoi-dump output does not match the exchanges"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(msgs) == 31, len(msgs)
for m in msgs:
    assert "error" not in m, m.get("error")
    if m["encrypted"]:
        assert m["decrypted"], m["frame"]
pulls = [m for m in msgs if m["exchange"] == 32]
assert len(pulls) == 12
def types(m): return [p["type"] for p in m["payloads"]]
for i in range(0, 12, 4):
    assert types(pulls[i]) == ["HASH", "NONCE", "ID"], types(pulls[i])
    assert types(pulls[i + 1]) == ["HASH", "NONCE", "SA"], types(pulls[i + 1])
    assert types(pulls[i + 2])[0] == "HASH"
    assert types(pulls[i + 3])[-1] == "KD"
assert types(pulls[2]) == ["HASH", "GAP"]          # SSRC request
assert types(pulls[3]) == ["HASH", "SEQ", "KD"]    # KEK: SEQ present
assert types(pulls[7]) == ["HASH", "KD"]           # no KEK: no SEQ
sats = [p for p in pulls[1]["payloads"][2]["payloads"] if p["type"] == "SAT"]
assert sorted(s["profile"] for s in sats) == [1, 2, 5, 6, 7, 8]
push = [m for m in msgs if m["exchange"] == 33]
assert len(push) == 1 and types(push[0]) == ["SEQ", "DELETE", "SA", "KD", "SIG"], types(push[0])
PY

tap_plan_end
