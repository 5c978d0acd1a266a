#!/usr/bin/env bash
# Installs the system tools the test suite drives for real, when they are missing.
# Needs root (or sudo) on a Debian-like system; elsewhere it says what to install.
set -euo pipefail
need=()
command -v socat >/dev/null || need+=(socat)
command -v setpriv >/dev/null || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "install these packages for the full test suite: ${need[*]}" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} (Debian packages the tests use)" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
