#!/usr/bin/env bash
# The GStreamer plugin against a real key server and sidecars, with rekeys
# every 3 s, in a private network namespace:
#   - demo-sender -> udpsrc ! gdoisrtpdec ! rtppcmudepay ! filesink: every
#     payload octet, across at least two rekeys, 0 packets lost (cmp);
#   - audiotestsrc ! mulawenc ! rtppcmupay ! gdoisrtpenc ! udpsink -> demo-receiver:
#     0 authentication failures, 0 lost, payload equal (cmp), the key server's SSRC;
#   - errors that say what is wrong: no sidecar, unknown group, not authorized.
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
gst-launch-1.0 -q -e udpsrc address=239.1.2.3 port=5004 caps="$rxcaps" \
	! gdoisrtpdec socket="$RX_SOCK" group=audio ! rtppcmudepay ! filesink location="$tmp/gst-rx.ulaw" \
	>"$tmp/gst-rx.err" 2>&1 &
gst=$!
sleep 1.5
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7) & 0xff for i in range(160 * 600)))' >"$tmp/in.ulaw"
"$BIN/demo-sender" --socket "$TX_SOCK" --group audio --input "$tmp/in.ulaw" --seq-start 65000 \
	--sent "$tmp/sent.ulaw" --report "$tmp/sender.json" >"$tmp/sender.err" 2>&1
sleep 0.5
kill -INT $gst; wait $gst
spis=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["spis"]))' "$tmp/sender.json" 2>/dev/null || echo 0)
check "demo-sender sent with 3 or more keys (2+ rekeys): $spis" test "$spis" -ge 3
sent=$(stat -c %s "$tmp/sent.ulaw" 2>/dev/null || echo 0)
got=$(stat -c %s "$tmp/gst-rx.ulaw" 2>/dev/null || echo 0)
echo "# gdoisrtpdec: $((got / 160)) of $((sent / 160)) packets decoded, $(((sent - got) / 160)) lost, across $((spis - 1)) rekeys"
check "gdoisrtpdec: 0 packets lost ($((got / 160)) of $((sent / 160)))" test "$got" -eq "$sent" -a "$sent" -gt 0
check "gdoisrtpdec: payload equals what was sent (cmp)" cmp -s "$tmp/sent.ulaw" "$tmp/gst-rx.ulaw"

# 2. gdoisrtpenc feeds demo-receiver
"$BIN/demo-receiver" --socket "$RX_SOCK" --group audio --seconds 30 --idle 2 --out-raw "$tmp/rx.ulaw" \
	--report "$tmp/rx.json" >"$tmp/demo-rx.err" 2>&1 &
drx=$!
sleep 1
gst-launch-1.0 -q audiotestsrc is-live=true wave=white-noise num-buffers=650 samplesperbuffer=160 \
	! audio/x-raw,rate=8000,channels=1 ! mulawenc ! tee name=t ! queue ! filesink location="$tmp/gst-sent.ulaw" \
	t. ! queue ! rtppcmupay min-ptime=20000000 max-ptime=20000000 ssrc=305419896 \
	! gdoisrtpenc name=enc socket="$TX_SOCK" group=audio \
	! udpsink host=239.1.2.3 port=5004 >"$tmp/gst-tx.err" 2>&1
check "gst-launch with gdoisrtpenc ran to the end" test $? -eq 0
wait $drx
read -r pk af lost <<<"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["packets"], r["auth_failures"], r["lost"] + r["no_key"] + r["errors"])' "$tmp/rx.json" 2>/dev/null || echo "0 -1 -1")"
kspis=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["spis"]))' "$tmp/rx.json" 2>/dev/null || echo 0)
echo "# gdoisrtpenc -> demo-receiver: $pk of 650 packets, $af authentication failures, $lost lost or errors, $kspis keys"
check "demo-receiver: 0 authentication failures" test "$af" -eq 0
check "demo-receiver: 650 packets, 0 lost, across 2+ rekeys ($kspis keys)" test "$pk" -eq 650 -a "$lost" -eq 0 -a "$kspis" -ge 3
check "demo-receiver: payload equals what the pipeline sent (cmp)" cmp -s "$tmp/gst-sent.ulaw" "$tmp/rx.ulaw"
assigned=$("$BIN/gdoictl" --sidecar "$TX_SOCK" get audio --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ssrcs"][0])')
rxssrc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ssrc"])' "$tmp/rx.json" 2>/dev/null)
check "demo-receiver saw the key server's SSRC ($assigned), not the payloader's ($rxssrc)" \
	test "$rxssrc" = "$assigned" -a "$assigned" != 305419896

# 3. errors that say what is wrong
gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-srtp ! gdoisrtpdec socket="$tmp/none.sock" group=audio \
	! fakesink >"$tmp/e1.err" 2>&1
check "no sidecar: the error names the socket" grep -q "no gdoi-sidecar at $tmp/none.sock" "$tmp/e1.err"
gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-srtp ! gdoisrtpdec socket="$RX_SOCK" group=nosuch \
	! fakesink >"$tmp/e2.err" 2>&1
check "unknown group: said so" grep -q "unknown group 'nosuch'" "$tmp/e2.err"
gst-launch-1.0 -q fakesrc num-buffers=1 ! application/x-rtp ! gdoisrtpenc socket="$RX_SOCK" group=audio timeout=3000 \
	! fakesink >"$tmp/e3.err" 2>&1
check "a member that may not send: said so" grep -q "assigned no SSRC" "$tmp/e3.err"
[ "$tap_fail" -eq 0 ] || media_logs
tap_plan_end
