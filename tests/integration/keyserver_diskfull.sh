#!/usr/bin/env bash
# keyserver_diskfull.sh - gdoi-ks with its state on a full disk (a 512 KiB tmpfs in a
# private mount namespace, filled up: real ENOSPC, no mock). A member that registers then
# must be refused with a Notify that says the key server cannot serve it now (a receiver
# that got keys without being recorded would miss every rekey; a sender must not be told
# INVALID-ID-INFORMATION), with a log line saying why; once space is back the same members
# register, are on record and receive the next rekey. TAP.
set -u
if [ -z "${GDOI_IN_NS:-}" ]; then
	if ! unshare -rm true 2>/dev/null; then
		echo "1..0 # SKIP no user and mount namespaces (unshare -rm)"
		exit 0
	fi
	GDOI_IN_NS=1 exec unshare -rm bash "$0" "$@"
fi
. "$(dirname "$0")/lib/ks.sh"

port=$(free_port)
conf=$tmp/ks.conf
log=$tmp/ks.log
S="127.0.0.1:$port"
cat >"$conf" <<CONF
[server]
listen = 127.0.0.1:$port

[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes128

CONF
members_alice_bob >>"$conf"
ctl() { "$CTL" --socket "$tmp/admin.sock" "$@"; }
probe() { "$PROBE" --server "$S" --timeout 10 "$@"; }

mkdir -m 0700 "$tmp/state"
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$tmp/state"
check "gdoi-ks starts on a 512 KiB tmpfs" ks_start "$conf" "$log"
dd if=/dev/zero of="$tmp/state/filler" bs=4k 2>/dev/null
echo "# disk full: $(df -k --output=avail "$tmp/state" | tail -1 | tr -d ' ') KiB free"

probe --id fqdn:bob.example --psk bob-secret --group 1234 >"$tmp/bob.out" 2>"$tmp/bob.err"
rc=$?
echo "# receiver on a full disk: exit $rc, $(head -c 300 "$tmp/bob.err")"
check "a receiver registering on a full disk gets no keys" test "$rc" != 0 -a ! -s "$tmp/bob.out"
check "  it is told the key server cannot serve it now (Notify 8192)" grep -q "8192\|UNAVAILABLE" "$tmp/bob.err"
check "  and the log says the registration could not be recorded" \
	grep -q "member bob .*cannot record the registration" "$log"

probe --id fqdn:alice.example --psk alice-secret --group 1234 --ssrcs 1 >"$tmp/alice.out" 2>"$tmp/alice.err"
rc=$?
echo "# sender on a full disk: exit $rc, $(head -c 300 "$tmp/alice.err")"
check "a sender registering on a full disk gets no keys" test "$rc" != 0 -a ! -s "$tmp/alice.out"
check "  it is told the key server cannot serve it now, not INVALID-ID-INFORMATION" \
	bash -c "grep -q '8192\|UNAVAILABLE' '$tmp/alice.err' && ! grep -q 'INVALID-ID\|(18)\| 18\b' '$tmp/alice.err'"
check "  and the log says why" grep -q "member alice: cannot assign its SSRCs\|member alice .*cannot record" "$log"
check "the key server is still running" kill -0 "$ks_pid"

rm -f "$tmp/state/filler"
probe --id fqdn:bob.example --psk bob-secret --group 1234 --pushes 1 --push-timeout 10 \
	>"$tmp/bob.out" 2>"$tmp/bob.err" &
bob=$!
for _ in $(seq 1 100); do [ -s "$tmp/bob.out" ] && break; sleep 0.05; done
check "space back: the receiver registers" test -s "$tmp/bob.out"
check "  and is on record" bash -c "'$CTL' --socket '$tmp/admin.sock' members media | grep -q bob"
ctl rekey media >/dev/null
wait "$bob"
check "  and receives the next rekey" grep -q '"event":"push"' "$tmp/bob.out"
check "space back: the sender registers with an SSRC" \
	test "$(jget "$(probe --id fqdn:alice.example --psk alice-secret --group 1234 --ssrcs 1 2>/dev/null || echo null)" 'len(d["ssrcs"]) if d else 0')" = 1
check "gdoi-ks exits cleanly on SIGTERM" ks_stop
umount "$tmp/state"
echo "1..$tap_n"
[ "$tap_fail" = 0 ]
