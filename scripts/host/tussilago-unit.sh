#!/usr/bin/env bash
# Prints the `tussilago` systemd unit that runs `npm start` from a repository checkout (scripts/host-setup.sh installs
# it where systemd runs; scripts/host/tussilago-unit.test.ts checks it with `systemd-analyze verify`).
#
#   scripts/host/tussilago-unit.sh <repository> <npm> <node directory> <environment file>
set -euo pipefail

repo="${1:?the repository directory}"
npm="${2:?the path of npm}"
node_dir="${3:?the directory of node}"
env_file="${4:?the environment file with TUSSILAGO_SECRET_KEY}"

# systemd splits these lines on whitespace and expands % specifiers: refuse what it would misread instead of quoting.
for value in "$repo" "$npm" "$node_dir" "$env_file"; do
  [[ "$value" == /* && "$value" =~ ^[A-Za-z0-9_./+-]+$ ]] || {
    printf 'error: %s: an absolute path of letters, digits and ._/+- only\n' "$value" >&2
    exit 1
  }
done

cat <<UNIT
# Written by Tussilago's host setup (scripts/host-setup.sh); run it again instead of editing.
[Unit]
Description=Tussilago (npm start: PostgreSQL, tenant services, web server, worker)
Documentation=file://$repo/docs/operations.md
Wants=network-online.target
After=network-online.target tussilago-caddy.service

[Service]
Type=simple
WorkingDirectory=$repo
# TUSSILAGO_SECRET_KEY (mode 0600, root only); /etc/tussilago/host.env is read by the platform itself.
EnvironmentFile=$env_file
Environment=PATH=$node_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# npm runs the script through /bin/sh, which on Debian (dash) does not pass SIGTERM on: bash execs the command, so
# the supervisor gets the signal and stops its children in order.
Environment=npm_config_script_shell=/bin/bash
ExecStart=$npm start
# The supervisor restarts a crashed web server or worker itself; it exits non-zero only when that keeps failing.
Restart=on-failure
RestartSec=10
# SIGTERM to the supervisor alone (it stops the web server and worker, then the tenant services, then PostgreSQL);
# whatever is left after TimeoutStopSec is killed, and so is anything a crashed supervisor left behind.
KillMode=mixed
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT
