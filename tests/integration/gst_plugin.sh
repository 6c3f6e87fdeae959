#!/usr/bin/env bash
# The GStreamer plugin against a real key server and sidecars, with rekeys
# every 3 s, in a private network namespace:
#   - demo-sender -> udpsrc ! gdoisrtpdec ! rtppcmudepay ! filesink: every
#     payload octet, across at least two rekeys, 0 packets lost (cmp);
#   - audiotestsrc ! mulawenc ! rtppcmupay ! gdoisrtpenc ! udpsink -> demo-receiver:
#     0 authentication failures, 0 lost, payload equal (cmp), the key server's SSRC;
#     the SSRC leased from the sidecar and a CSPRNG first sequence number;
#   - errors that say what is wrong: no sidecar, unknown group, no SSRC to lease,
#     not authorized (gst-launch as uid 65534, outside the sidecar's allow list).
# Every wait is bounded (timeout, stack_wait): a broken element fails a check, never hangs.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$(dirname "$0")/lib/media.sh"
media_netns "$@"
stack_need gdoi-ks gdoi-sidecar gdoictl demo-sender demo-receiver
if ! command -v gst-launch-1.0 >/dev/null || [ ! -f "$GST_PLUGIN_PATH/libgstgdoisrtp.so" ]; then
	echo "1..1"; echo "not ok 1 - gst-launch-1.0 or $GST_PLUGIN_PATH/libgstgdoisrtp.so missing (make deps; make)"; exit 1
fi
check "gst-inspect-1.0 documents gdoisrtpdec" sh -c 'gst-inspect-1.0 gdoisrtpdec | grep -q "rekey"'
check "gst-inspect-1.0 documents gdoisrtpenc and the SSRC it uses" sh -c 'gst-inspect-1.0 gdoisrtpenc | grep -q "assigned"'

if ! media_start "$(printf 'tek = AES128_CM_SHA1_80\nmki = yes\ntek_lifetime = 10\nrekey_margin = 5\natd = 1\ndtd = 3\n')"; then
	notok "key server and sidecars up"; media_logs; tap_plan_end; exit 1
fi
ok "key server and sidecars up"

# 1. gdoisrtpdec receives demo-sender's stream
rxcaps="application/x-srtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0"
timeout -s INT 60 gst-launch-1.0 -q -e udpsrc address=239.1.2.3 port=5004 caps="$rxcaps" \
	! gdoisrtpdec socket="$RX_SOCK" group=audio ! rtppcmudepay ! filesink location="$tmp/gst-rx.ulaw" \
	>"$tmp/gst-rx.err" 2>&1 &
gst=$!
sleep 1.5
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7) & 0xff for i in range(160 * 600)))' >"$tmp/in.ulaw"
timeout 40 "$BIN/demo-sender" --socket "$TX_SOCK" --group audio --input "$tmp/in.ulaw" --seq-start 65000 \
	--sent "$tmp/sent.ulaw" --report "$tmp/sender.json" >"$tmp/sender.err" 2>&1
sleep 0.5
kill -INT $gst 2>/dev/null; wait $gst
spis=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["spis"]))' "$tmp/sender.json" 2>/dev/null || echo 0)
check "demo-sender sent with 3 or more keys (2+ rekeys): $spis" test "$spis" -ge 3
sent=$(stat -c %s "$tmp/sent.ulaw" 2>/dev/null || echo 0)
got=$(stat -c %s "$tmp/gst-rx.ulaw" 2>/dev/null || echo 0)
echo "# gdoisrtpdec: $((got / 160)) of $((sent / 160)) packets decoded, $(((sent - got) / 160)) lost, across $((spis - 1)) rekeys"
check "gdoisrtpdec: 0 packets lost ($((got / 160)) of $((sent / 160)))" test "$got" -eq "$sent" -a "$sent" -gt 0
check "gdoisrtpdec: payload equals what was sent (cmp)" cmp -s "$tmp/sent.ulaw" "$tmp/gst-rx.ulaw"

# 2. gdoisrtpenc feeds demo-receiver
timeout 40 "$BIN/demo-receiver" --socket "$RX_SOCK" --group audio --seconds 30 --idle 2 --out-raw "$tmp/rx.ulaw" \
	--report "$tmp/rx.json" >"$tmp/demo-rx.err" 2>&1 &
drx=$!
sleep 1
# seqnum-offset=0: the wire's first sequence number must still be random
txlog_lines=$(wc -l <"$tmp/sidecar-tx.log")	# the pipeline's lease comes after these
timeout 40 gst-launch-1.0 -q audiotestsrc is-live=true wave=white-noise num-buffers=650 samplesperbuffer=160 \
	! audio/x-raw,rate=8000,channels=1 ! mulawenc ! tee name=t ! queue ! filesink location="$tmp/gst-sent.ulaw" \
	t. ! queue ! rtppcmupay min-ptime=20000000 max-ptime=20000000 ssrc=305419896 seqnum-offset=0 \
	! gdoisrtpenc name=enc socket="$TX_SOCK" group=audio \
	! udpsink host=239.1.2.3 port=5004 >"$tmp/gst-tx.err" 2>&1
