# lib/media.sh - for the media-stack scripts (sourced after lib/stack.sh): a
# key server with one group and two members, "tx" (may send, one SSRC) and
# "rx", each with its own gdoi-sidecar, inside a private network namespace
# (multicast on its loopback only).
#
#   media_netns "$@"            first line of a script: re-runs it in a new namespace
#   media_start GROUP_OPTIONS   group "audio" (id 4711, 239.1.2.3:5004) with these extra
#                               lines; sets $TX_SOCK, $RX_SOCK; returns non-zero on failure
#   media_wait_keys SOCK        until that sidecar holds keys
#   GST_PLUGIN_PATH is set to the build's plugin directory.

media_netns() {
	if [ -z "${GDOI_MEDIA_NETNS:-}" ]; then
		local ns=(unshare -n)
		[ "$(id -u)" = 0 ] || ns=(unshare -rn)
		exec env GDOI_MEDIA_NETNS=1 "${ns[@]}" bash "$0" "$@"
	fi
	ip link set lo up && ip route add 224.0.0.0/4 dev lo
}

export GST_PLUGIN_PATH=$B/lib/gstreamer-1.0
export GST_REGISTRY=${GST_REGISTRY:-$tmp/gst-registry.bin}
TX_SOCK=$tmp/tx/sidecar.sock
RX_SOCK=$tmp/rx/sidecar.sock

media_start() {
	local psk_tx psk_rx who
	psk_tx=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	psk_rx=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	stack_ks_start "$(printf '[group audio]\nid = 4711\ndestination = 239.1.2.3:5004\nkek = aes256\nrekey_unicast = yes\n%s\n\n[member tx]\nid = fqdn:tx.test\npsk = %s\ngroups = audio\nmay_send = yes\nssrcs = 1\n\n[member rx]\nid = fqdn:rx.test\npsk = %s\ngroups = audio\n' "$1" "$psk_tx" "$psk_rx")" || return 1
	for who in tx rx; do
		eval "key=\$psk_$who"
		(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nidentity = fqdn:%s.test\npsk = %s\nsocket = %s/%s/sidecar.sock\n\n[group audio]\nid = 4711\nsend = %s\n%s\nrekey = unicast\nallow = uid:%s\n' \
			"$port" "$who" "$key" "$tmp" "$who" "$([ $who = tx ] && echo yes || echo no)" \
			"$([ $who = tx ] && echo 'ssrcs = 1' || echo '; receives only')" "$(id -u)" >"$tmp/$who.conf")
		"$BIN/gdoi-sidecar" -c "$tmp/$who.conf" >"$tmp/sidecar-$who.log" 2>&1 &
		stack_pids+=($!)
	done
	stack_wait 10 test -S "$TX_SOCK" && stack_wait 10 test -S "$RX_SOCK" &&
		media_wait_keys "$TX_SOCK" && media_wait_keys "$RX_SOCK"
}

media_wait_keys() {
	stack_wait 15 sh -c "'$BIN/gdoictl' --sidecar '$1' get audio --format json | grep -q master_key"
}

# media_logs: the daemons' last lines as TAP comments
media_logs() {
	tail -n 8 "$tmp"/ks.log "$tmp"/sidecar-*.log "$tmp"/*.err 2>/dev/null | sed 's/^/# /'
}
