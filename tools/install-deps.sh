#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing claudecost need.
# Run as root; packages already present are left as they are.
set -euo pipefail

packages=(
    build-essential pkg-config ca-certificates
    postgresql-15 postgresql-server-dev-15 postgresql-common
    libpcre2-dev libcjson-dev
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
