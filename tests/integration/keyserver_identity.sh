#!/usr/bin/env bash
# keyserver_identity.sh - a sidecar's keyserver_identity pins the key server's
# authenticated ID, by GDOI and by G-IKEv2, with certificates (lib/stack_cert.sh):
# members' certificates come from the key server's CA, so without the pin a member
# (here a rogue gdoi-ks holding alice's certificate) passes for the key server.
#   - dave's sidecar without keyserver_identity refuses to start, naming the
#     file, line and what to write;
#   - with the explicit keyserver_identity = any dave registers with the rogue
#     (the threat; his sidecar warns at start);
#   - with keyserver_identity = fqdn:ks.example the rogue is refused by G-IKEv2 and
#     by GDOI, the sidecar logs why and holds no keys;
#   - with it, both protocols register with the real key server (ks.example);
#   - a bad keyserver_identity line is refused with its file and line.
# On 127.0.0.1. TAP output.
set -u
. "$(dirname "$0")/lib/stack.sh"
. "$top/tests/integration/lib/stack_cert.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl

stack_cert_pki alice dave
stack_ks_start "$(stack_media_group gdoi,g-ikev2)
$(stack_member dave cert)" || tap_bail "gdoi-ks started with certificates"

# the rogue: a second gdoi-ks that authenticates with alice's (valid) certificate
rport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(umask 077; printf '[server]\nlisten = 127.0.0.1:%s\nstate = %s/rogue-state\nadmin_socket = %s/rogue.sock
identity = fqdn:alice.example\ncertificate = %s/alice.crt\nprivate_key = %s/alice.key\nca = %s/ca.crt\n\n%s\n%s\n' \
	"$rport" "$tmp" "$tmp" "$pki" "$pki" "$pki" "$(stack_media_group gdoi,g-ikev2)" "$(stack_member dave cert)" \
	>"$tmp/rogue.conf")
"$BIN/gdoi-ks" -c "$tmp/rogue.conf" -v >"$tmp/rogue.log" 2>&1 &
stack_pids+=("$!")
stack_wait 10 test -S "$tmp/rogue.sock" || tap_bail "the rogue gdoi-ks started"

# dave NAME PORT PROTOCOL [KEYSERVER_IDENTITY]: a sidecar for dave against PORT
dave() {
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s/%s/sidecar.sock\n%s\n%s\n
[group media]\nid = 1234\nprotocol = %s\nallow = uid:%s\n' "$2" "$tmp" "$1" "$(stack_cert_of dave "" none)" \
		"${4:+keyserver_identity = $4}" "$3" "$(id -u)" >"$tmp/$1.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1.conf" -v >"$tmp/$1.log" 2>&1 &
	stack_pids+=("$!")
}
get() { stack_sc_get "$1" >/dev/null 2>&1; }
tap_diag() { tail -n 6 "$tmp/rogue.log" | sed 's/^/# rogue: /'; }

dave open "$rport" g-ikev2 any
dave pinned2 "$rport" g-ikev2 fqdn:ks.example
dave pinned1 "$rport" gdoi fqdn:ks.example
dave real2 "$port" g-ikev2 fqdn:ks.example
dave real1 "$port" gdoi fqdn:ks.example

check "with keyserver_identity = any dave takes keys from the rogue (alice's certificate)" stack_wait 20 get open
check "and his sidecar warned at start that any certificate of the CA would do" \
	grep -q "keyserver_identity = any: any certificate of the CA" "$tmp/open.log"
check "with keyserver_identity the rogue is refused by G-IKEv2, the log says why" stack_wait 20 grep -q \
	'a key server authenticated as ID type 2 "alice.example", not the keyserver_identity: refused' "$tmp/pinned2.log"
check "and by GDOI" stack_wait 20 grep -q \
	'a key server authenticated as ID type 2 "alice.example", not the keyserver_identity: refused' "$tmp/pinned1.log"
check "with keyserver_identity dave registers with ks.example by G-IKEv2" stack_wait 20 get real2
check "and by GDOI" stack_wait 20 get real1
check "the pinned sidecars hold no keys from the rogue" bash -c "! '$BIN/gdoictl' --sidecar '$tmp/pinned2/sidecar.sock' get media --format json 2>/dev/null | grep -q master_key && ! '$BIN/gdoictl' --sidecar '$tmp/pinned1/sidecar.sock' get media --format json 2>/dev/null | grep -q master_key"
check "and do not warn" bash -c "! grep -q 'without keyserver_identity' '$tmp/pinned2.log' '$tmp/real1.log'"

# no keyserver_identity: refused at the ca line (the 7th of dave's file)
(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s/nopin/s.sock\n%s\n\n[group media]\nid = 1234\n' \
	"$port" "$tmp" "$(stack_cert_of dave "" none)" >"$tmp/nopin.conf")
timeout 10 "$BIN/gdoi-sidecar" -c "$tmp/nopin.conf" >"$tmp/nopin.out" 2>&1; rc=$?
check "without keyserver_identity the sidecar refuses to start, naming file, line and what to write (exit $rc)" \
	bash -c "[ $rc != 0 ] && [ $rc -lt 124 ] && grep -q 'nopin.conf:7: ca: the key server is authenticated by certificate but \[sidecar\] sets no keyserver_identity: .* expected keyserver_identity = TYPE:VALUE .*, or keyserver_identity = any to accept any (dangerous)' '$tmp/nopin.out'"
check "and it never opened its socket" test ! -e "$tmp/nopin/s.sock"

printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s/bad/s.sock\nkeyserver_identity = ks.example\npsk = x\n\n[group media]\nid = 1234\n' \
	"$port" "$tmp" >"$tmp/bad.conf"
chmod 600 "$tmp/bad.conf"
"$BIN/gdoi-sidecar" -c "$tmp/bad.conf" >"$tmp/bad.out" 2>&1; rc=$?
check "a bad keyserver_identity is refused at its line (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'bad.conf:4: keyserver_identity: expected ipv4:ADDR' '$tmp/bad.out'"
tap_plan_end
