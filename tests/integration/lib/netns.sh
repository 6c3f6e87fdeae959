# lib/netns.sh - sourced first by the scripts that send multicast: re-executes the
# script in a private network namespace (`unshare -n` as root, `unshare -rn`
# otherwise) and brings lo up there, or skips (TAP) when neither is possible.
# Multicast never leaves such a namespace; the caller adds its routes.
if [ -z "${GDOI_IN_NETNS:-}" ]; then
	export GDOI_IN_NETNS=1
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		exec unshare -n bash "$0" "$@"
	elif unshare -rn true 2>/dev/null; then
		exec unshare -rn bash "$0" "$@"
	fi
	echo "1..0 # SKIP no private network namespace (unshare -n / -rn)"
	exit 0
fi
ip link set lo up || { echo "1..0 # SKIP cannot bring lo up"; exit 0; }
# IPv4 multicast routed to lo; refuses to go on (TAP) where a default route could
# carry it out of the namespace.
netns_mcast_lo() {
	ip route add 224.0.0.0/4 dev lo 2>/dev/null
	if ip route show default | grep -q .; then
		echo "not ok 1 - refusing to run: a default route exists in this namespace"
		exit 1
	fi
}
