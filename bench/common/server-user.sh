# Sourced by the callgrind benchmarks.  Makes a scratch directory $work,
# removed on exit, that the server user can write.  Defines as_server_user,
# which runs a command as postgres when called as root, because a
# PostgreSQL server does not run as root, and as the caller otherwise.
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
