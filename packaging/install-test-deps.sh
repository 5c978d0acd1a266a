#!/usr/bin/env bash
# Installs the system tools the test suite drives for real, when they are missing.
# Needs root (or sudo) on a Debian-like system; elsewhere it says what to install.
set -euo pipefail
need=()
command -v socat >/dev/null || need+=(socat)
command -v setpriv >/dev/null || need+=(util-linux)
# the service tests: systemd-analyze, systemd-socket-activate and systemd --user itself
# (no systemd PID 1 is needed; `dpkg -S` puts all three in the systemd package)
{ command -v systemd-analyze && [ -x /usr/bin/systemd-socket-activate ]; } >/dev/null \
    || need+=(systemd)
# the OAuth tests run a real authorization server (oidc-provider 9: Node.js 20.19 or newer)
{ command -v node && command -v npm; } >/dev/null || need+=(nodejs npm)
# the keyring tests: gnome-keyring on a private D-Bus bus, looked at with secret-tool
{ command -v dbus-daemon && command -v dbus-run-session && command -v dbus-monitor; } >/dev/null \
    || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
command -v go >/dev/null || need+=(golang-go)  # the Go client's suite (clients/go: go test)
# the Rust client's suite (clients/rust): any cargo will do, rustup's or Debian's (1.63+)
{ command -v cargo || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; } >/dev/null || need+=(cargo)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "install these packages for the full test suite: ${need[*]}" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} (Debian packages the tests use)" >&2
# waits while another apt or dpkg run holds its locks (up to 10 minutes), then goes on
apt_get=(bash "$(dirname "$0")/apt-get-patiently.sh")
$sudo "${apt_get[@]}" update -qq >/dev/null
$sudo env DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "${need[@]}" >/dev/null
