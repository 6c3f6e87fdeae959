# lib/stack_cert.sh - certificates for the daemons of lib/stack.sh (sourced after
# it): a test PKI made by lib/charon.sh charon_certs in $pki, gdoi-ks as
# ks.example, members as NAME.example, group media (id 1234).
#
#   stack_cert_pki NAME...          the CA and EC P-256 leaves for ks and each NAME
#                                   in $pki; appends gdoi-ks's identity,
#                                   certificate, private_key and ca lines to
#                                   $KS_SERVER_EXTRA
#   stack_media_group [PROTOCOLS]   the [group media] section (protocols = PROTOCOLS)
#   stack_cert_of NAME [DIR] [KSID] a sidecar's identity and credential lines
#                                   (NAME's certificate from DIR, default $pki;
#                                   the CA of $pki) and keyserver_identity = KSID
#                                   (default fqdn:ks.example; "none": no such
#                                   line, the sidecar then refuses to start)
#   stack_sc NAME BODY [LINES]      a gdoi-sidecar NAME for group media, more LINES
#                                   in its group section; socket
#                                   $tmp/NAME/sidecar.sock, log $tmp/NAME.log
#   stack_sc_get NAME               gdoictl get media (JSON) from sidecar NAME

. "$top/tests/integration/lib/charon.sh"	# charon_certs only
command -v openssl >/dev/null || tap_skip_all "openssl not installed"
pki=$tmp/pki

stack_cert_pki() {
	charon_certs "$pki" ec ks "$@" >/dev/null || tap_bail "openssl made the test PKI"
	export KS_SERVER_EXTRA="${KS_SERVER_EXTRA:-}
identity = fqdn:ks.example
certificate = $pki/ks.crt
private_key = $pki/ks.key
ca = $pki/ca.crt"
}

stack_media_group() {
	printf '[group media]\nid = 1234\ntek = AES128_CM_SHA1_80\ndestination = 239.1.2.3:5004\n%s\n' \
		"${1:+protocols = $1}"
}

stack_cert_of() {
	local ksid=${3:-fqdn:ks.example}
	printf 'identity = fqdn:%s.example\ncertificate = %s/%s.crt\nprivate_key = %s/%s.key\nca = %s/ca.crt' \
		"$1" "${2:-$pki}" "$1" "${2:-$pki}" "$1" "$pki"
	[ "$ksid" = none ] || printf '\nkeyserver_identity = %s' "$ksid"
}

stack_sc() {
	(umask 077; printf '[sidecar]\nkeyserver = 127.0.0.1:%s\nsocket = %s/%s/sidecar.sock\n%s\n
[group media]\nid = 1234\nallow = uid:%s\n%s\n' "$port" "$tmp" "$1" "$2" "$(id -u)" "${3:-}" \
		>"$tmp/$1.conf")
	"$BIN/gdoi-sidecar" -c "$tmp/$1.conf" -v >"$tmp/$1.log" 2>&1 &
	stack_pids+=("$!")
}

stack_sc_get() {
	"$BIN/gdoictl" --sidecar "$tmp/$1/sidecar.sock" get media --format json
}
