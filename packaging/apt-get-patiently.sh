#!/usr/bin/env bash
# apt-get that waits for another apt or dpkg run (unattended-upgrades, a second `make test`)
# to finish, instead of failing at once on its lock:   apt-get-patiently.sh ARGS...
#
# `-o DPkg::Lock::Timeout` makes apt-get itself wait for dpkg's locks, but not for the
# package lists' lock that `apt-get update` takes, nor for the archives' lock (apt 2.6
# fails at once on both): those are retried here every 2 s. APT_LOCK_WAIT (default 600)
# bounds the wait in seconds.
set -uo pipefail
limit="${APT_LOCK_WAIT:-600}"
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
waited=0
while true; do
    # C messages: the lock error is recognised by its text
    LC_ALL=C apt-get -o DPkg::Lock::Timeout="$limit" "$@" 2>"$errors"
    status=$?
    if [ "$status" -eq 0 ] || ! grep -q "Could not get lock" "$errors" || [ "$waited" -ge "$limit" ]; then
        cat "$errors" >&2
        exit "$status"
    fi
    if [ "$waited" -eq 0 ]; then
        echo "apt-get: waiting up to ${limit}s for another apt or dpkg run to finish:" \
            "$(grep -m1 "Could not get lock" "$errors")" >&2
    fi
    sleep 2
    waited=$((waited + 2))
done
