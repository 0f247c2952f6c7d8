#!/usr/bin/env bash
# Installs the Debian packages the test suites need, only when they are missing.
#
# Runs before every `npm test`, so it must be idempotent and fast when everything
# is already present: it only calls `apt-get update` / `apt-get install` when at
# least one required command is not on PATH.
#
# To add a dependency, append a "command:package" pair to REQUIRED below
# (command = executable looked up on PATH, package = Debian package providing it).
set -euo pipefail

REQUIRED=(
  "rclone:rclone"
  "redis-server:redis-server"
  "openssl:openssl"
  "xxd:xxd"
  "chromium:chromium"
)

log() { printf 'install-test-deps: %s\n' "$*"; }
die() { printf 'install-test-deps: ERROR: %s\n' "$*" >&2; exit 1; }

missing_pkgs=()
for pair in "${REQUIRED[@]}"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  if [[ -z "$cmd" || -z "$pkg" || "$cmd" == "$pair" ]]; then
    die "malformed entry '$pair' (expected command:package)"
  fi
  if path="$(command -v "$cmd" 2>/dev/null)"; then
    log "ok       $pkg ($cmd -> $path)"
  else
    log "missing  $pkg ($cmd not found on PATH)"
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

# Verify every required command is now present.
failed=()
for pair in "${REQUIRED[@]}"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  if path="$(command -v "$cmd" 2>/dev/null)"; then
    log "ok       $pkg ($cmd -> $path)"
  else
    failed+=("$pkg")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  die "installed but still missing on PATH: ${failed[*]}"
fi
log "done"
