#!/bin/sh
# Install, upgrade or remove the school library kiosk on Raspberry Pi OS Bookworm (Debian 12).
#
#   sudo systemd/install.sh [--scanner-usb VID:PID] [--card-usb VID:PID] [--desktop-user NAME]
#   sudo systemd/install.sh --hub              # also the central hub service (on the server)
#   sudo systemd/install.sh --uninstall [--purge]
#   systemd/install.sh --prefix /tmp/try      # everything under a folder, system left alone
#
# Safe to run again: it changes only what differs. When the code changed it is an upgrade: the
# service is stopped, the database is backed up, the code is installed, the database migrated,
# the service started. Config (/etc/kiosk) and data (/var/lib/kiosk) are never overwritten, and
# an uninstall keeps them unless --purge is given.
#
# --prefix DIR puts every path under DIR and writes DIR's paths into the units; DESTDIR=DIR puts
# the files under DIR but writes the real paths (for packaging; the venv's own scripts name the
# DIR path, so a package rebuilds it on the target). Either one skips the steps that change the
# running system (apt-get, useradd, chown, systemctl, udevadm); so does --no-system.
set -eu

usage() {
    sed -n '2,18s/^# \{0,1\}//p' "$0"
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

say() {
    echo "install.sh: $*"
}

ACTION=install
PURGE=0
SYSTEM=1
HUB=0
PREFIX=""
SCANNER_USB=""
CARD_USB=""
DESKTOP_USER=""
DESTDIR="${DESTDIR:-}"
PYTHON="${PYTHON:-python3}"
SRC=$(cd "$(dirname "$0")/.." && pwd)

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX="$2"; shift ;;
        --prefix=*) PREFIX="${1#--prefix=}" ;;
        --uninstall) ACTION=uninstall ;;
        --purge) PURGE=1 ;;
        --no-system) SYSTEM=0 ;;
        --hub) HUB=1 ;;
        --scanner-usb) [ $# -ge 2 ] || die "--scanner-usb needs VID:PID"; SCANNER_USB="$2"; shift ;;
        --card-usb) [ $# -ge 2 ] || die "--card-usb needs VID:PID"; CARD_USB="$2"; shift ;;
        --desktop-user) [ $# -ge 2 ] || die "--desktop-user needs a name"; DESKTOP_USER="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done

[ "$PURGE" = 0 ] || [ "$ACTION" = uninstall ] || die "--purge goes with --uninstall"
for id in "$SCANNER_USB" "$CARD_USB"; do
    case "$id" in
        ""|[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
        *) die "USB id '$id' must be VID:PID in lower-case hex, like 1a86:7523 (see lsusb)" ;;
    esac
done
PREFIX="${PREFIX%/}"
case "$PREFIX" in
    ""|/*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac
if [ -n "$PREFIX" ] || [ -n "$DESTDIR" ]; then
    SYSTEM=0
fi
if [ "$SYSTEM" = 1 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or use --prefix DIR to try it in a folder"
fi

# Paths as the installed system sees them, and where the files are written (DESTDIR in front).
OPT="$PREFIX/opt/kiosk"
ETC="$PREFIX/etc/kiosk"
VAR="$PREFIX/var/lib/kiosk"
HUBVAR="$PREFIX/var/lib/kiosk-hub"
UNITS="$PREFIX/etc/systemd/system"
UDEV="$PREFIX/etc/udev/rules.d"
BIN="$PREFIX/usr/local/bin"
D="$DESTDIR"
UNIT_FILES="kiosk.service kiosk-backup.service kiosk-backup.timer kiosk-hub.service"

# Run a command that changes the running system, or say that it was skipped.
system() {
    if [ "$SYSTEM" = 1 ]; then
        "$@"
    else
        say "skipped (not the live system): $*"
    fi
}

# Install a file only if its content or mode differs, so a second run changes nothing.
put() {
    src="$1" dest="$2" mode="$3"
    mkdir -p "$(dirname "$dest")"
    if ! cmp -s "$src" "$dest" 2>/dev/null; then
        cp "$src" "$dest.new"
        chmod "$mode" "$dest.new"
        mv -f "$dest.new" "$dest"
        say "wrote $dest"
    fi
    chmod "$mode" "$dest"
}

folder() {
    dir="$1" mode="$2"
    [ -d "$dir" ] || say "made $dir"
    mkdir -p "$dir"
    chmod "$mode" "$dir"
}

# Replace the real paths in a unit with the prefixed ones (nothing changes without --prefix).
render_paths() {
    sed -e "s#/opt/kiosk#$OPT#g" -e "s#/etc/kiosk#$ETC#g" \
        -e "s#/var/lib/kiosk#$VAR#g" "$1"
}

# Set `key = value` inside one [section] of a TOML file (used on a fresh config only).
set_key() {
    file="$1" section="$2" key="$3" value="$4"
    awk -v s="[$section]" -v k="$key" -v v="$value" '
        /^\[/ { inside = ($0 == s) }
        inside && $1 == k && $2 == "=" { print k " = " v; next }
        { print }
    ' "$file" >"$file.tmp"
    mv -f "$file.tmp" "$file"
}

source_hash() {
    (cd "$SRC" && find pyproject.toml config.example.toml kiosk -type f \
        ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort | xargs sha256sum) \
        | sha256sum | cut -c1-16
}

# Print the store's path from the config (relative paths are relative to the config's folder).
store_path() {
    "$PYTHON" - "$D$ETC/config.toml" <<'PY'
import sys, tomllib
from pathlib import Path
cfg = Path(sys.argv[1])
raw = tomllib.loads(cfg.read_text(encoding="utf-8"))
p = Path(raw.get("store", {}).get("path", "kiosk.db"))
print(p if p.is_absolute() else cfg.parent / p)
PY
}

# Copy the database with SQLite's online backup and check the copy before keeping it.
backup_before_upgrade() {
    db="$1" dest="$2"
    "$PYTHON" - "$db" "$dest" <<'PY'
import sqlite3, sys
from pathlib import Path
db, dest = sys.argv[1], Path(sys.argv[2])
dest.parent.mkdir(parents=True, exist_ok=True)
part = dest.with_name(dest.name + ".part")
src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
out = sqlite3.connect(part)
src.backup(out)
ok = out.execute("PRAGMA integrity_check").fetchone()[0]
out.close()
src.close()
if ok != "ok":
    part.unlink()
    sys.exit(f"backup of {db} failed its integrity check: {ok}")
part.replace(dest)
PY
}

as_kiosk() {
    if [ "$SYSTEM" = 1 ]; then
        # From /: the kiosk user may not be allowed into the folder the installer runs in.
        (cd / && runuser -u kiosk -- "$@")
    else
        "$@"
    fi
}

install_packages() {
    system apt-get update -qq
    extra="chromium"
    if [ "$SYSTEM" = 1 ]; then
        if apt-cache show chromium-browser >/dev/null 2>&1; then
            extra="chromium-browser" # Raspberry Pi OS's own build
        fi
        # The GPIO library is packaged for Raspberry Pi OS only (a hub on Debian goes without).
        if apt-cache show python3-lgpio >/dev/null 2>&1; then
            extra="$extra python3-lgpio"
        fi
    fi
    # shellcheck disable=SC2086 # one word per package
    system env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        python3 python3-venv sqlite3 curl ca-certificates $extra
}

make_user() {
    for group in input dialout gpio; do
        if [ "$SYSTEM" = 1 ] && ! getent group "$group" >/dev/null; then
            groupadd --system "$group"
        fi
    done
    if [ "$SYSTEM" = 1 ] && ! getent passwd kiosk >/dev/null; then
        useradd --system --user-group --home-dir "$VAR" --shell /usr/sbin/nologin kiosk
        say "made user kiosk"
    fi
    system usermod -a -G input,dialout,gpio kiosk
}

install_code() {
    want=$(source_hash)
    have=$(cat "$D$OPT/source-hash" 2>/dev/null || echo none)
    if [ "$want" = "$have" ]; then
        say "code is up to date ($want)"
        return 0
    fi
    if [ ! -x "$D$OPT/venv/bin/python" ]; then
        # System packages visible: Raspberry Pi OS ships the GPIO library (python3-lgpio) as one.
        "$PYTHON" -m venv --system-site-packages "$D$OPT/venv"
        say "made $D$OPT/venv"
    fi
    if [ "$have" != none ] && [ -f "$D$ETC/config.toml" ]; then
        db=$(store_path)
        if [ -f "$db" ]; then
            system systemctl stop kiosk.service
            saved="$(dirname "$db")/backups/before-upgrade-$(date -u +%Y%m%dT%H%M%S)-$have.db"
            backup_before_upgrade "$db" "$saved"
            [ "$SYSTEM" = 0 ] || chown kiosk:kiosk "$saved"
            say "upgrade: backed the database up to $saved"
        fi
    fi
    "$D$OPT/venv/bin/pip" install --quiet --disable-pip-version-check "$SRC"
    echo "$want" >"$D$OPT/source-hash.new"
    mv -f "$D$OPT/source-hash.new" "$D$OPT/source-hash"
    say "installed kiosk $want into $D$OPT/venv"
    CODE_CHANGED=1
    [ "$have" = none ] || UPGRADED=1
}

install_config() {
    folder "$D$ETC" 0750
    put "$SRC/config.example.toml" "$D$OPT/config.example.toml" 0644
    put "$SRC/docs/deploy.md" "$D$OPT/docs/deploy.md" 0644
    if [ -f "$D$ETC/config.toml" ]; then
        say "kept $D$ETC/config.toml"
        return 0
    fi
    tmp="$D$ETC/config.toml.new"
    cp "$SRC/config.example.toml" "$tmp"
    # The service may write only under the data folder, so every file it writes lives there.
    set_key "$tmp" store path "\"$VAR/kiosk.db\""
    set_key "$tmp" web secret_key_file "\"$VAR/web-secret.key\""
    set_key "$tmp" web password_file "\"$VAR/web-passwords.json\""
    set_key "$tmp" scanner source "\"evdev:/dev/input/kiosk-scanner\""
    set_key "$tmp" card_reader port "\"/dev/kiosk-card\""
    set_key "$tmp" indicator kind "\"gpio\""
    chmod 0640 "$tmp"
    mv -f "$tmp" "$D$ETC/config.toml"
    say "wrote $D$ETC/config.toml (edit it, then: sudo systemctl restart kiosk)"
}

install_hub_config() {
    if [ "$HUB" = 0 ] || [ -f "$D$ETC/hub.toml" ]; then
        return 0
    fi
    tmp="$D$ETC/hub.toml.new"
    cp "$SRC/config.example.toml" "$tmp"
    set_key "$tmp" kiosk id '"hub"'
    set_key "$tmp" store path "\"$HUBVAR/hub.db\""
    set_key "$tmp" web listen '"0.0.0.0:8090"'
    set_key "$tmp" web secret_key_file "\"$HUBVAR/web-secret.key\""
    set_key "$tmp" web password_file "\"$HUBVAR/web-passwords.json\""
    chmod 0640 "$tmp"
    mv -f "$tmp" "$D$ETC/hub.toml"
    [ "$SYSTEM" = 0 ] || chown root:kiosk "$D$ETC/hub.toml"
    say "wrote $D$ETC/hub.toml (edit it, then: sudo systemctl restart kiosk-hub)"
}

# Remember the USB ids given once, so that a later run without them keeps them.
install_udev() {
    ids="$D$ETC/usb-ids"
    touch "$ids.tmp"
    [ -f "$ids" ] && cp "$ids" "$ids.tmp"
    scanner=${SCANNER_USB:-$(sed -n 's/^scanner=//p' "$ids.tmp")}
    card=${CARD_USB:-$(sed -n 's/^card=//p' "$ids.tmp")}
    printf 'scanner=%s\ncard=%s\n' "$scanner" "$card" >"$ids.tmp"
    put "$ids.tmp" "$ids" 0644
    rm -f "$ids.tmp"
    rules="$D$UDEV/99-kiosk.rules.tmp"
    mkdir -p "$D$UDEV"
    sed -e "s/@SCANNER_VID@/${scanner%:*}/; s/@SCANNER_PID@/${scanner#*:}/" \
        -e "s/@CARD_VID@/${card%:*}/; s/@CARD_PID@/${card#*:}/" \
        -e "s/^@SCANNER@/$([ -n "$scanner" ] || echo '# ')/" \
        -e "s/^@CARD@/$([ -n "$card" ] || echo '# ')/" \
        "$SRC/systemd/99-kiosk.rules" >"$rules"
    put "$rules" "$D$UDEV/99-kiosk.rules" 0644
    rm -f "$rules"
    [ -n "$scanner" ] || say "no --scanner-usb VID:PID given: set [scanner] source by hand (docs/deploy.md)"
    [ -n "$card" ] || say "no --card-usb VID:PID given: set [card_reader] port by hand (docs/deploy.md)"
}

install_units() {
    for unit in $UNIT_FILES; do
        mkdir -p "$D$UNITS"
        render_paths "$SRC/systemd/$unit" >"$D$UNITS/$unit.tmp"
        put "$D$UNITS/$unit.tmp" "$D$UNITS/$unit" 0644
        rm -f "$D$UNITS/$unit.tmp"
    done
}

desktop_user() {
    user="$DESKTOP_USER"
    if [ -z "$user" ] && [ "$SYSTEM" = 1 ]; then
        # The desktop user: whoever ran sudo, else the first ordinary account (uid 1000).
        user="${SUDO_USER:-$(getent passwd 1000 | cut -d: -f1)}"
    fi
    [ -n "$user" ] && [ "$user" != root ] || return 1
    echo "$user"
}

desktop_home() {
    user=$(desktop_user) || return 1
    if [ "$SYSTEM" = 1 ]; then
        getent passwd "$user" | cut -d: -f6
    else
        echo "$PREFIX/home/$user"
    fi
}

AUTOSTART_LINE="$OPT/bin/kiosk-browser http://127.0.0.1:8080/ & # kiosk touchscreen"

install_command() {
    mkdir -p "$D$BIN"
    render_paths "$SRC/systemd/kiosk-command" >"$D$BIN/kiosk.tmp"
    put "$D$BIN/kiosk.tmp" "$D$BIN/kiosk" 0755
    rm -f "$D$BIN/kiosk.tmp"
}

install_browser() {
    put "$SRC/systemd/kiosk-browser" "$D$OPT/bin/kiosk-browser" 0755
    home=$(desktop_home) || {
        say "no desktop user: start $OPT/bin/kiosk-browser from the touchscreen's session yourself"
        return 0
    }
    autostart="$D$home/.config/labwc/autostart"
    if grep -qF "# kiosk touchscreen" "$autostart" 2>/dev/null; then
        return 0
    fi
    mkdir -p "$(dirname "$autostart")"
    echo "$AUTOSTART_LINE" >>"$autostart"
    if [ "$SYSTEM" = 1 ]; then
        chown -R "$(desktop_user):" "$home/.config/labwc"
    fi
    say "the touchscreen browser starts from $autostart"
}

install_data() {
    folder "$D$VAR" 0750
    folder "$D$VAR/backups" 0750
    if [ "$HUB" = 1 ]; then
        folder "$D$HUBVAR" 0750
    fi
    if [ "$SYSTEM" = 1 ]; then
        chown kiosk:kiosk "$VAR" "$VAR/backups"
        chown root:kiosk "$ETC" "$ETC/config.toml"
        [ "$HUB" = 0 ] || chown kiosk:kiosk "$HUBVAR"
    fi
}

# Create or migrate the database, only when it is missing or the code changed.
migrate() {
    if [ "$CODE_CHANGED" = 0 ] && [ -f "$(store_path)" ]; then
        return 0
    fi
    if [ -n "$DESTDIR" ]; then
        say "skipped (DESTDIR): kiosk init"
        return 0
    fi
    as_kiosk "$OPT/venv/bin/kiosk" --config "$ETC/config.toml" init
}

start_services() {
    system udevadm control --reload
    system udevadm trigger --subsystem-match=input --subsystem-match=tty
    system systemctl daemon-reload
    system systemctl enable kiosk.service kiosk-backup.timer
    if [ "$HUB" = 1 ]; then
        system systemctl enable --now kiosk-hub.service
    fi
    verb=start
    [ "$UPGRADED" = 0 ] || verb=restart
    system systemctl "$verb" kiosk.service ||
        say "the kiosk did not start: see journalctl -u kiosk, and run: sudo -u kiosk kiosk doctor"
    system systemctl start kiosk-backup.timer
}

uninstall() {
    system systemctl disable --now kiosk.service kiosk-backup.timer kiosk-hub.service
    for unit in $UNIT_FILES; do
        rm -f "$D$UNITS/$unit"
    done
    rm -f "$D$UDEV/99-kiosk.rules" "$D$BIN/kiosk"
    rm -rf "$D$OPT"
    system systemctl daemon-reload
    system udevadm control --reload
    if home=$(desktop_home) && [ -f "$D$home/.config/labwc/autostart" ]; then
        grep -vF "# kiosk touchscreen" "$D$home/.config/labwc/autostart" \
            >"$D$home/.config/labwc/autostart.tmp" || true
        mv -f "$D$home/.config/labwc/autostart.tmp" "$D$home/.config/labwc/autostart"
    fi
    if [ "$PURGE" = 1 ]; then
        rm -rf "$D$ETC" "$D$VAR" "$D$HUBVAR"
        if [ "$SYSTEM" = 1 ] && getent passwd kiosk >/dev/null; then
            userdel kiosk
        fi
        say "removed the kiosk, its config and its data"
    else
        say "removed the kiosk; kept config in $D$ETC and data in $D$VAR (--purge removes them)"
    fi
}

UPGRADED=0
CODE_CHANGED=0
if [ "$ACTION" = uninstall ]; then
    uninstall
    exit 0
fi
install_packages
make_user
install_config
install_code
install_data
install_hub_config
migrate
install_udev
install_units
install_command
install_browser
start_services
say "done. Check the set-up with: sudo -u kiosk $BIN/kiosk doctor"
