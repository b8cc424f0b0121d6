#!/bin/sh
# Builds a local base image from this machine's own node binary and tools (no registry needed), for offline CI:
#   docker/base-image.sh [TAG]    (default kubemu-base:local), then build with --build-arg BASE_IMAGE=TAG.
set -eu
TAG=${1:-kubemu-base:local}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# what the components and the kubelet's container runtime run (isolation.ts, runtime.ts, watchdog.ts),
# plus a few tools for `docker exec` and the busybox-style built-in image
bins="node sh dash bash env cat ls mkdir rmdir rm cp mv ln sleep echo true false kill id chroot getconf nproc nice prlimit timeout setsid
      mount umount unshare setpriv nsenter pivot_root ps grep sed head tail tr wc date hostname uname touch stat test"

mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" "$root/etc" "$root/tmp" \
  "$root/proc" "$root/sys" "$root/dev" "$root/mnt" "$root/root" "$root/var/tmp" "$root/var/log" "$root/run"
chmod 1777 "$root/tmp" "$root/var/tmp"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$root/$l"; done

# copy a file to the same directory (symlinked dirs resolved) under $root, dereferencing the file itself
put() {
  dir=$(readlink -f "$(dirname "$1")")
  mkdir -p "$root$dir"
  [ -e "$root$dir/$(basename "$1")" ] || cp -L "$1" "$root$dir/$(basename "$1")"
}
# the program's file on PATH. Not `command -v`: it names shell builtins (true, false, echo, kill) without a path,
# so those were left out, and without /usr/bin/true the kubelet's isolation probe (setpriv ... -- true) failed and
# every node ran with isolation `none`. A tool missing here is an error, not a smaller image.
which_file() {
  for d in $(echo "$PATH:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" | tr ':' ' '); do
    if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then
      echo "$d/$1"
      return 0
    fi
  done
  return 1
}
for b in $bins; do
  p=$(which_file "$b") || { echo "base-image.sh: no $b on this machine" >&2; exit 1; }
  put "$p"
  for lib in $(ldd "$p" 2>/dev/null | grep -o '/[^ ]*'); do put "$lib"; done
done
[ -e "$root/usr/bin/sh" ] || ln -s dash "$root/usr/bin/sh"
for f in passwd group nsswitch.conf hosts; do [ -e "/etc/$f" ] && cp -L "/etc/$f" "$root/etc/$f"; done

tar -C "$root" -cf - . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin' -c 'CMD ["node"]' - "$TAG" >/dev/null
echo "$TAG"
