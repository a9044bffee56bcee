#!/usr/bin/env bash
# Prepares a Debian 12 or Ubuntu 22.04+ host to run tenant apps for real: podman with gVisor (runsc), Caddy with
# its admin API on a unix socket, redis-server for tenant Redis, firewall rules isolating tenant networks, and a
# Python base image. Idempotent: run it again after an upgrade or to repair drift. Run as root.
#
#   sudo scripts/host-setup.sh [--apps-domain example.org] [--no-base-image] [--no-firewall] [--runsc-hostnet|--no-runsc-hostnet]
#        [--public-url https://paas.example.org] [--tls on|off] [--acme-email ops@example.org] [--acme-ca URL]
#        [--acme-ca-root /path/root.pem]
#
# What it changes (and how to undo it) is listed in docs/operations.md, section "Host setup".
set -euo pipefail

CONFIG_DIR=/etc/tussilago
HOST_ENV="$CONFIG_DIR/host.env"
RUN_DIR=/run/tussilago
CADDY_SOCKET="$RUN_DIR/caddy-admin.sock"
CADDY_CONFIG="$CONFIG_DIR/caddy.json"
CONTAINERS_DROPIN=/etc/containers/containers.conf.d/50-tussilago.conf
RUNSC_WRAPPER=/usr/local/bin/runsc-hostnet
BUILD_WRAPPER=/usr/local/bin/runsc-build
BUILD_HELPER=/usr/local/libexec/tussilago/runsc-build.py
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHAIN=TUSSILAGO-ISOLATION
BASE_IMAGE=localhost/tussilago-python
APPS_DOMAIN=localhost
WANT_BASE_IMAGE=1
WANT_FIREWALL=1
HOSTNET=auto
# HTTPS through Caddy (docs/configuration.md): written to host.env only when given.
PUBLIC_URL=
TLS_MODE=
ACME_EMAIL=
ACME_CA=
ACME_CA_ROOT=
# Caddy keeps its certificates and ACME account here (not in the unit's working directory, which would lose them).
CADDY_DATA_HOME=/var/lib/tussilago-caddy

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

while (($# > 0)); do
  case "$1" in
    --apps-domain) APPS_DOMAIN="${2:?--apps-domain needs a value}"; shift 2 ;;
    --no-base-image) WANT_BASE_IMAGE=0; shift ;;
    --no-firewall) WANT_FIREWALL=0; shift ;;
    --runsc-hostnet) HOSTNET=1; shift ;;
    --no-runsc-hostnet) HOSTNET=0; shift ;;
    --public-url) PUBLIC_URL="${2:?--public-url needs a value}"; shift 2 ;;
    --tls) TLS_MODE="${2:?--tls needs on or off}"; shift 2 ;;
    --acme-email) ACME_EMAIL="${2:?--acme-email needs a value}"; shift 2 ;;
    --acme-ca) ACME_CA="${2:?--acme-ca needs a value}"; shift 2 ;;
    --acme-ca-root) ACME_CA_ROOT="${2:?--acme-ca-root needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root: rootful podman is required by gVisor"
# shellcheck disable=SC1091
. /etc/os-release
case "${ID:-}" in
  debian|ubuntu) ;;
  *) die "this script supports Debian and Ubuntu (found ${ID:-unknown})" ;;
