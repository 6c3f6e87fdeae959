#!/usr/bin/env bash
# keyserver_workers.sh - gdoi-ks with `workers = 2` (registration threads on
# SO_REUSEPORT sockets, docs/keyserver.md "Workers") between real programs on
# loopback: bench/reg-load registers 320 members from 320 source addresses, 64
# at a time, each asking for one SSRC (group "send", no KEK: no sender-list
# pushes); all succeed, both workers served some, every SSRC on record is
# distinct. Then the same 320 register for "media"; a rekey of that push_ack group reaches every
# member and each one's RFC 8263 ACK (arriving on whichever worker socket its
# address hashes to) is taken by the pushing engine: acked_seq = the group's SEQ
# for all 320. A real gdoi-sidecar registers and holds the key server's keys
# octet for octet (its TEK against the state database). A second key server on
# the same port is refused. Runs in about 10 s under ASan. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl
RL=$B/bench/reg-load
[ -x "$RL" ] || { echo "1..1"; echo "not ok 1 - $RL is not built (make test-bins)"; exit 1; }

N=320
members=$(python3 - "$N" "$psk" <<'PY'
import sys
n, psk = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    ip = "127.1.%d.%d" % ((i + 1) // 256, (i + 1) % 256)
    print("[member m%d]\nid = ipv4:%s\naddress = %s\npsk = %s\ngroups = media, send\nmay_send = yes\n" % (i, ip, ip, psk))
PY
)
KS_SERVER_EXTRA="workers = 2
phase1 = aes256-sha256-ecp256" stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes128
rekey_unicast = yes
push_retransmits = 3
push_retransmit_interval = 500
push_ack = yes

[group send]
id = 1235
tek = AES128_CM_SHA1_80
destination = 239.1.2.4:5004

[member sc]
id = fqdn:sc.example
psk = $psk
groups = media
may_send = yes

$members" || { notok "gdoi-ks starts with workers = 2"; stack_logs; tap_plan_end; exit 1; }
ok "gdoi-ks starts with workers = 2"
ctl() { "$BIN/gdoictl" --socket "$KS_SOCK" "$@"; }
check "it says so in its start line" grep -q "listening on UDP 127.0.0.1:$port (2 worker(s))" "$tmp/ks.log"

# --- a second key server on the same address and port is refused, as without workers
sed -e "s#$tmp/ks-state#$tmp/ks2-state#" -e "s#$KS_SOCK#$tmp/ks2.sock#" "$tmp/ks.conf" >"$tmp/ks2.conf"
chmod 600 "$tmp/ks2.conf"
timeout 10 "$BIN/gdoi-ks" -c "$tmp/ks2.conf" >"$tmp/ks2.log" 2>&1; rc=$?
check "a second gdoi-ks with workers on the same port exits 1: $(grep -o 'cannot listen.*' "$tmp/ks2.log" | head -c 90)" \
	bash -c "[ $rc = 1 ] && grep -q 'cannot listen on UDP.*address already in use' '$tmp/ks2.log'"

# --- 320 members at once, each given an SSRC
timeout 60 "$RL" --server "127.0.0.1:$port" --psk "$psk" --group 1235 --concurrency 64 --count $N \
	--first-ip 127.1.0.1 --ssrcs 1 --hold --rekeys 1 --push-wait 0.5 -- true >"$tmp/rl0.json" 2>"$tmp/rl.err"
echo "# reg-load: $(cat "$tmp/rl0.json")"
check "all $N members registered for send" \
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["members"] != '$N')' "$tmp/rl0.json"
mem=$(ctl --json members send)
jm() { python3 -c 'import json,sys; m=json.loads(sys.argv[1])["members"]; print(eval(sys.argv[2]))' "$mem" "$1"; }
check "$N members on record, each with its one SSRC" \
	test "$(jm 'len(m) == '$N' and all(len(x["ssrcs"]) == 1 for x in m)')" = True
check "every SSRC handed out once: $N distinct, none 0" \
	test "$(jm 'len(set(s for x in m for s in x["ssrcs"])) == '$N' and "0x00000000" not in [s for x in m for s in x["ssrcs"]]')" = True

# --- the same members in media, then one rekey with ACKs
timeout 60 "$RL" --server "127.0.0.1:$port" --psk "$psk" --group 1234 --concurrency 64 --count $N \
	--first-ip 127.1.0.1 --hold --rekeys 1 --push-wait 10 --settle 1 -- \
	"$BIN/gdoictl" --socket "$KS_SOCK" rekey media >"$tmp/rl.json" 2>"$tmp/rl.err"; rc=$?
