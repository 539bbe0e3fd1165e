"""Running on a Raspberry Pi: systemd notifications, backups, restore and `kiosk doctor`."""