check "gst-launch with gdoisrtpenc ran to the end" test $? -eq 0
wait $drx
read -r pk af lost <<<"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["packets"], r["auth_failures"], r["lost"] + r["no_key"] + r["errors"])' "$tmp/rx.json" 2>/dev/null || echo "0 -1 -1")"
kspis=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["spis"]))' "$tmp/rx.json" 2>/dev/null || echo 0)
echo "# gdoisrtpenc -> demo-receiver: $pk of 650 packets, $af authentication failures, $lost lost or errors, $kspis keys"
check "demo-receiver: 0 authentication failures" test "$af" -eq 0
check "demo-receiver: 650 packets, 0 lost, across 2+ rekeys ($kspis keys)" test "$pk" -eq 650 -a "$lost" -eq 0 -a "$kspis" -ge 3
check "demo-receiver: payload equals what the pipeline sent (cmp)" \
	sh -c 'test -s "$1" && cmp -s "$1" "$2"' - "$tmp/gst-sent.ulaw" "$tmp/rx.ulaw"
rxssrc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ssrc"])' "$tmp/rx.json" 2>/dev/null)
rxseq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_seq"])' "$tmp/rx.json" 2>/dev/null)
read -r leased client <<<"$(tail -n +$((txlog_lines + 1)) "$tmp/sidecar-tx.log" |
	grep -o 'SSRC [0-9a-f]* leased to client [0-9]*' | head -n 1 | cut -d' ' -f2,6)"
check "demo-receiver saw the SSRC the sidecar leased (${leased:-none} = $(printf %08x "${rxssrc:-0}")), not the payloader's" \
	test -n "$leased" -a "$((16#${leased:-0}))" = "${rxssrc:-x}" -a "${rxssrc:-x}" != 305419896
check "the first sequence number is not the payloader's 0 (${rxseq:-none}; 1 in 65536 is 0)" \
	test "${rxseq:--1}" -gt 0 -a "${rxseq:--1}" -le 65535
check "the lease was burned when the pipeline stopped" grep -q "client ${client:-none} gone: 1 SSRC(s) burned" "$tmp/sidecar-tx.log"

# 3. errors that say what is wrong
timeout 20 gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-srtp ! gdoisrtpdec socket="$tmp/none.sock" group=audio \
	! fakesink >"$tmp/e1.err" 2>&1
check "no sidecar: the error names the socket" grep -q "no gdoi-sidecar at $tmp/none.sock" "$tmp/e1.err"
timeout 20 gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-srtp ! gdoisrtpdec socket="$RX_SOCK" group=nosuch \
	! fakesink >"$tmp/e2.err" 2>&1
check "unknown group: said so" grep -q "unknown group 'nosuch'" "$tmp/e2.err"
timeout 20 gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-rtp ! gdoisrtpenc socket="$RX_SOCK" group=audio timeout=3000 \
	! fakesink >"$tmp/e3.err" 2>&1
check "a member that may not send: said so" grep -q "could not lease an SSRC of group 'audio'.*does not send" "$tmp/e3.err"
# not authorized: uid 65534 is not in the sidecar's allow list (uid:$(id -u) only)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 0755 "$tmp/rx" 2>/dev/null; chmod 0666 "$RX_SOCK"	# so that uid 65534 reaches the socket
	cp "$GST_REGISTRY" "$tmp/gst-registry-nobody.bin" 2>/dev/null; chmod 0666 "$tmp/gst-registry-nobody.bin"
	timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent \
		GST_REGISTRY="$tmp/gst-registry-nobody.bin" gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-srtp \
		! gdoisrtpdec socket="$RX_SOCK" group=audio ! fakesink >"$tmp/e4.err" 2>&1
	check "not authorized (uid 65534): gdoisrtpdec said so" \
		grep -q "not authorized to read the keys of group 'audio' from the gdoi-sidecar at $RX_SOCK" "$tmp/e4.err"
	chmod 0755 "$tmp/tx" 2>/dev/null; chmod 0666 "$TX_SOCK"
	timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent \
		GST_REGISTRY="$tmp/gst-registry-nobody.bin" gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-rtp \
		! gdoisrtpenc socket="$TX_SOCK" group=audio timeout=3000 ! fakesink >"$tmp/e5.err" 2>&1
	check "not authorized (uid 65534): gdoisrtpenc said so" \
		grep -q "not authorized to read the keys of group 'audio' from the gdoi-sidecar at $TX_SOCK" "$tmp/e5.err"
	chmod 0750 "$tmp/tx"; chmod 0660 "$TX_SOCK"
	chmod 0750 "$tmp/rx"; chmod 0660 "$RX_SOCK"
else
	skip "not authorized: needs root and setpriv to run gst-launch as uid 65534"
fi
[ "$tap_fail" -eq 0 ] || media_logs
tap_plan_end
