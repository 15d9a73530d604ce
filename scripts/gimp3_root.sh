#!/usr/bin/env bash
# A Debian 13 root with GIMP 3, for the tests that run our plug-in inside the real program
# (tests/test_editors.py): build it, ask whether it is ready, run a command in it.
#
#   sudo scripts/gimp3_root.sh [ROOT]                          build (or finish building)
#   scripts/gimp3_root.sh --ready                              exit 0 if usable, else say why
#   sudo scripts/gimp3_root.sh --run [--bind DIR]... -- CMD... run CMD in the root
#
# ROOT defaults to $DECLARE_GIMP3_ROOT, else /var/cache/declare/gimp3-root. Building needs
# root, debootstrap and Debian's package archive. Resumable: the base system's packages are
# kept in ROOT.debs/, the base leaves a marker, and apt-get keeps what it fetched for GIMP
# until the install succeeds, so an interrupted build continues where it stopped; a finished
# root is left alone (ROOT/.declare-ready).
#
# declare itself is not installed in the root: Debian 13's Python is 3.13 and PyTorch for
# it would be a multi-gigabyte download. --run --bind DIR mounts DIR at the same path in the
# root (the tests bind the checkout and the Python declare runs on), which is how a GIMP
# user's plug-in reaches the declare installed beside GIMP. Mounts live in a private mount
# namespace and vanish with the command.
set -euo pipefail
ROOT=${DECLARE_GIMP3_ROOT:-/var/cache/declare/gimp3-root}
MIRROR=${DECLARE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES="gimp python3 python3-gi gir1.2-gimp-3.0"

in_root() {  # in_root [DIR...] -- CMD...: CMD in the root with /proc, /dev and each DIR
    unshare --mount --propagation private sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" || exit 1
        while [ "$1" != -- ]; do
            mkdir -p "$root$1" && mount --bind "$1" "$root$1" || exit 1
            shift
        done
        shift
        exec chroot "$root" "$@"' sh "$ROOT" "$@"
}

unusable() {  # why the root cannot be used here, or nothing
    if [ "$(id -u)" != 0 ]; then echo "GIMP 3 tests need root (a chroot into the Debian 13 root)"
    elif ! command -v unshare >/dev/null; then echo "GIMP 3 tests need unshare (util-linux)"
    elif [ ! -f "$ROOT/.declare-ready" ]; then echo "no GIMP 3 root at $ROOT (build it: sudo scripts/gimp3_root.sh)"
    fi
}

case ${1:-} in
    --ready)
        why=$(unusable); [ -z "$why" ] || { echo "$why"; exit 1; }; exit 0 ;;
    --run)
        shift; binds=()
        while [ "${1:-}" = --bind ]; do binds+=("$2"); shift 2; done
        [ "${1:-}" = -- ] && shift
        why=$(unusable); [ -z "$why" ] || { echo "gimp3_root.sh: $why" >&2; exit 2; }
        in_root "${binds[@]}" -- "$@"; exit ;;
esac

ROOT=${1:-$ROOT}
[ "$(id -u)" = 0 ] || { echo "gimp3_root.sh: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "gimp3_root.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
[ -f "$ROOT/.declare-ready" ] && { echo "$ROOT: ready"; exit 0; }

mkdir -p "$ROOT" "$ROOT.debs"
if [ ! -f "$ROOT/.declare-base" ]; then
    # debootstrap cannot continue a half-made root; the packages it fetched are kept.
    find "$ROOT" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    debootstrap --variant=minbase --cache-dir="$(realpath "$ROOT.debs")" trixie "$ROOT" "$MIRROR"
    touch "$ROOT/.declare-base"
fi

mkdir -p "$ROOT/var/cache/apt/archives"
in_root -- sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $PACKAGES && apt-get clean"
in_root -- gimp-console-3.0 --version
touch "$ROOT/.declare-ready"
echo "$ROOT: ready"
