#!/usr/bin/env bash
# The multicast audio demo, end to end, on one machine (make demo).
#
# Inside a private network namespace (never in the root one: multicast stays on
# its loopback), it starts the key server gdoi-ks, one gdoi-sidecar for the sending
# "host" and one per receiving "host", one demo-sender and two demo-receivers, the
# second of which joins late, after the RTP sequence number wrapped (ROC 1), and a
# GStreamer pipeline (gdoisrtpdec) as a third receiver. TEK
# lifetimes are short so that rekeys happen while the audio plays. Then it checks
# what arrived and prints it; any failure exits non-zero with the reason.
#
#   demo-app/run-demo.sh [--short]     (--short: the quicker run of make check)
set -u
# --ipv6 (make demo IPV6=1): IPv6 end to end. The media group is [ff0e::1234]:5004, the
# key server listens dual-stack on [::]:848, the sidecars register over [::1] and take
# rekeys on the SSM group [ff3e::4]:1849 (joined on lo by name, the key server as source).
# --protocol=g-ikev2 (make demo PROTOCOL=g-ikev2): the sidecars register by G-IKEv2
# (RFC 9838: IKE_SA_INIT + GSA_AUTH) and take the rekeys as GSA_REKEY; the group serves
# both protocols (protocols = gdoi, g-ikev2).
short=0 ipv6=0 protocol=gdoi
for a in "$@"; do
	case $a in --short) short=1 ;; --ipv6) ipv6=1 ;; --protocol=*) protocol=${a#--protocol=} ;; esac
done
case $protocol in gdoi | g-ikev2) ;; *) echo "demo: --protocol=gdoi or g-ikev2" >&2; exit 2 ;; esac
media_addr=239.1.2.3 media_dest=239.1.2.3:5004 ks_listen=127.0.0.1:848 ks_addr=127.0.0.1:848
rekey_group=239.1.2.4:1849 rekey_if=127.0.0.1
if [ $ipv6 = 1 ]; then
	media_addr=ff0e::1234 media_dest='[ff0e::1234]:5004' ks_listen='[::]:848' ks_addr='[::1]:848'
	rekey_group='[ff3e::4]:1849' rekey_if=lo
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=${GDOI_BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
bin=$build/bin

# Multicast only in a network namespace of our own, with 224.0.0.0/4 on lo.
if [ -z "${GDOI_DEMO_NETNS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
	exec env GDOI_DEMO_NETNS=1 "${ns[@]}" "$0" "$@"
fi
ip link set lo up && ip route add 224.0.0.0/4 dev lo || { echo "demo: cannot set up the namespace's loopback" >&2; exit 1; }
# IPv6 multicast on lo needs a *local* route (a plain "ff00::/8 dev lo" drops it all)
[ $ipv6 = 0 ] || ip -6 route add local ff00::/8 dev lo table local ||
	{ echo "demo: cannot route IPv6 multicast to lo" >&2; exit 1; }

for p in gdoi-ks gdoi-sidecar gdoictl demo-sender demo-receiver; do
	[ -x "$bin/$p" ] || { echo "demo: $bin/$p is missing: run make first" >&2; exit 1; }
done
# The third receiver is GStreamer with the gdoisrtpdec element of this build.
export GST_PLUGIN_PATH=$build/lib/gstreamer-1.0
command -v gst-launch-1.0 >/dev/null && [ -f "$GST_PLUGIN_PATH/libgstgdoisrtp.so" ] ||
	{ echo "demo: gst-launch-1.0 or $GST_PLUGIN_PATH/libgstgdoisrtp.so is missing: make deps; make" >&2; exit 1; }

if [ $short = 1 ]; then
	seconds=14 lifetime=10 wrap_at=4 late_at=6 out=$build/demo-short
else
	seconds=30 lifetime=12 wrap_at=8 late_at=12 out=$build/demo
fi
rm -rf "$out"
mkdir -p "$out/run"
run=$out/run
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
fail() { echo "demo: FAILED: $*" >&2; for f in "$run"/*.log; do echo "--- $f" >&2; tail -5 "$f" >&2; done; exit 1; }

# ---- audio: speech from espeak-ng, else a sox tone, else a tone from python3 ----
text="This is the G D O I S R T P demo. One key server, three sidecars, one sender and two receivers. \
The keys change every few seconds while you listen, and not a single packet is lost."
if command -v espeak-ng >/dev/null && command -v sox >/dev/null; then
	espeak-ng -s 150 -w "$run/speech.wav" "$text" 2>/dev/null &&
		sox -q "$run/speech.wav" -r 8000 -c 1 -b 16 -e signed-integer "$run/audio.wav" && src="speech (espeak-ng)"
elif command -v sox >/dev/null; then
	sox -q -n -r 8000 -c 1 -b 16 -e signed-integer "$run/audio.wav" synth 6 sine 440 sine 660 && src="tone (sox)"
fi
if [ ! -s "$run/audio.wav" ]; then
	python3 - "$run/audio.wav" <<'PY' && src="tone (python3)"
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000 * 6)))
PY
fi
[ -s "$run/audio.wav" ] || fail "no audio source"
# --short sends $seconds s exactly: the source repeated and cut there (whole loops of the
# ~13 s speech would make it 26 s)
if [ $short = 1 ]; then
	python3 - "$run/audio.wav" "$seconds" <<'PY' || fail "cannot cut the audio to $seconds s"
import sys, wave
r = wave.open(sys.argv[1]); p = r.getparams(); d = r.readframes(p.nframes); r.close()
n = int(sys.argv[2]) * p.framerate * p.sampwidth * p.nchannels
w = wave.open(sys.argv[1], "wb"); w.setparams(p); w.writeframes((d * (n // len(d) + 1))[:n]); w.close()
PY
fi
frames=$(python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print(w.getnframes() // 160)" "$run/audio.wav")
loops=$(( (seconds * 50 + frames - 1) / frames ))

# ---- configuration: one group, three members, short TEK lifetimes ----
umask 077
psk() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
psk_tx=$(psk) psk_rx1=$(psk) psk_rx2=$(psk)
cat >"$run/ks.conf" <<CONF
[server]
listen = $ks_listen
state = $run/ks-state
admin_socket = $run/ks.sock

[group audio]
id = 4711
tek = AES128_CM_SHA1_80
mki = yes
destination = $media_dest
tek_lifetime = $lifetime
rekey_margin = 4
atd = 1
dtd = 3
kek = aes256
kek_lifetime = 3600
rekey_multicast = $rekey_group
rekey_interface = $rekey_if
rekey_ttl = 0
rekey_unicast = no
$([ $protocol = g-ikev2 ] && echo "protocols = gdoi, g-ikev2")

[member sender]
id = fqdn:sender.demo
psk = $psk_tx
groups = audio
may_send = yes
ssrcs = 1

[member rx1]
id = fqdn:rx1.demo
psk = $psk_rx1
groups = audio

[member rx2]
id = fqdn:rx2.demo
psk = $psk_rx2
groups = audio
CONF
for who in sender rx1 rx2; do
	eval "key=\$psk_${who/sender/tx}"
	send=no
	[ $who = sender ] && send=yes
	cat >"$run/$who.conf" <<CONF
[sidecar]
keyserver = $ks_addr
identity = fqdn:$who.demo
psk = $key
socket = $run/$who.sock

[group audio]
id = 4711
protocol = $protocol
send = $send
$([ $who = sender ] && echo "ssrcs = 1")
rekey = $rekey_group
rekey_interface = $rekey_if
allow = uid:$(id -u)
CONF
done

# ---- start the key server and the three sidecars ----
"$bin/gdoi-ks" -c "$run/ks.conf" >"$run/ks.log" 2>&1 &
pids+=($!)
sleep 0.5
for who in sender rx1 rx2; do
	"$bin/gdoi-sidecar" -c "$run/$who.conf" >"$run/sidecar-$who.log" 2>&1 &
	pids+=($!)
done
for who in sender rx1 rx2; do
	for _ in $(seq 100); do [ -S "$run/$who.sock" ] && break; sleep 0.1; done
	[ -S "$run/$who.sock" ] || fail "sidecar $who did not open its socket"
done

# ---- media: receiver 1, the sender (wrapping its sequence number early), late receiver 2 ----
"$bin/demo-receiver" --socket "$run/rx1.sock" --group audio --seconds $((seconds + 20)) --idle 3 \
	--out-raw "$out/rx1.ulaw" --out-wav "$out/rx1.wav" --report "$out/rx1.json" >"$run/rx1.log" 2>&1 &
rx1=$!
# receiver 3: a GStreamer pipeline keyed by rx1's sidecar through gdoisrtpdec
gst-launch-1.0 -q -e udpsrc address=$media_addr port=5004 \
	caps="application/x-srtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0" \
	! gdoisrtpdec socket="$run/rx1.sock" group=audio ! rtppcmudepay ! tee name=t \
	! queue ! filesink location="$out/rx-gst.ulaw" t. ! queue ! mulawdec ! wavenc ! filesink location="$out/rx-gst.wav" \
	>"$run/rx-gst.log" 2>&1 &
gstrx=$!
pids+=($gstrx)
sleep 1
"$bin/demo-sender" --socket "$run/sender.sock" --group audio --input "$run/audio.wav" --loops $loops \
	--seq-start $((65536 - wrap_at * 50)) --sent "$out/sent.ulaw" --report "$out/sender.json" \
	>"$run/sender.log" 2>&1 &
tx=$!
sleep $late_at
"$bin/demo-receiver" --socket "$run/rx2.sock" --group audio --seconds $((seconds + 20)) --idle 3 \
	--out-raw "$out/rx2.ulaw" --out-wav "$out/rx2.wav" --report "$out/rx2.json" >"$run/rx2.log" 2>&1 &
rx2=$!
wait $tx || fail "demo-sender failed"
wait $rx1 || fail "demo-receiver 1 failed"
wait $rx2 || fail "demo-receiver 2 failed"
kill -INT $gstrx; wait $gstrx
"$bin/gdoictl" --socket "$run/ks.sock" --json status >"$out/ks-status.json" 2>"$run/gdoictl.log" || true

# ---- verification ----
if [ $ipv6 = 1 ]; then
	# every sidecar registered over [::1] and applied a push; the key server sends none
	# by unicast (rekey_unicast = no), so those came by IPv6 multicast
	v6=ok
	for who in sender rx1 rx2; do
		l=$run/sidecar-$who.log
		grep -q "registered with \[::1\]:848" "$l" && grep -q "listening for rekeys on \[ff3e::4\]:1849" "$l" &&
			grep -q "rekey SEQ [0-9]* applied" "$l" || v6=FAIL
	done
	printf '  %-4s %s\n' "$v6" "sidecars: registered over [::1], rekeys by IPv6 multicast $rekey_group"
	[ $v6 = ok ] || fail "sidecars over IPv6"
fi
if [ $protocol = g-ikev2 ]; then
	# every sidecar registered once, by G-IKEv2: the new TEKs it used came as GSA_REKEYs
	ike=ok
	grep -q "GSA_REKEY Message ID" "$run/ks.log" || ike=FAIL
	for who in sender rx1 rx2; do
		l=$run/sidecar-$who.log
		grep -q "keys by G-IKEv2" "$l" && [ "$(grep -c 'registered with' "$l")" = 1 ] || ike=FAIL
	done
	printf '  %-4s %s\n' "$ike" "sidecars: registered once by G-IKEv2, rekeys by GSA_REKEY on $rekey_group"
	[ $ike = ok ] || fail "sidecars over G-IKEv2"
fi
python3 - "$out" <<'PY' || fail "verification"
import json, os, subprocess, sys
out = sys.argv[1]
tx = json.load(open(os.path.join(out, "sender.json")))
ok = True
def check(cond, what):
    global ok
    print(("  ok   " if cond else "  FAIL ") + what)
    ok &= bool(cond)
sent = os.path.join(out, "sent.ulaw")
print("sender:   %d packets, SSRC %08x, SPIs %s" % (tx["packets"], tx["ssrc"],
      ", ".join("%s (%d)" % (s["spi"], s["packets"]) for s in tx["spis"])))
check(tx["errors"] == 0, "sender: no errors")
rekeys = len(tx["spis"]) - 1
check(rekeys >= (1 if "short" in out else 2), "rekeys during the run: %d" % rekeys)
for name in ("rx1", "rx2"):
    rx = json.load(open(os.path.join(out, name + ".json")))
    print("%s:      %d packets from seq %d, %d ROC recovery, SPIs %s" % (name, rx["packets"], rx["first_seq"], rx["roc_recoveries"],
          ", ".join("%s (%d)" % (s["spi"], s["packets"]) for s in rx["spis"])))
    check(rx["auth_failures"] == 0, "%s: zero authentication failures" % name)
    check(rx["lost"] == 0 and rx["no_key"] == 0 and rx["errors"] == 0, "%s: zero lost packets, zero errors" % name)
    skip = ((rx["first_seq"] - tx["first_seq"]) % 65536) * 160
    n = rx["octets"]
    r = subprocess.run(["cmp", "-i", "%d:0" % skip, "-n", str(n), sent, os.path.join(out, name + ".ulaw")])
    check(r.returncode == 0 and n > 0 and skip + n <= os.path.getsize(sent),
          "%s: payload equals what was sent from its first packet on (cmp, %d octets)" % (name, n))
    if name == "rx2":
        # It joined after the sender's sequence number wrapped, so the stream's ROC was 1
        # and libgdoisrtp had to find it (bounded trial) before the first packet decrypted.
        check(rx["first_seq"] < tx["first_seq"] and rx["roc_recoveries"] >= 1,
              "rx2 joined late, after the wrap (ROC 1 recovered)")
    print("  audio:  %s" % os.path.join(out, name + ".wav"))
# receiver 3, GStreamer (gdoisrtpdec): started before the sender, so it has every packet
sent_len, got = os.path.getsize(sent), os.path.getsize(os.path.join(out, "rx-gst.ulaw"))
print("gst:      %d of %d packets decoded, %d lost, across %d rekeys (gdoisrtpdec)" % (got // 160, sent_len // 160,
      (sent_len - got) // 160, rekeys))
check(got == sent_len and got > 0, "gst: zero lost packets")
r = subprocess.run(["cmp", sent, os.path.join(out, "rx-gst.ulaw")])
check(r.returncode == 0, "gst: payload equals what was sent (cmp, %d octets)" % got)
print("  audio:  %s" % os.path.join(out, "rx-gst.wav"))
sys.exit(0 if ok else 1)
PY
echo "demo: audio source: $src; key server status in $out/ks-status.json; logs in $run"
echo "demo: PASSED"
