#!/usr/bin/env bash
# No (master key, SSRC, packet index) is ever used twice (docs/bridge.md,
# "Keystream uniqueness"). A real gdoi-ks and gdoi-sidecar on loopback; demo-sender
# sends to a unicast collector on 127.0.0.1 that records every SRTP packet's MKI
# (= the TEK's SPI: it names the master key), SSRC and sequence number. Runs:
# the sender restarted 3 times, two senders at once on this host, the sidecar
# restarted, the key server restarted (then the sidecar again, so that it
# registers with the restarted key server). Every (SPI, SSRC, index) must be
# unique over all runs; the index is ROC || SEQ as RFC 3711 Appendix A
# estimates it per (SPI, SSRC), in arrival order.
set -u
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar demo-sender

frames=40
head -c $((160 * frames)) /dev/urandom >"$tmp/audio.ulaw"
rport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

python3 - "$rport" "$tmp/wire.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        p = s.recv(4096)
        if len(p) < 12 + 14 or p[0] >> 6 != 2:
            continue
        # AES128_CM_SHA1_80 with MKI: ... | MKI (4) | tag (10)
        out.write("%s %08x %u\n" % (p[-14:-10].hex(), int.from_bytes(p[8:12], "big"),
                                     int.from_bytes(p[2:4], "big")))
PY
stack_pids+=($!)

group_conf="[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 127.0.0.1:$rport
tek_lifetime = 3600
atd = 1
dtd = 4
kek = aes256
rekey_unicast = yes

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media
may_send = yes
ssrcs = 2"
sc_conf="identity = fqdn:alice.example
psk = $psk

[group media]
id = 1234
send = yes
ssrcs = 2
allow = uid:$(id -u)"

stack_ks_start "$group_conf" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }
stack_sidecar_start "$sc_conf" || { echo "1..1"; echo "not ok 1 - gdoi-sidecar did not start"; exit 1; }

nrun=0
# send NAME: one demo-sender run to the collector, in the background ($send_pid)
send() {
	nrun=$((nrun + 1))
	"$BIN/demo-sender" --socket "$SC_SOCK" --group media --input "$tmp/audio.ulaw" \
		--report "$tmp/run$nrun.json" >"$tmp/run$nrun.log" 2>&1 &
	send_pid=$!
}
# sent N: how many packets run N reports sent (0 when it failed)
sent() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("packets", 0))' "$tmp/run$1.json" 2>/dev/null || echo 0; }

restart_sidecar() {
	kill -TERM "$SC_PID"
	wait "$SC_PID" 2>/dev/null
	stack_sidecar_start "$sc_conf"
}
restart_ks() {
	kill -TERM "$KS_PID"
	wait "$KS_PID" 2>/dev/null
	rm -f "$KS_SOCK"
	stack_ks_start "$group_conf"
}

for _ in 1 2 3 4; do send; wait "$send_pid"; done
check "the sender ran 4 times in a row ($(sent 1) $(sent 2) $(sent 3) $(sent 4) packets)" \
	test "$(sent 1)$(sent 2)$(sent 3)$(sent 4)" = "$frames$frames$frames$frames"
send; a=$send_pid; send; b=$send_pid; wait "$a" "$b"
check "two senders at once on this host ($(sent 5) and $(sent 6) packets)" \
	test "$(sent 5)$(sent 6)" = "$frames$frames"
restart_sidecar
send; wait "$send_pid"
check "a sender after a sidecar restart ($(sent 7) packets)" test "$(sent 7)" = "$frames"
restart_ks
send; wait "$send_pid"
check "a sender after a key server restart ($(sent 8) packets)" test "$(sent 8)" = "$frames"
restart_sidecar
send; wait "$send_pid"
check "a sender after the sidecar registered with the restarted key server ($(sent 9) packets)" \
	test "$(sent 9)" = "$frames"
sleep 0.5

out=$(python3 - "$tmp/wire.txt" <<'PY'
import sys
hi = {}       # (spi, ssrc) -> highest index seen
seen = set()
dups = 0
n = 0
for line in open(sys.argv[1]):
    spi, ssrc, seq = line.split()
    seq = int(seq)
    k = (spi, ssrc)
    if k in hi:                       # RFC 3711 Appendix A index estimate
        roc, sl = hi[k] >> 16, hi[k] & 0xffff
        v = roc
        if sl < 32768:
            if seq - sl > 32768 and roc > 0:
                v = roc - 1
        elif sl - 32768 > seq:
            v = roc + 1
        idx = v << 16 | seq
    else:
        idx = seq
    hi[k] = max(hi.get(k, 0), idx)
    n += 1
    if (spi, ssrc, idx) in seen:
        dups += 1
    seen.add((spi, ssrc, idx))
print(n, dups, len({k[0] for k in hi}), len({k[1] for k in hi}))
PY
)
read -r npk ndup nspi nssrc <<<"$out"
check "the collector saw every packet of the 9 runs ($npk of $((9 * frames)))" test "$npk" = $((9 * frames))
check "every (SPI, SSRC, packet index) on the wire is unique ($ndup repeated; $nspi SPI(s), $nssrc SSRC(s))" \
	test "$ndup" = 0
check "each of the 9 sender sessions had its own SSRC ($nssrc)" test "$nssrc" = 9
[ "$tap_fail" -eq 0 ] || stack_logs
tap_plan_end
