#!/bin/sh
# Installs the Debian packages the project needs, or prints the apt-get line when not root.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libssl-dev libsrtp2-dev libuv1-dev
libinih-dev libjansson-dev libsqlite3-dev libpq-dev postgresql libpcap-dev libcmocka-dev ike-scan tshark valgrind
iproute2 nftables util-linux python3 python3-cryptography espeak-ng sox libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad ffmpeg
prometheus curl strongswan-charon strongswan-swanctl libstrongswan-standard-plugins tcpdump"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
