# Sourced by the callgrind benchmarks: makes a scratch directory $work
# (removed on exit) that the server user can write, and defines
# as_server_user, which runs a command as postgres when run as root (a
# PostgreSQL server refuses to run as root) and as the caller otherwise.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}
if [ "$(id -u)" = 0 ]; then
    chown postgres "$work"
fi
