#!/bin/sh
# Check every unit in systemd/ with `systemd-analyze verify`, as it will be installed.
#
# The units name /opt/kiosk/venv/bin/kiosk, which does not exist on a build machine, and verify
# refuses a unit whose program is missing. So the units are checked inside a scratch root: the
# host's own system units (for multi-user.target and friends), our units in /etc/systemd/system,
# and this checkout's `kiosk` command copied to the installed path. systemd-analyze only warns
# about unknown keys or bad values (exit code 0), so any output at all counts as a failure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kiosk_cmd="${1:-$here/../.venv/bin/kiosk}"
[ -x "$kiosk_cmd" ] || { echo "verify-units: $kiosk_cmd is missing; run make first" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/opt/kiosk/venv/bin" "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
ln -s usr/lib "$root/lib"
install -m 0755 "$kiosk_cmd" "$root/opt/kiosk/venv/bin/kiosk"

units=""
for unit in "$here"/*.service "$here"/*.timer; do
    cp "$unit" "$root/etc/systemd/system/"
    units="$units $(basename "$unit")"
done
# shellcheck disable=SC2086 # one word per unit
out=$(systemd-analyze verify --root="$root" $units 2>&1) || {
    echo "$out" >&2
    exit 1
}
if [ -n "$out" ]; then
    echo "$out" >&2
    echo "verify-units: systemd-analyze found problems (above)" >&2
    exit 1
fi
echo "verify-units: ok:$units"
