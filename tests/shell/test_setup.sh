#!/bin/sh
# scripts/setup.sh against fake `id`, `sudo`, `apt-get` and `dpkg-query` on a
# PATH that holds nothing else: it installs exactly the missing packages, after
# `apt-get update`, directly as root and through sudo otherwise, fails with a
# message when it is neither root nor has sudo, runs nothing with --dry-run,
# and touches nothing when every package is there.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fake="$tmp/bin"
log="$tmp/log"
mkdir -p "$fake"
ln -s "$(command -v env)" "$fake/env"
shell=$(command -v sh)

# id -u prints FAKE_UID.
cat >"$fake/id" <<'EOF'
#!/bin/sh
[ "$1" = -u ] && echo "$FAKE_UID"
EOF
# sudo logs its arguments and runs them.
cat >"$fake/sudo" <<'EOF'
#!/bin/sh
echo "sudo $*" >>"$FAKE_LOG"
exec "$@"
EOF
# apt-get logs its arguments and DEBIAN_FRONTEND; FAKE_APT_FAIL=1 makes install fail.
cat >"$fake/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $* (DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset})" >>"$FAKE_LOG"
[ "$1" = install ] && [ "${FAKE_APT_FAIL:-0}" = 1 ] && exit 100
exit 0
EOF
# dpkg-query -W -f=FORMAT PKG: "installed" for the packages in FAKE_INSTALLED,
# "config-files" for those in FAKE_REMOVED, else dpkg-query's error and exit 1.
cat >"$fake/dpkg-query" <<'EOF'
#!/bin/sh
for p; do :; done
case " $FAKE_INSTALLED " in *" $p "*) printf installed; exit 0 ;; esac
case " ${FAKE_REMOVED:-} " in *" $p "*) printf config-files; exit 0 ;; esac
echo "dpkg-query: no packages found matching $p" >&2
exit 1
EOF
chmod +x "$fake/id" "$fake/sudo" "$fake/apt-get" "$fake/dpkg-query"

fail() { echo "FAIL: $*"; exit 1; }
all="build-essential pkg-config libblis-dev check python3"
apt_env="env DEBIAN_FRONTEND=noninteractive apt-get"

# setup UID INSTALLED [OPTIONS...]: runs the script, its output in $tmp/out,
# its exit status in $rc, what the fakes ran in $log.
setup() {
    uid=$1 installed=$2
    shift 2
    : >"$log"
    rc=0
    PATH="$fake" FAKE_UID="$uid" FAKE_INSTALLED="$installed" FAKE_LOG="$log" \
        "$shell" scripts/setup.sh "$@" >"$tmp/out" 2>&1 || rc=$?
}
expect_log() {
    printf '%s\n' "$@" >"$tmp/want"
    diff -u "$tmp/want" "$log" || fail "$case: other commands ran"
}

case="root, two packages missing"
setup 0 "build-essential pkg-config python3"
[ "$rc" -eq 0 ] || fail "$case: exit $rc"
expect_log "apt-get update (DEBIAN_FRONTEND=noninteractive)" \
    "apt-get install -y --no-install-recommends libblis-dev check (DEBIAN_FRONTEND=noninteractive)"
grep -q '^setup.sh: missing packages: libblis-dev check$' "$tmp/out" || fail "$case: no list"

case="user with sudo, one package missing"
setup 1000 "build-essential pkg-config libblis-dev python3"
[ "$rc" -eq 0 ] || fail "$case: exit $rc"
expect_log "sudo $apt_env update" "apt-get update (DEBIAN_FRONTEND=noninteractive)" \
    "sudo $apt_env install -y --no-install-recommends check" \
    "apt-get install -y --no-install-recommends check (DEBIAN_FRONTEND=noninteractive)"

case="user with sudo, nothing missing"
setup 1000 "$all"
[ "$rc" -eq 0 ] || fail "$case: exit $rc"
[ ! -s "$log" ] || fail "$case: ran $(cat "$log")"
grep -q '^setup.sh: every package needed is installed' "$tmp/out" || fail "$case: no message"

