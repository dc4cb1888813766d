#!/bin/sh
# setup.sh - installs the Debian packages that libgrugan's build and test suite
# need and that this machine lacks: `apt-get update`, then `apt-get install` of
# exactly the missing ones, directly as root or through sudo otherwise. When
# nothing is missing it changes nothing and needs no privileges.
#
#   sh scripts/setup.sh [--extras] [--ci] [--dry-run] [--list]
#
#   --extras   also numpy, pytest, pip, setuptools, wheel and venv (the Python
#              package, its examples and tests) and python3-torch (the
#              comparison with PyTorch in `make bench`)
#   --ci       also what .ci/run needs: clang with its OpenMP and sanitizer
#              runtimes, abigail-tools (`make abi-check`), groff-base (the
#              manual pages' check), Open MPI (`make mpi` and its tests) and
#              the Python package's test packages
#   --dry-run  print the commands it would run instead of running them
#   --list     print the packages of the chosen groups, one a line, and stop
#
# Exit status: 0 when every package is installed (or would be, with
# --dry-run), 1 when they cannot be installed, 2 on a bad option.
set -eu

# The one list of packages: the README's commands and .ci/run use it.
build_packages="build-essential pkg-config libblis-dev check python3"
extra_packages="python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel
    python3-venv python3-torch"
ci_packages="clang libomp-14-dev libclang-rt-14-dev abigail-tools groff-base openmpi-bin
    libopenmpi-dev python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel
    python3-venv"

usage() {
    echo "usage: sh scripts/setup.sh [--extras] [--ci] [--dry-run] [--list]" >&2
    exit 2
}

want_extras=0 want_ci=0 dry_run=0 list_only=0
for arg in "$@"; do
    case "$arg" in
        --extras) want_extras=1 ;;
        --ci) want_ci=1 ;;
        --dry-run) dry_run=1 ;;
        --list) list_only=1 ;;
        -h | --help) sed -n '2,/^set -eu$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option: $arg" >&2; usage ;;
    esac
done

# The chosen groups in order, each package once.
packages=
add_packages() {
    for p in $1; do
        case " $packages " in *" $p "*) ;; *) packages="${packages:+$packages }$p" ;; esac
    done
}
add_packages "$build_packages"
if [ "$want_extras" -eq 1 ]; then add_packages "$extra_packages"; fi
if [ "$want_ci" -eq 1 ]; then add_packages "$ci_packages"; fi

if [ "$list_only" -eq 1 ]; then
    for p in $packages; do echo "$p"; done
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: no apt-get or dpkg-query here: this script knows Debian and its" >&2
    echo "derivatives only; install the equivalents of these packages by hand: $packages" >&2
    exit 1
fi

# A package counts as present only when dpkg says "installed" (not merely
# unpacked, half-configured or removed with its configuration kept).
missing=
for p in $packages; do
    state=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$state" = installed ] || missing="${missing:+$missing }$p"
done

if [ -z "$missing" ]; then
    echo "setup.sh: every package needed is installed: $packages"
    exit 0
fi
echo "setup.sh: missing packages: $missing"

if [ "$(id -u)" -eq 0 ]; then
    as_root=
elif command -v sudo >/dev/null 2>&1; then
    as_root=sudo
else
    echo "setup.sh: installing packages needs root, and this user is not root and" >&2
    echo "there is no sudo; run this script as root, or have an administrator run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi

# run CMD...: as root (through sudo when needed), or only printed with --dry-run
run() {
    if [ "$dry_run" -eq 1 ]; then
        echo "${as_root:+$as_root }$*"
    elif ! $as_root "$@"; then
        echo "setup.sh: this failed: ${as_root:+$as_root }$*" >&2
        exit 1
    fi
}

# `apt-get update` first: a fresh machine or container may have no package lists.
run env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
