#!/usr/bin/env bash
# Builds the admin editor's browser bundle into services/admin/static/dist:
# Node.js and npm from Debian's apt when missing, the locked packages (npm ci, from
# package-lock.json) when node_modules is missing or older than the lock, then esbuild.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "[admin-assets] node/npm missing: installing Debian's nodejs and npm"
    if [[ $(id -u) -eq 0 ]]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "[admin-assets] npm ci (versions from package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs
