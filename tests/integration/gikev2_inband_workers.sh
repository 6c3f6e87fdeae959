#!/usr/bin/env bash
# gikev2_inband_workers.sh - gikev2_inband.sh against gdoi-ks with workers = 2: the IKE
# SAs are then the worker engines', and GSA_INBAND_REKEY, its Deletes and an eviction's
# Delete of the IKE SA must reach members registered through either worker.
export KS_SERVER_EXTRA="workers = 2"
exec bash "$(dirname "$0")/gikev2_inband.sh" "$@"
