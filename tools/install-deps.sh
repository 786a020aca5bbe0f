#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing claudecost need.
# Run as root; packages already present are left as they are.
set -euo pipefail

packages=(
    build-essential pkg-config ca-certificates
    postgresql-15 postgresql-server-dev-15 postgresql-common
    libpcre2-dev libcjson-dev
    clang libclang-rt-14-dev    # tokenizer fuzz harness (libFuzzer, sanitizers)
    chromium                    # headless rendering check of report_html()
)

# The PostgreSQL server runs as the postgres user, which must be able to
# reach /usr.  Some minimal root file systems (debootstrap images unpacked
# from a private temporary directory) have a root directory of mode 0700.
if [ "$(id -u)" = 0 ] && [ "$(stat -c %a /)" = 700 ]; then
    echo "install-deps: giving other users search permission on / (mode was 0700)" >&2
    chmod 755 /
fi

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