echo "# reg-load (exit $rc): $(cat "$tmp/rl.json")"
jrl() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/rl.json" "$1" 2>/dev/null; }
check "all $N members registered" test "$(jrl 'd["members"]')" = $N
check "every member took the rekey push in time" test "$(jrl 'd["pushes_taken"]')" = $N
check "and acknowledged it ($N ACKs sent)" test "$(jrl 'd["acks_sent"] >= '$N)" = True

st=$(ctl --json status)
echo "# status workers: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["workers"])' "$st")"
jst() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$st" "$1"; }
check "status lists 2 workers, each served registrations" test "$(jst 'len(d["workers"]) == 2 and all(w["registrations"] > 0 for w in d["workers"])')" = True
check "status sums them: $((2 * N)) registrations at least, and the workers' sum is the total" \
	test "$(jst 'd["registrations"] >= 2 * '$N' and d["registrations"] == sum(w["registrations"] for w in d["workers"])')" = True
check "the ACKs reached the pushing engine: pushes_acked >= $N" test "$(jst 'd["pushes_acked"] >= '$N)" = True

mem=$(ctl --json members media)
jm() { python3 -c 'import json,sys; m=json.loads(sys.argv[1])["members"]; s=json.loads(sys.argv[2]); seq=[g for g in s["groups"] if g["name"]=="media"][0]["seq"]; print(eval(sys.argv[3]))' "$mem" "$st" "$1"; }
check "every member's acked_seq is the group's SEQ (1), no misses" \
	test "$(jm 'seq == 1 and all(x["acked_seq"] == seq and x["ack_misses"] == 0 for x in m)')" = True

# --- a real sidecar: the key server's keys
me=$(id -u)
stack_sidecar_start "identity = fqdn:sc.example
psk = $psk
local = 127.0.0.1:0

[group media]
id = 1234
rekey = unicast
allow = uid:$me" || notok "gdoi-sidecar starts"
has_keys() { "$BIN/gdoictl" --sidecar "$SC_SOCK" --json get media | grep -q master_key; }
check "gdoi-sidecar registers" stack_wait 15 has_keys
snap=$("$BIN/gdoictl" --sidecar "$SC_SOCK" --json get media)
check "its TEKs (SPI, master key and salt) are the key server's, the current one among them, octet for octet" \
	test "$(python3 - "$tmp/ks-state/gdoi-ks.db" "$snap" <<'PY'
import base64, json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
cur = [spi for (spi,) in db.execute("SELECT spi FROM teks WHERE gid = 1234 AND gen = 0")]
ks = {spi: bytes(k) for spi, k in db.execute("SELECT spi, key FROM teks WHERE gid = 1234")}
d = json.loads(sys.argv[2])
teks = (d.get("snapshot") or d)["teks"]
got = {t["spi"]: base64.b64decode(t["master_key"]) + base64.b64decode(t["master_salt"]) for t in teks}
print(len(cur) == 1 and cur[0] in got and all(ks.get(spi) == k for spi, k in got.items()))
PY
)" = True
check "the sidecar is on record as a member of media" \
	test "$(ctl --json members media | python3 -c 'import json,sys; print(len([x for x in json.load(sys.stdin)["members"] if x["member"]=="sc"]))')" = 1

# --- reload with workers: the registrars are replaced, registrations go on
kill -HUP "$KS_PID"
check "SIGHUP reloads" stack_wait 10 grep -q "configuration reloaded" "$tmp/ks.log"
timeout 30 "$RL" --server "127.0.0.1:$port" --psk "$psk" --group 1234 --concurrency 16 --count 64 \
	--first-ip 127.1.0.1 >"$tmp/rl2.json" 2>>"$tmp/rl.err"
check "after the reload 64 more registrations, none failed" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["registrations"] == 64 and d["failures"] == 0))' "$tmp/rl2.json"

kill -TERM "$KS_PID"
wait "$KS_PID"; rc=$?
check "SIGTERM: clean shutdown (exit 0; no sanitizer report)" \
	bash -c "[ $rc = 0 ] && ! grep -q 'ERROR: AddressSanitizer\|runtime error\|LeakSanitizer\|WARNING: ThreadSanitizer' '$tmp/ks.log'"
tap_plan_end
