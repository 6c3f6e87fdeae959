#!/usr/bin/env bash
# gikev2_cert_workers.sh - gikev2_cert.sh against gdoi-ks with workers = 2: each
# worker's G-IKEv2 engine must sign and verify with the [server] certificates.
export KS_SERVER_EXTRA="workers = 2"
exec bash "$(dirname "$0")/gikev2_cert.sh" "$@"
