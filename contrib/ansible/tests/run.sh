#!/usr/bin/env bash
# The nixconf.nixconf Ansible collection, end to end. Checks, each failing
# loudly:
# - check_docs.py: the module's DOCUMENTATION, EXAMPLES and RETURN parse and
#   its documented options are exactly its argument_spec; ansible-doc reads it;
# - test_module.py: unit tests of how nixconf's diffs become Ansible's;
# - playbook.yml, with ansible-playbook and the local connection against
#   temporary roots (a fresh Debian root from fixtures/install/fresh-debian,
#   and roots with nothing but root's accounts), asserting each step: the
#   install role copies the binary with mode 0755; check mode reports what
#   would change and leaves the tree identical; the first run changes, the
#   second does not; diff mode gives nix.conf's before and after; only a
#   changed setting is applied; a bad configuration (inline or a file) fails
#   with the option paths and writes nothing; state=absent (check mode
#   first) gives the root back identical (paths, types, modes, owners,
#   sizes, SHA-256, link targets: tree.sh) and a second revert does nothing;
#   warnings become Ansible warnings; hand edits need force; --generation is
#   passed only when set; an unknown plan JSON version is refused;
# - what ansible-playbook printed: nix.conf's diff, the warning, the recap.
#
# usage: contrib/ansible/tests/run.sh [NIXCONF_BINARY]
# (default: target/debug/nixconf of this checkout). Never touches / : every
# root is a temporary directory. Needs ansible-playbook (python3 -m pip
# install ansible-core); `cargo xtask ci` runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
binary=$(realpath "${1:-$repo/target/debug/nixconf}")

fail() {
    echo "FAIL: contrib/ansible/tests/run.sh: $*" >&2
    exit 1
}
command -v ansible-playbook >/dev/null || fail "ansible-playbook not installed (python3 -m pip install ansible-core)"
[ -x "$binary" ] || fail "no nixconf binary at $binary (cargo build -p nixconf-cli)"

# The module's documentation: it parses, and matches its argument_spec.
python=$(ansible-playbook --version | sed -n 's/^ *python version = .*(\([^()]*\))$/\1/p')
[ -x "$python" ] || fail "cannot tell which Python runs ansible-playbook"
PYTHONDONTWRITEBYTECODE=1 "$python" "$here/check_docs.py" \
    "$repo/contrib/ansible/ansible_collections/nixconf/nixconf/plugins/modules/nixconf.py" ||
    fail "the module's documentation does not match its argument_spec"
# Its diff handling, unit by unit.
PYTHONDONTWRITEBYTECODE=1 "$python" "$here/test_module.py" \
    "$repo/contrib/ansible/ansible_collections/nixconf/nixconf/plugins/modules/nixconf.py" ||
    fail "the module's unit tests"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/nixconf-ansible.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# A fresh Debian root, as fixtures/install/fresh-debian starts from.
fixture=$repo/fixtures/install/fresh-debian
mkdir "$scratch/debian"
cp -R "$fixture/before/." "$scratch/debian/"
while read -r what mode path; do
    [ "$what" = mode ] || fail "unknown line in $fixture/before.setup: $what"
    chmod "$mode" "$scratch/debian/$path"
done <"$fixture/before.setup"
# A root with nothing but root's accounts and Nix's programs where
# Debian's nix-bin puts them (the example's gc and optimise timers run
# them).
mkdir -p "$scratch/minimal/etc" "$scratch/minimal/usr/bin"
echo 'root:x:0:0:root:/root:/bin/sh' >"$scratch/minimal/etc/passwd"
echo 'root:x:0:' >"$scratch/minimal/etc/group"
: >"$scratch/minimal/usr/bin/nix-store"
: >"$scratch/minimal/usr/bin/nix-collect-garbage"
cp -R "$scratch/minimal" "$scratch/edited"
mkdir "$scratch/bin"

export ANSIBLE_HOME=$scratch/ansible-home
export ANSIBLE_LOCAL_TEMP=$scratch/ansible-tmp
export ANSIBLE_REMOTE_TMP=$scratch/ansible-tmp
export ANSIBLE_COLLECTIONS_PATH=$repo/contrib/ansible
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_DEPRECATION_WARNINGS=false
export ANSIBLE_STDOUT_CALLBACK=default

ansible-doc nixconf.nixconf.nixconf >"$scratch/doc.txt" 2>&1 ||
    { cat "$scratch/doc.txt" >&2; fail "ansible-doc cannot read the module"; }
grep -q '^> MODULE nixconf.nixconf.nixconf' "$scratch/doc.txt" || { cat "$scratch/doc.txt" >&2; fail "ansible-doc output"; }

log=$scratch/playbook.log
status=0
ansible-playbook -i localhost, -c local \
    -e "scratch=$scratch" -e "repo=$repo" -e "nixconf_source=$binary" \
    "$here/playbook.yml" >"$log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
    cat "$log" >&2
    fail "ansible-playbook exited with status $status"
fi

# What people see: diff mode prints nix.conf's diff, warnings are Ansible's,
# and the recap counts what changed and what failed on purpose.
expect() {
    grep -qF -- "$1" "$log" || { cat "$log" >&2; fail "the output lacks: $1"; }
}
expect '--- before: /etc/nix/nix.conf'
expect '+++ after: /etc/nix/nix.conf'
expect '-max-jobs = 4'
expect '+max-jobs = 8'
expect '[WARNING]: `nix.useSandbox` has been renamed to `nix.settings.sandbox`'
recap=$(grep -E '^localhost +:' "$log") || fail "no play recap"
echo "$recap" | grep -qE 'failed=0 ' || { cat "$log" >&2; fail "failures in the recap: $recap"; }
echo "$recap" | grep -qE 'ignored=7 ' || { cat "$log" >&2; fail "expected 7 expected failures: $recap"; }
tasks=$(grep -c '^TASK \[' "$log")
echo "contrib/ansible/tests/run.sh: ok ($tasks tasks; $recap)"
