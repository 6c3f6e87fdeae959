#!/usr/bin/env bash
# FFmpeg receives a demo-sender stream through the SDP file `gdoictl get
# --format sdp` writes (AES-CM without MKI: what FFmpeg's SRTP takes), in a
# private network namespace; what it writes is a contiguous run of what was
# sent. Also: GStreamer's srtpdec opens the same stream with --format gst-caps.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$(dirname "$0")/lib/media.sh"
media_netns "$@"
stack_need gdoi-ks gdoi-sidecar gdoictl demo-sender
command -v ffmpeg >/dev/null || { echo "1..1"; echo "not ok 1 - ffmpeg missing (make deps)"; exit 1; }
if ! media_start "$(printf 'tek = AES128_CM_SHA1_80\nmki = no\ntek_lifetime = 3600\n')"; then
	notok "key server and sidecars up"; media_logs; tap_plan_end; exit 1
fi
ok "key server and sidecars up"
check "gdoictl get --format sdp writes the SDP file" \
	sh -c "'$BIN/gdoictl' --sidecar '$RX_SOCK' get audio --format sdp >'$tmp/audio.sdp' 2>'$tmp/sdp.err'"
check "the SDP is complete: v=, c= multicast, m=audio RTP/SAVP, rtpmap, a=crypto" \
	sh -c "grep -q '^v=0' '$tmp/audio.sdp' && grep -q '^c=IN IP4 239.1.2.3/1' '$tmp/audio.sdp' &&
	       grep -q '^m=audio 5004 RTP/SAVP 0' '$tmp/audio.sdp' && grep -q '^a=rtpmap:0 PCMU/8000' '$tmp/audio.sdp' &&
	       grep -q '^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' '$tmp/audio.sdp'"
ffmpeg -nostdin -loglevel error -protocol_whitelist file,udp,rtp,srtp,crypto -i "$tmp/audio.sdp" \
	-c:a copy -f mulaw -y "$tmp/ffmpeg.ulaw" >"$tmp/ffmpeg.err" 2>&1 &
ff=$!
gst-launch-1.0 -q -e udpsrc address=239.1.2.3 port=5004 \
	caps="$("$BIN/gdoictl" --sidecar "$TX_SOCK" get audio --format gst-caps --payload 0 | head -n 1)" \
	! srtpdec ! rtppcmudepay ! filesink location="$tmp/srtpdec.ulaw" >"$tmp/srtpdec.err" 2>&1 &
gs=$!
sleep 2
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 13 + i // 160) & 0xff for i in range(160 * 300)))' >"$tmp/in.ulaw"
"$BIN/demo-sender" --socket "$TX_SOCK" --group audio --input "$tmp/in.ulaw" \
	--sent "$tmp/sent.ulaw" >"$tmp/sender.err" 2>&1
sleep 0.5
kill -INT $ff $gs; wait $ff $gs
# contiguous run DECODER: what the decoder wrote is sent[k:k+n] for some k, n >= 200 frames
contiguous() {
	python3 - "$tmp/sent.ulaw" "$1" <<'PY'
import sys
sent, got = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
k = sent.find(got) if got else -1
print("# %d of %d frames, %s" % (len(got) // 160, len(sent) // 160, "from frame %d on" % (k // 160) if k >= 0 else "not what was sent"))
sys.exit(0 if k >= 0 and len(got) >= 200 * 160 else 1)
PY
}
check "FFmpeg through --format sdp: a contiguous run of what was sent (200+ frames)" contiguous "$tmp/ffmpeg.ulaw"
check "srtpdec through --format gst-caps: a contiguous run of what was sent" contiguous "$tmp/srtpdec.ulaw"
[ "$tap_fail" -eq 0 ] || media_logs
tap_plan_end