case="removed package with its configuration kept"
FAKE_REMOVED=check
export FAKE_REMOVED
setup 0 "build-essential pkg-config libblis-dev python3"
unset FAKE_REMOVED
expect_log "apt-get update (DEBIAN_FRONTEND=noninteractive)" \
    "apt-get install -y --no-install-recommends check (DEBIAN_FRONTEND=noninteractive)"

case="dry run as a user with sudo"
setup 1000 "build-essential python3" --dry-run
[ "$rc" -eq 0 ] || fail "$case: exit $rc"
[ ! -s "$log" ] || fail "$case: ran $(cat "$log")"
grep -qx "sudo $apt_env update" "$tmp/out" || fail "$case: no update line"
grep -qx "sudo $apt_env install -y --no-install-recommends pkg-config libblis-dev check" \
    "$tmp/out" || fail "$case: no install line"

case="dry run as root"
setup 0 "" --dry-run
grep -qx "$apt_env install -y --no-install-recommends $all" "$tmp/out" || fail "$case"
[ ! -s "$log" ] || fail "$case: ran $(cat "$log")"

case="install fails"
FAKE_APT_FAIL=1
export FAKE_APT_FAIL
setup 0 ""
unset FAKE_APT_FAIL
[ "$rc" -eq 1 ] || fail "$case: exit $rc"
grep -q "^setup.sh: this failed: $apt_env install -y" "$tmp/out" || fail "$case: no message"

# Without sudo on the PATH from here on.
rm "$fake/sudo"
case="user without sudo, packages missing"
setup 1000 "build-essential"
[ "$rc" -eq 1 ] || fail "$case: exit $rc"
[ ! -s "$log" ] || fail "$case: ran $(cat "$log")"
grep -q 'needs root' "$tmp/out" || fail "$case: no reason given"
grep -q "apt-get install -y --no-install-recommends pkg-config libblis-dev check python3$" \
    "$tmp/out" || fail "$case: no command for an administrator"

case="user without sudo, nothing missing"
setup 1000 "$all"
[ "$rc" -eq 0 ] || fail "$case: exit $rc"

# The groups: each package once, in order; .ci/run installs the --ci list.
case="--extras --ci"
setup 0 "$all" --list --extras --ci
[ "$rc" -eq 0 ] || fail "$case: exit $rc"
[ "$(sort "$tmp/out" | uniq -d)" = "" ] || fail "$case: a package twice"
[ "$(head -n 12 "$tmp/out" | tr '\n' ' ')" = "$all python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel python3-venv python3-torch " ] ||
    fail "$case: $(tr '\n' ' ' <"$tmp/out")"
grep -qx abigail-tools "$tmp/out" || fail "$case: no abigail-tools"
setup 0 "$all" --ci
expect_log "apt-get update (DEBIAN_FRONTEND=noninteractive)" \
    "apt-get install -y --no-install-recommends clang libomp-14-dev libclang-rt-14-dev abigail-tools groff-base openmpi-bin libopenmpi-dev python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel python3-venv (DEBIAN_FRONTEND=noninteractive)"
grep -q '^apt-get update$' .ci/run || fail ".ci/run does not update the package lists"
grep -q '^apt-get install -y --no-install-recommends \$(sh scripts/setup.sh --ci --list)$' .ci/run ||
    fail ".ci/run does not install the --ci list"

case="unknown option"
setup 0 "$all" --yes
[ "$rc" -eq 2 ] || fail "$case: exit $rc"
grep -q '^usage: ' "$tmp/out" || fail "$case: no usage"

case="no apt-get"
rm "$fake/apt-get"
setup 0 ""
[ "$rc" -eq 1 ] || fail "$case: exit $rc"
grep -q 'by hand' "$tmp/out" || fail "$case: no message"
echo ok
