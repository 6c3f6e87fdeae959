#!/usr/bin/env bash
# push_ack.sh - RFC 8263 acknowledgements between real daemons on loopback: a
# `push_ack = yes` group, three gdoi-sidecars. After a `gdoictl rekey` each
# sidecar acknowledges the unicast push (`gdoictl members --json`: its acked_seq
# is the group's SEQ, no misses); a sidecar that stops answering (SIGSTOP) is
# dropped after `push_ack_misses` pushes, the others stay; once resumed it
# registers again on its own (its re-registration before its TEKs end) and is
# back in the member list, acknowledging the next push. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl


N=3
members=""
for i in $(seq 1 $N); do
	members+="[member sc$i]
id = fqdn:sc$i.example
psk = $psk
groups = media

"
done
# TEKs of 16 s: a member without pushes registers again 2 s before they end.
stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
tek_lifetime = 16
atd = 1
dtd = 2
kek = aes128
rekey_unicast = yes
push_retransmits = 2
push_retransmit_interval = 200
push_ack = yes
push_ack_misses = 2

$members" || { notok "gdoi-ks starts"; stack_logs; tap_plan_end; exit 1; }

me=$(id -u)
sc_pid=()
for i in $(seq 1 $N); do
	mkdir -p "$tmp/sc$i"
	(umask 077; cat >"$tmp/sc$i/sidecar.conf" <<CONF
[sidecar]
keyserver = 127.0.0.1:$port
local = 127.0.0.1:0
identity = fqdn:sc$i.example
psk = $psk
socket = $tmp/sc$i/s.sock

[group media]
id = 1234
rekey = unicast
allow = uid:$me
CONF
	)
	"$BIN/gdoi-sidecar" -c "$tmp/sc$i/sidecar.conf" -v >"$tmp/sc$i/log" 2>&1 &
	sc_pid[i]=$!
	stack_pids+=("${sc_pid[i]}")
done
ctl() { "$BIN/gdoictl" --socket "$KS_SOCK" "$@"; }

# members_state: "NAME:acked_seq:misses ..." sorted, and the group's SEQ
members_state() {
	python3 - "$(ctl --json members media)" "$(ctl --json status)" <<'PY'
import json, sys
m = json.loads(sys.argv[1]); st = json.loads(sys.argv[2])
seq = [g for g in st["groups"] if g["name"] == "media"][0]["seq"]
print("seq=%s %s" % (seq, " ".join(sorted("%s:%s:%s" % (x["member"], x["acked_seq"], x["ack_misses"])
                                         for x in m["members"]))))
PY
}
all_acked() {	# all_acked NAMES...: each named member's acked_seq is the group's SEQ
	local s; s=$(members_state) || return 1
	local seq=${s%% *}; seq=${seq#seq=}
	for n in "$@"; do grep -q " $n:$seq:0\b" <<<" ${s#* }" || return 1; done
}
three() { ctl --json members media | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)["members"]) != 3)'; }

check "three sidecars register" stack_wait 20 three
ctl rekey media >/dev/null
check "after a rekey each sidecar's acked_seq is the group's SEQ" stack_wait 10 all_acked sc1 sc2 sc3
echo "# $(members_state)"
ctl rekey media >/dev/null
check "and again after the next one" stack_wait 10 all_acked sc1 sc2 sc3
echo "# key server: $(ctl --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); print("pushes_sent %s, retransmitted %s, acked %s" % (d["pushes_sent"], d["pushes_retransmitted"], d["pushes_acked"]))')"

# (b) sc3 stops answering: dropped after push_ack_misses = 2 pushes
kill -STOP "${sc_pid[3]}"
for _ in 1 2; do
	ctl rekey media >/dev/null
	sleep 1.2	# three sends 200 ms apart, then one interval of waiting
done
gone() { ! ctl --json members media | grep -q '"sc3"'; }
check "a stopped sidecar is dropped after 2 missed pushes" stack_wait 5 gone
echo "# $(members_state)"
check "the others acknowledged every push" all_acked sc1 sc2
check "the key server logged the drop" grep -qi "sc3.*\(dropped\|removed\)\|\(dropped\|removed\).*sc3" "$tmp/ks.log"
kill -CONT "${sc_pid[3]}"
# It still holds its TEKs (16 s from its last push); it registers again before they end.
back() { ctl --json members media | grep -q '"sc3"'; }
# Meanwhile its key socket is asked every 0.1 s: it must always hand out a TEK.
python3 - "$tmp/sc3/s.sock" "$tmp/sc3.gaps" <<'PY' &
import json, socket, sys, time
gaps = tries = 0
end = time.monotonic() + 20
while time.monotonic() < end:
    tries += 1
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])
        f = s.makefile("rw"); f.write('{"op":"get","group":"media"}\n'); f.flush()
        r = json.loads(f.readline()); s.close()
        if not r.get("ok") or not (r.get("snapshot") or {}).get("teks"): gaps += 1
    except (OSError, ValueError):
        gaps += 1
    time.sleep(0.1)
open(sys.argv[2], "w").write("%d %d\n" % (gaps, tries))
PY
poll_pid=$!
check "once resumed it registers again on its own" stack_wait 20 back
wait "$poll_pid"
read -r gaps tries <"$tmp/sc3.gaps"
check "its key socket had a TEK at each of $tries asks in the 20 s after resuming ($gaps without)" \
	test "$gaps" -eq 0
ctl rekey media >/dev/null
check "and acknowledges the next push" stack_wait 10 all_acked sc1 sc2 sc3
dups=$(grep -h "duplicate push" "$tmp"/sc*/log 2>/dev/null | wc -l)
echo "# sidecars: $(grep -c . < <(grep -h 'rekey SEQ' "$tmp"/sc*/log)) pushes applied, $dups duplicate lines (debug level)"
if grep -qh "refused: replay" "$tmp"/sc*/log; then notok "duplicates are not logged as refusals"
else ok "duplicates are not logged as refusals"; fi
tap_plan_end