esac
[[ "$APPS_DOMAIN" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "--apps-domain must be a lower-case DNS name"
[[ -z "$TLS_MODE" || "$TLS_MODE" =~ ^(on|off)$ ]] || die "--tls must be on or off"
[[ -z "$PUBLIC_URL" || "$PUBLIC_URL" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?/?$ ]] || die "--public-url must look like https://paas.example.org"
[[ -z "$ACME_EMAIL" || "$ACME_EMAIL" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]] || die "--acme-email must be an email address"
[[ -z "$ACME_CA" || "$ACME_CA" =~ ^https://[A-Za-z0-9.:/_~-]+$ ]] || die "--acme-ca must be an https:// ACME directory URL"
[[ -z "$ACME_CA_ROOT" || ( "$ACME_CA_ROOT" =~ ^/[A-Za-z0-9._/-]+$ && -f "$ACME_CA_ROOT" ) ]] || die "--acme-ca-root must be an existing absolute path"

# 1. Packages ----------------------------------------------------------------------------------------------------
# git and openssh-client (ssh, ssh-keyscan): the worker clones git sources over https and ssh (docs/deploy-on-push.md).
# postgresql-client-15 (pg_dump, pg_restore): backups of tenant databases and of the platform (docs/operations.md).
packages=(podman runc catatonit python3 uidmap slirp4netns fuse-overlayfs caddy redis-server pgbouncer debootstrap iptables curl ca-certificates git openssh-client
  postgresql-client-15)
if apt-cache show runsc >/dev/null 2>&1; then
  packages+=(runsc)
elif ! command -v runsc >/dev/null 2>&1; then
  die "gVisor (runsc) is not in this distribution's repositories. Install it from gVisor's apt repository (https://gvisor.dev/docs/user_guide/install/), then run this script again."
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "packages already installed"
fi
# Debian starts these services on installation where systemd runs; the platform manages its own instances.
for service in caddy redis-server pgbouncer; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done

# 2. Podman configuration ------------------------------------------------------------------------------------------
# gVisor's own network stack fails on some kernels with the 2022 Debian build ("cannot run with network enabled in
# root network namespace"); the working form passes --network=host to runsc inside podman's per-container netns.
runsc_version=$(runsc --version 2>/dev/null | head -n1 || true)
if [[ "$HOSTNET" == auto ]]; then
  if [[ "$runsc_version" == *"release-2022"* || "$runsc_version" == *"20221219"* || "$runsc_version" == *"0.0~2022"* ]]; then
    HOSTNET=1
  else
    HOSTNET=0
  fi
fi
if [[ "$HOSTNET" == 1 ]]; then
  log "installing $RUNSC_WRAPPER (runsc with --network=host)"
  install -d -m 0755 "$(dirname "$RUNSC_WRAPPER")"
  cat >"$RUNSC_WRAPPER.tmp" <<EOF
#!/bin/sh
# Installed by Tussilago's host setup: gVisor with the host network stack inside podman's network namespace.
exec $(command -v runsc) --network=host "\$@"
EOF
  chmod 0755 "$RUNSC_WRAPPER.tmp"
  mv "$RUNSC_WRAPPER.tmp" "$RUNSC_WRAPPER"
  RUNTIME=runsc-hostnet
else
  RUNTIME=runsc
fi
runtime_path=$([[ "$RUNTIME" == runsc-hostnet ]] && echo "$RUNSC_WRAPPER" || command -v runsc)

# RUN steps of builds execute tenant code under the same runtime, through a wrapper that tolerates runsc's
# `delete` timing out on buildah's zombies, which otherwise fails every RUN step
# (scripts/host/runsc-build.py says why).
log "installing $BUILD_WRAPPER (the build runtime: $RUNTIME, tolerant of buildah's delete)"
install -D -m 0755 "$SCRIPT_DIR/host/runsc-build.py" "$BUILD_HELPER"
cat >"$BUILD_WRAPPER.tmp" <<EOF
#!/bin/sh
# Installed by Tussilago's host setup: $RUNTIME for the RUN steps of podman build.
# The distribution's Python, not whatever a user's PATH finds first (pyenv shims and the like).
exec /usr/bin/python3 $BUILD_HELPER $runtime_path "\$@"
EOF
chmod 0755 "$BUILD_WRAPPER.tmp"
mv "$BUILD_WRAPPER.tmp" "$BUILD_WRAPPER"

cgroup_type=$(stat -fc %T /sys/fs/cgroup/)
log "writing $CONTAINERS_DROPIN (cgroups: $([[ $cgroup_type == cgroup2fs ]] && echo v2 || echo v1/hybrid), runtime: $RUNTIME)"
install -d -m 0755 "$(dirname "$CONTAINERS_DROPIN")"
{
  echo "# Written by Tussilago's host setup; run scripts/host-setup.sh again instead of editing."
  echo "[containers]"
  echo 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]'
  echo "[engine]"
  if [[ "$cgroup_type" != cgroup2fs ]]; then
    # crun refuses hybrid cgroups and the systemd manager is not available everywhere: docs/operations.md.
    echo 'cgroup_manager = "cgroupfs"'
    echo 'runtime = "runc"'
  fi
  echo 'events_logger = "file"'
  echo "[engine.runtimes]"
  echo "runsc = [\"$(command -v runsc)\"]"
  [[ "$HOSTNET" == 1 ]] && echo "runsc-hostnet = [\"$RUNSC_WRAPPER\"]"
  echo "runsc-build = [\"$BUILD_WRAPPER\"]"
} >"$CONTAINERS_DROPIN.tmp"
mv "$CONTAINERS_DROPIN.tmp" "$CONTAINERS_DROPIN"

for file in /etc/subuid /etc/subgid; do
  touch "$file"
  grep -q '^containers:' "$file" || echo 'containers:2147483647:2147483648' >>"$file"
done

podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1 || die "podman does not work yet: run 'podman info' to see why"

# 3. Caddy, admin API on a unix socket only tenants cannot reach ------------------------------------------------
install -d -m 0750 "$CONFIG_DIR" "$RUN_DIR"
install -d -m 0700 "$CADDY_DATA_HOME"
if [[ ! -f "$CADDY_CONFIG" ]]; then
  log "writing $CADDY_CONFIG"
  cat >"$CADDY_CONFIG" <<EOF
{
  "admin": { "listen": "unix/$CADDY_SOCKET" },
  "apps": {
    "http": {
      "servers": {
        "tussilago": {
          "listen": [":80"],
          "automatic_https": { "disable": true },
          "routes": [{ "@id": "tsl-fallback", "handle": [{ "handler": "static_response", "status_code": 404, "body": "Not found" }] }]
        }
      }
    }
  }
}
EOF
fi
if ! curl -fsS --unix-socket "$CADDY_SOCKET" http://localhost/config/ -H 'Host;' >/dev/null 2>&1; then
  log "starting caddy (admin API on $CADDY_SOCKET)"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    cat >/etc/systemd/system/tussilago-caddy.service <<EOF
[Unit]
Description=Caddy for Tussilago (admin API on a unix socket)
After=network-online.target

[Service]
ExecStart=$(command -v caddy) run --config $CADDY_CONFIG --resume
Environment=XDG_DATA_HOME=$CADDY_DATA_HOME XDG_CONFIG_HOME=$CADDY_DATA_HOME
Restart=on-failure
RuntimeDirectory=tussilago
RuntimeDirectoryPreserve=yes

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable --now tussilago-caddy.service
  else
    # No systemd (containers, CI machines): start it in the background; re-run this script after a reboot.
    XDG_DATA_HOME="$CADDY_DATA_HOME" XDG_CONFIG_HOME="$CADDY_DATA_HOME" \
      nohup "$(command -v caddy)" run --config "$CADDY_CONFIG" --resume >/var/log/tussilago-caddy.log 2>&1 &
  fi
  for _ in $(seq 1 50); do
    [[ -S "$CADDY_SOCKET" ]] && break
    sleep 0.2
  done
  [[ -S "$CADDY_SOCKET" ]] || die "caddy did not open $CADDY_SOCKET; see /var/log/tussilago-caddy.log"
fi
chmod 0660 "$CADDY_SOCKET"

# 4. Firewall: tenant networks reach the internet and the tenant data services, nothing else on the host ---------
# The tenant data services (tenant PostgreSQL and redis-server, started by `npm start`) listen on fixed ports so that
# exactly those can be opened to tenant networks. The ports come from, in order: the environment of this script, the
# existing host.env, the ports the platform already uses (<data dir>/tenant-services.json, so attached apps keep
# working), else the defaults below. They are written to host.env, which the platform reads at start (lib/env.ts),
# so the platform listens on the very ports the firewall opens. TENANT_SERVICE_PORTS (space-separated) adds more,
# e.g. an external PgBouncer's; the port of TENANT_PGBOUNCER_URL is added when it is configured.
DEFAULT_TENANT_PG_PORT=15432
DEFAULT_TENANT_REDIS_PORT=16379
DEFAULT_TENANT_PGBOUNCER_PORT=16432

host_env_value() {
  [[ -f "$HOST_ENV" ]] || return 0
  sed -n "s/^$1=//p" "$HOST_ENV" | tail -n 1
}

# The port the running platform chose for a tenant server ("postgresPort" or "redisPort"), if it ever started.
state_port() {
  local data_dir="${TUSSILAGO_DATA_DIR:-$(host_env_value TUSSILAGO_DATA_DIR)}"
  data_dir="${data_dir:-/var/lib/tussilago}"
  [[ -f "$data_dir/tenant-services.json" ]] || return 0
  python3 -c 'import json, sys
try:
    value = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    value = None
print(value if isinstance(value, int) else "")' "$data_dir/tenant-services.json" "$1"
}

valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

TENANT_PG_PORT="${TENANT_PG_PORT:-$(host_env_value TENANT_PG_PORT)}"
TENANT_PG_PORT="${TENANT_PG_PORT:-$(state_port postgresPort)}"
TENANT_PG_PORT="${TENANT_PG_PORT:-$DEFAULT_TENANT_PG_PORT}"
TENANT_REDIS_PORT="${TENANT_REDIS_PORT:-$(host_env_value TENANT_REDIS_PORT)}"
TENANT_REDIS_PORT="${TENANT_REDIS_PORT:-$(state_port redisPort)}"
TENANT_REDIS_PORT="${TENANT_REDIS_PORT:-$DEFAULT_TENANT_REDIS_PORT}"
valid_port "$TENANT_PG_PORT" || die "TENANT_PG_PORT must be a port number (got '$TENANT_PG_PORT')"
valid_port "$TENANT_REDIS_PORT" || die "TENANT_REDIS_PORT must be a port number (got '$TENANT_REDIS_PORT')"
service_ports=("$TENANT_PG_PORT" "$TENANT_REDIS_PORT")
# The embedded PgBouncer (TENANT_PGBOUNCER=embedded) is where apps connect: its port is fixed and opened too.
TENANT_PGBOUNCER="${TENANT_PGBOUNCER:-$(host_env_value TENANT_PGBOUNCER)}"
if [[ "$TENANT_PGBOUNCER" == embedded ]]; then
  TENANT_PGBOUNCER_PORT="${TENANT_PGBOUNCER_PORT:-$(host_env_value TENANT_PGBOUNCER_PORT)}"
  TENANT_PGBOUNCER_PORT="${TENANT_PGBOUNCER_PORT:-$(state_port pgBouncerPort)}"
  TENANT_PGBOUNCER_PORT="${TENANT_PGBOUNCER_PORT:-$DEFAULT_TENANT_PGBOUNCER_PORT}"
  valid_port "$TENANT_PGBOUNCER_PORT" || die "TENANT_PGBOUNCER_PORT must be a port number (got '$TENANT_PGBOUNCER_PORT')"
  service_ports+=("$TENANT_PGBOUNCER_PORT")
fi
pgbouncer_url="${TENANT_PGBOUNCER_URL:-$(host_env_value TENANT_PGBOUNCER_URL)}"
if [[ "$pgbouncer_url" =~ :([0-9]{1,5})/?$ ]]; then
  service_ports+=("${BASH_REMATCH[1]}")
fi
for port in ${TENANT_SERVICE_PORTS:-}; do
  valid_port "$port" || die "TENANT_SERVICE_PORTS must list port numbers (got '$port')"
  service_ports+=("$port")
done
# Sorted and without duplicates, so the chain is the same on every run.
mapfile -t service_ports < <(printf '%s\n' "${service_ports[@]}" | sort -n -u)

if [[ "$WANT_FIREWALL" == 1 ]]; then
  log "installing firewall chain $CHAIN"
  iptables -N "$CHAIN" 2>/dev/null || iptables -F "$CHAIN"
  # Replies to connections the host or the internet started are fine.
  iptables -A "$CHAIN" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  # Cloud metadata and link-local services.
  iptables -A "$CHAIN" -d 169.254.0.0/16 -j DROP
  # Other tenants' networks: podman bridges never forward to each other.
  iptables -A "$CHAIN" -o podman+ -j DROP
  iptables -A "$CHAIN" -o cni-podman+ -j DROP
  iptables -A "$CHAIN" -j RETURN
  for hook in FORWARD; do
    iptables -C "$hook" -i podman+ -j "$CHAIN" 2>/dev/null || iptables -I "$hook" 1 -i podman+ -j "$CHAIN"
    iptables -C "$hook" -i cni-podman+ -j "$CHAIN" 2>/dev/null || iptables -I "$hook" 1 -i cni-podman+ -j "$CHAIN"
  done
  # The host itself (portal, platform PostgreSQL, Caddy admin, SSH...): closed to tenant networks, except the
  # tenant data services' ports (above).
  log "opening the tenant data services' ports to tenant networks: ${service_ports[*]}"
  iptables -N "$CHAIN-INPUT" 2>/dev/null || iptables -F "$CHAIN-INPUT"
  iptables -A "$CHAIN-INPUT" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  for port in "${service_ports[@]}"; do
    iptables -A "$CHAIN-INPUT" -p tcp --dport "$port" -j RETURN
  done
  iptables -A "$CHAIN-INPUT" -j DROP
  iptables -C INPUT -i podman+ -j "$CHAIN-INPUT" 2>/dev/null || iptables -I INPUT 1 -i podman+ -j "$CHAIN-INPUT"
  iptables -C INPUT -i cni-podman+ -j "$CHAIN-INPUT" 2>/dev/null || iptables -I INPUT 1 -i cni-podman+ -j "$CHAIN-INPUT"
else
  warn "--no-firewall: tenant networks can reach the host's ports and metadata services"
fi

# 5. Base image: built from Debian packages when no registry is reachable ----------------------------------------
python_version=$(. /etc/os-release; case "$VERSION_ID" in 12) echo 3.11 ;; 13) echo 3.13 ;; 22.04) echo 3.10 ;; 24.04) echo 3.12 ;; *) echo 3.11 ;; esac)
if [[ "$WANT_BASE_IMAGE" == 1 ]]; then
  if podman image exists "$BASE_IMAGE:$python_version"; then
    log "base image $BASE_IMAGE:$python_version present"
  else
    log "building $BASE_IMAGE:$python_version from Debian packages (a few minutes)"
    rootfs=$(mktemp -d /var/tmp/tussilago-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      "${VERSION_CODENAME:-bookworm}" "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/var/log/tussilago-debootstrap.log 2>&1 \
      || die "debootstrap failed; see /var/log/tussilago-debootstrap.log"
    tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE:$python_version" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
fi

# 6. What the platform needs to know --------------------------------------------------------------------------------
log "writing $HOST_ENV"
# TENANT_* settings an operator added by hand (an external tenant server, public hosts) are kept.
kept_tenant_lines=$([[ -f "$HOST_ENV" ]] && grep -E '^TENANT_[A-Z0-9_]+=' "$HOST_ENV" | grep -vE '^TENANT_(PG|REDIS|PGBOUNCER)_PORT=' || true)
{
  echo "# Written by Tussilago's host setup ($(date -u +%Y-%m-%dT%H:%M:%SZ)). Environment variables override these."
  echo "TUSSILAGO_OCI_RUNTIME=$RUNTIME"
  echo "TUSSILAGO_BUILD_RUNTIME=runsc-build"
  echo "TUSSILAGO_PODMAN_PATH=$(command -v podman)"
  echo "TUSSILAGO_CADDY_ADMIN=unix:$CADDY_SOCKET"
  echo "TUSSILAGO_APPS_DOMAIN=$APPS_DOMAIN"
  # HTTPS: Caddy listens on :443 too once TLS is on (the worker loads that config). The portal is served through Caddy
  # when the public URL is https; the web server then trusts one proxy by default (lib/env.ts, trustedProxies).
  if [[ -n "$PUBLIC_URL" ]]; then echo "TUSSILAGO_PUBLIC_URL=${PUBLIC_URL%/}"; fi
  if [[ -n "$TLS_MODE" ]]; then echo "TUSSILAGO_TLS=$TLS_MODE"; fi
  if [[ -n "$ACME_EMAIL" ]]; then echo "TUSSILAGO_ACME_EMAIL=$ACME_EMAIL"; fi
  if [[ -n "$ACME_CA" ]]; then echo "TUSSILAGO_ACME_CA=$ACME_CA"; fi
  if [[ -n "$ACME_CA_ROOT" ]]; then echo "TUSSILAGO_ACME_CA_ROOT=$ACME_CA_ROOT"; fi
  if [[ "$WANT_BASE_IMAGE" == 1 ]]; then
    # The local image has one Python version; apps asking for another need a registry image.
    echo "TUSSILAGO_PYTHON_IMAGE=$BASE_IMAGE:{version}"
    echo "TUSSILAGO_PYTHON_VERSION=$python_version"
  fi
  echo "TUSSILAGO_FIREWALL_CHAIN=$([[ $WANT_FIREWALL == 1 ]] && echo "$CHAIN" || echo none)"
  # The embedded tenant servers listen here; the firewall opens exactly these (and TENANT_SERVICE_PORTS).
  echo "TENANT_PG_PORT=$TENANT_PG_PORT"
  echo "TENANT_REDIS_PORT=$TENANT_REDIS_PORT"
  if [[ "$TENANT_PGBOUNCER" == embedded ]]; then echo "TENANT_PGBOUNCER_PORT=$TENANT_PGBOUNCER_PORT"; fi
  if [[ -n "$kept_tenant_lines" ]]; then printf '%s\n' "$kept_tenant_lines"; fi
} >"$HOST_ENV.tmp"
# Readable by everyone unless an operator kept admin URLs (with passwords) in it: then root only, which the
# platform is (rootful podman).
if grep -q '^TENANT_[A-Z_]*_URL=' "$HOST_ENV.tmp"; then chmod 0600 "$HOST_ENV.tmp"; else chmod 0644 "$HOST_ENV.tmp"; fi
mv "$HOST_ENV.tmp" "$HOST_ENV"

# 7. The tussilago service, where systemd runs ----------------------------------------------------------------------
# `npm start` from this checkout as root, restarted on failure; the supervisor itself restarts a crashed web server or
# worker. Installed, not enabled: an operator who runs `npm start` by hand must not get a second instance at boot.
SERVICE_ENV="$CONFIG_DIR/tussilago.env"
SERVICE_UNIT=/etc/systemd/system/tussilago.service
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  npm_path=$(command -v npm || true)
  node_path=$(command -v node || true)
  if [[ -z "$npm_path" || -z "$node_path" ]]; then
    warn "node and npm are not on root's PATH: the tussilago systemd unit is not installed"
  else
    if [[ ! -f "$SERVICE_ENV" ]]; then
      data_dir="${TUSSILAGO_DATA_DIR:-$(host_env_value TUSSILAGO_DATA_DIR)}"
      data_dir="${data_dir:-/var/lib/tussilago}"
      secret_key="${TUSSILAGO_SECRET_KEY:-}"
      # A new key for existing data would make its stored secrets unreadable: only a host without data gets one.
      if [[ -z "$secret_key" && ! -e "$data_dir/postgres" ]]; then
        secret_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
      fi
      if [[ -n "$secret_key" ]]; then
        # systemd would read quotes, backslashes and spaces in an environment file as syntax.
        [[ "$secret_key" =~ ^[A-Za-z0-9_.+/=-]+$ ]] || die "TUSSILAGO_SECRET_KEY may hold letters, digits and _.+/=- only"
        log "writing $SERVICE_ENV (TUSSILAGO_SECRET_KEY, mode 0600)"
        (umask 077 && printf 'TUSSILAGO_SECRET_KEY=%s\n' "$secret_key" >"$SERVICE_ENV.tmp")
        mv "$SERVICE_ENV.tmp" "$SERVICE_ENV"
      else
        warn "$data_dir holds data and TUSSILAGO_SECRET_KEY is not set: write TUSSILAGO_SECRET_KEY=<its key> to $SERVICE_ENV (mode 0600) before starting the tussilago service"
      fi
    fi
    if [[ -f "$SERVICE_ENV" ]]; then
      chown root:root "$SERVICE_ENV"
      chmod 0600 "$SERVICE_ENV"
    fi
    log "writing $SERVICE_UNIT (npm start in $(cd "$SCRIPT_DIR/.." && pwd))"
    "$SCRIPT_DIR/host/tussilago-unit.sh" "$(cd "$SCRIPT_DIR/.." && pwd)" "$npm_path" "$(dirname "$node_path")" "$SERVICE_ENV" >"$SERVICE_UNIT.tmp"
    chmod 0644 "$SERVICE_UNIT.tmp"
    mv "$SERVICE_UNIT.tmp" "$SERVICE_UNIT"
    systemctl daemon-reload
    log "start the platform at boot with: systemctl enable --now tussilago"
  fi
fi

log "done. Check the host with: npm run manage -- check"
