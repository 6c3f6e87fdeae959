#!/usr/bin/env bash
# gdoictl_completion.sh - the bash completion (tools/gdoictl/gdoictl.bash-completion)
# offers gdoictl's commands, options and --format values; the group names of a live
# sidecar are checked by systemd_units.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib/unit.sh"
comp=$top/tools/gdoictl/gdoictl.bash-completion
tmp_out=$(mktemp)
trap 'rm -f "$tmp_out"' EXIT
# complete WORD...: COMPREPLY for the command line WORD... (the last one being completed)
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gdoictl
		echo "${COMPREPLY[*]}"' _ "$comp" "$@"
}
t() { local want=$1; shift; local got; got=$(complete_words "$@")
	check "'$*<TAB>' -> '$want' (got '$got')" [ "$got" = "$want" ]; }
check "the file is bash that registers _gdoictl" into "$tmp_out" bash -c '. "$1" && complete -p gdoictl' _ "$comp"
t "status sidecar-status" gdoictl s
t "members" gdoictl --json m
t "get" gdoictl --sidecar /x g
t "--socket --sidecar" gdoictl --s
t "--version" gdoictl --v
t "sdes srtpenc sdp" gdoictl get media --format s
t "gst-caps" gdoictl -f g
t "--kek" gdoictl rekey audio --k
t "--format" gdoictl get media --fo
tap_plan_end
