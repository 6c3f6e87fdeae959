#!/usr/bin/env bash
# The complete example of docs/bridge.md, extracted from the document (the C
# block opening with "/* cc rx.c"), compiled and run as written: it finds the
# sidecar through $GDOI_SIDECAR_SOCKET, joins the multicast group and decodes
# a demo-sender stream while demo-receiver, on the same port, does too.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$(dirname "$0")/lib/media.sh"
media_netns "$@"
stack_need gdoi-ks gdoi-sidecar gdoictl demo-sender demo-receiver
awk '/^```c$/ { getline l; if (l ~ /^\/\* cc rx\.c/) { on = 1; print l; next } } on && /^```$/ { exit } on' \
	"$top/docs/bridge.md" >"$tmp/rx.c"
check "docs/bridge.md's complete example extracted" grep -q "gdoisrtp_session_unprotect" "$tmp/rx.c"
check "it compiles (-Wall -Werror) against libgdoisrtp" \
	cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -fsanitize=address,undefined -I"$top/srtp-bridge" \
	"$tmp/rx.c" -o "$tmp/bridge-rx" "$B/lib/libgdoisrtp.a" $(pkg-config --libs libsrtp2 jansson)
if ! media_start "$(printf 'tek = AES128_CM_SHA1_80\nmki = yes\n')"; then
	notok "key server and sidecars up"; media_logs; tap_plan_end; exit 1
fi
GDOI_SIDECAR_SOCKET=$RX_SOCK "$tmp/bridge-rx" audio 239.1.2.3 5004 >"$tmp/rx.out" 2>"$tmp/rx.err" &
ex=$!
"$BIN/demo-receiver" --socket "$RX_SOCK" --group audio --seconds 20 --idle 2 --report "$tmp/drx.json" \
	>"$tmp/drx.err" 2>&1 &
drx=$!
sleep 1.5
python3 -c 'import sys; sys.stdout.buffer.write(bytes(160 * 150))' >"$tmp/in.ulaw"
"$BIN/demo-sender" --socket "$TX_SOCK" --group audio --input "$tmp/in.ulaw" >"$tmp/sender.err" 2>&1
wait $drx
sleep 0.3
kill $ex; wait $ex 2>/dev/null
n=$(grep -c '^RTP seq' "$tmp/rx.out")
check "the example decoded all 150 packets ($n), keyed through \$GDOI_SIDECAR_SOCKET" test "$n" -eq 150
m=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$tmp/drx.json" 2>/dev/null || echo 0)
check "demo-receiver on the same port got them too ($m): SO_REUSEADDR" test "$m" -eq 150
[ "$tap_fail" -eq 0 ] || { media_logs; sed 's/^/# /' "$tmp/rx.err" | tail -5; }
tap_plan_end
