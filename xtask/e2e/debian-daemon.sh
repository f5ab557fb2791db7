#!/usr/bin/env bash
# End to end on the real nix-daemon: take over Debian's nix-bin +
# nix-setup-systemd installation with nixconf (import, apply with a
# change), build a derivation through the daemon as a member of nix-users,
# check that a user outside nix-users is still refused, then revert and
# compare the tree byte for byte with the start.
#
# Everything happens in a private mount namespace with overlays over /etc,
# /nix, /root, /usr/lib and /home: the machine's own files are never
# touched.
#
# usage: debian-daemon.sh NIXCONF_BINARY
set -euo pipefail

nixconf=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)

skip() {
    printf '\n*** SKIPPED: %s; the end-to-end daemon test was NOT run ***\n\n' "$1" >&2
    exit 0
}
missing() {
    # CI installs these (.ci/run): missing there is a failure.
    if [ -n "${CI:-}" ]; then
        printf 'debian-daemon.sh: FAIL: %s (CI must install it)\n' "$1" >&2
        exit 1
    fi
    skip "$1"
}

if [ "${1:-}" != "--inside" ] && [ "${2:-}" != "--inside" ]; then
    [ "$(id -u)" = 0 ] || skip "not running as root"
    [ -x /usr/bin/nix-daemon ] || missing "Debian's nix-bin is not installed"
    [ -e /usr/lib/tmpfiles.d/nix-daemon.conf ] || missing "Debian's nix-setup-systemd is not installed"
    command -v systemd-tmpfiles >/dev/null || missing "systemd-tmpfiles is not installed"
    unshare -m --propagation private true 2>/dev/null || skip "unshare -m is not allowed here"
    work=$(mktemp -d /tmp/nixconf-e2e.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    status=0
    unshare -m --propagation private bash ${E2E_TRACE:+-x} "$here/debian-daemon.sh" "$nixconf" --inside "$work" || status=$?
    exit "$status"
fi

work=$3
fail() {
    printf 'debian-daemon.sh: FAIL: %s\n' "$*" >&2
    exit 1
}

# The overlays: every write below lands in $work.
mkdir -p /home
for d in /etc /nix /root /usr/lib /home; do
    mkdir -p "$work/upper$d" "$work/work$d"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$work/upper$d,workdir=$work/work$d" "$d"
done
mount -t tmpfs tmpfs /run 2>/dev/null || true

# Debian's state as its packages leave it: the socket directory from the
# package's tmpfiles rules (0770 root:nix-users), two users, one allowed.
systemd-tmpfiles --create /usr/lib/tmpfiles.d/nix-daemon.conf
useradd --uid 2001 --create-home --groups nix-users alice
useradd --uid 2002 --create-home bob
[ "$(stat -c '%a %U:%G' /nix/var/nix/daemon-socket)" = "770 root:nix-users" ] ||
    fail "the socket directory is not Debian's: $(stat -c '%a %U:%G' /nix/var/nix/daemon-socket)"

snapshot() {
    # Every file and directory nixconf may touch, with mode, owner and
    # contents. Left out: what the daemon itself makes while it builds
    # (its database, roots, locks, per-user directories, the uid pool
    # lock), and everything under /root but its top level (this machine's
    # own tools live there and may change meanwhile).
    local prune=(
        -path /nix/var/nix/db -o -path /nix/var/nix/daemon-socket/socket
        -o -path /nix/var/nix/temproots -o -path /nix/var/nix/gc.lock
        -o -path /nix/var/log -o -path /nix/var/nix/gcroots/auto
        -o -path /nix/var/nix/gcroots/per-user/alice -o -path /nix/var/nix/profiles/per-user/alice
        -o -path /nix/var/nix/userpool -o -path /nix/var/nix/current-load
        -o -path /etc/ld.so.cache
    )
    {
        find /etc /usr/lib/tmpfiles.d /nix/var -xdev \( "${prune[@]}" \) -prune -o -printf '%p %y %m %u:%g %l\n'
        find /root -maxdepth 1 -printf '%p %y %m %u:%g %l\n'
    } | sort
    {
        find /etc /usr/lib/tmpfiles.d /nix/var -xdev \( "${prune[@]}" \) -prune -o -type f -print0
        find /root -maxdepth 1 -type f -print0
    } | sort -z | xargs -0 sha256sum
}
snapshot > "$work/before.txt"

# Import, then a change of ours: more jobs, and keep-outputs.
"$nixconf" import -o "$work/nixconf.toml" 2> "$work/import.err" || fail "import: $(cat "$work/import.err")"
grep -q '^sandbox = false$' "$work/nixconf.toml" || fail "import lost Debian's sandbox = false"
sed -i 's/^\[nix.settings\]$/[nix.settings]\nmax-jobs = 3\nkeep-outputs = true/' "$work/nixconf.toml"
"$nixconf" plan --config "$work/nixconf.toml" > "$work/plan.txt" || fail "plan: $(cat "$work/plan.txt")"
"$nixconf" apply --config "$work/nixconf.toml" --yes > "$work/apply.txt" 2>&1 ||
    fail "apply: $(cat "$work/apply.txt")"
"$nixconf" plan --config "$work/nixconf.toml" > "$work/plan2.txt"
[ "$(cat "$work/plan2.txt")" = "up to date" ] || fail "plan after apply: $(cat "$work/plan2.txt")"
grep -q '^max-jobs = 3$' /etc/nix/nix.conf || fail "nix.conf has no max-jobs = 3"

# The real daemon reads what nixconf wrote.
nix-daemon --daemon > "$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    [ -S /nix/var/nix/daemon-socket/socket ] && break
    sleep 0.1
done
[ -S /nix/var/nix/daemon-socket/socket ] || fail "the daemon made no socket: $(cat "$work/daemon.log")"

cat > /home/alice/e2e.nix <<'EOF'
derivation {
  name = "nixconf-e2e";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo built by the daemon > $out" ];
}
EOF
chmod 644 /home/alice/e2e.nix
out=$(su alice -s /bin/sh -c 'NIX_REMOTE=daemon nix-build --no-out-link /home/alice/e2e.nix' 2> "$work/alice.err") ||
    fail "alice (in nix-users) could not build through the daemon: $(cat "$work/alice.err")"
[ "$(cat "$out")" = "built by the daemon" ] || fail "the build made $(cat "$out")"
if su bob -s /bin/sh -c "NIX_REMOTE=daemon nix-store --query --hash $out" 2> "$work/bob.err"; then
    fail "bob (not in nix-users) reached the daemon"
fi
grep -q 'Permission denied' "$work/bob.err" || fail "bob was refused, but not by the socket's permissions: $(cat "$work/bob.err")"
max_jobs=$(NIX_REMOTE=daemon nix --extra-experimental-features nix-command show-config | sed -n 's/^max-jobs = //p')
[ "$max_jobs" = 3 ] || fail "the daemon's max-jobs is $max_jobs"
kill "$daemon"
wait "$daemon" 2>/dev/null || true

# Revert: the tree as it was, byte for byte.
"$nixconf" revert > "$work/revert.txt" 2>&1 || fail "revert: $(cat "$work/revert.txt")"
snapshot > "$work/after.txt"
if ! diff -u "$work/before.txt" "$work/after.txt" > "$work/diff.txt"; then
    fail "revert did not restore the tree:
$(cat "$work/diff.txt")"
fi
echo "debian-daemon.sh: ok (import, apply, build as a nix-users member through the real daemon, a non-member refused, revert byte for byte)"
