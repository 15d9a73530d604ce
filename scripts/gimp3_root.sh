#!/usr/bin/env bash
# Build (or finish building) a Debian 13 root with GIMP 3, for the tests that run our
# plug-in inside the real program (tests/test_editors.py).
#
#   sudo scripts/gimp3_root.sh [ROOT]
#
# ROOT defaults to $DECLARE_GIMP3_ROOT, else /var/cache/declare/gimp3-root. Needs root,
# debootstrap and Debian's package archive. Resumable: the base system's packages are kept in
# ROOT.debs/, the base leaves a marker, and apt-get keeps what it fetched for GIMP until the
# install succeeds, so an interrupted build continues where it stopped; a finished root is
# left alone (ROOT/.declare-ready).
#
# declare itself is not installed in the root: Debian 13's Python is 3.13 and PyTorch for
# it would be a multi-gigabyte download. The tests bind-mount the checkout and the Python
# declare runs on into the root instead (see tests/editors.py), which is how a GIMP user's
# plug-in reaches the declare installed beside GIMP.
set -euo pipefail
ROOT=${1:-${DECLARE_GIMP3_ROOT:-/var/cache/declare/gimp3-root}}
MIRROR=${DECLARE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES="gimp python3 python3-gi gir1.2-gimp-3.0"

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

in_root() {  # run a command in the root with /proc and /dev, in a private mount namespace
    unshare --mount --propagation private sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev"
        exec chroot "$root" "$@"' sh "$ROOT" "$@"
}

mkdir -p "$ROOT/var/cache/apt/archives"
in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $PACKAGES && apt-get clean"
in_root gimp-console-3.0 --version
touch "$ROOT/.declare-ready"
echo "$ROOT: ready"
