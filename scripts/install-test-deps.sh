#!/usr/bin/env bash
# Installs the Debian packages the test suites need, only when they are missing.
#
# Runs before every `npm test`, so it must be idempotent and fast when everything
# is already present: it only calls `apt-get update` / `apt-get install` when at
# least one required command is not on PATH.
#
# To add a dependency, append a "command:package" pair to REQUIRED below
# (command = executable looked up on PATH, or an absolute path to a file that must exist, for packages
# without a command such as fonts; package = Debian package providing it).
set -euo pipefail

# nginx (and other daemons) live in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac

REQUIRED=(
  "rclone:rclone"
  "redis-server:redis-server"
  "openssl:openssl"
  "xxd:xxd"
  "chromium:chromium"
  # Reverse proxy in front of two bridge instances (test/integration/cluster); the tests run their own nginx
  # as an unprivileged process with its own prefix and config, never the system one.
  "nginx:nginx"
  # CJK font, so chromium renders the zh-CN screenshots of the admin page with real glyphs.
  "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei"
)

log() { printf 'install-test-deps: %s\n' "$*"; }

# Where a requirement is found: a command on PATH, or an absolute path that exists. Prints it; fails when missing.
locate() {
  if [[ "$1" == /* ]]; then
    [[ -e "$1" ]] && printf '%s\n' "$1"
  else
    command -v "$1" 2>/dev/null
  fi
}
die() { printf 'install-test-deps: ERROR: %s\n' "$*" >&2; exit 1; }

missing_pkgs=()
for pair in "${REQUIRED[@]}"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  if [[ -z "$cmd" || -z "$pkg" || "$cmd" == "$pair" ]]; then
    die "malformed entry '$pair' (expected command:package)"
  fi
  if path="$(locate "$cmd")"; then
    log "ok       $pkg ($cmd -> $path)"
  else
    log "missing  $pkg ($cmd not found)"
    missing_pkgs+=("$pkg")
  fi
done

if [[ ${#missing_pkgs[@]} -eq 0 ]]; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 \
  || die "cannot install ${missing_pkgs[*]}: apt-get not available (not a Debian/Ubuntu machine?). Install them manually."

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    die "cannot install ${missing_pkgs[*]}: not root and passwordless sudo unavailable. Run: sudo apt-get install -y ${missing_pkgs[*]}"
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log "running apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
  || die "apt-get update failed; cannot install ${missing_pkgs[*]}"

log "installing ${missing_pkgs[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" \
  || die "apt-get install failed for: ${missing_pkgs[*]}"

# Debian's nginx package starts a system nginx on port 80 when it is installed. The tests never use it
# (they run their own on free ports), so stop it and keep it from starting at boot.
if [[ " ${missing_pkgs[*]} " == *" nginx "* ]]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
  else
    "${SUDO[@]}" update-rc.d nginx disable >/dev/null 2>&1 || true
  fi
  if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    "${SUDO[@]}" nginx -s quit 2>/dev/null || "${SUDO[@]}" kill "$(cat /run/nginx.pid)" 2>/dev/null || true
  fi
  log "stopped and disabled the system nginx the package started (tests run their own)"
fi

# Verify every required command is now present.
failed=()
for pair in "${REQUIRED[@]}"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  if path="$(locate "$cmd")"; then
    log "ok       $pkg ($cmd -> $path)"
  else
    failed+=("$pkg")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  die "installed but still missing on PATH: ${failed[*]}"
fi
log "done"
