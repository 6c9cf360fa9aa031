#!/bin/sh
# The root filesystem of the local node:20-bookworm-slim stand-in (see base-image.ts for why it exists),
# as a tarball in CACHE_DIR, made once per machine: debootstrap of bookworm, this machine's Node.js where
# the official image has it, the official image's `node` user, the host's CA bundle.
#   sh test/images/base-rootfs.sh CACHE_DIR      prints "cached PATH" or "built PATH" on its last line
# A shell script rather than TypeScript so that `npm run verify` (test/bootstrap.sh) can start it before
# `npm ci`, beside it: on a clean machine debootstrap is the longest part of the set-up.
# Needs root and debootstrap. Every value is a quoted argument: nothing here is built into a command line.
set -eu

cache_dir=$1
# Bump when the recipe below changes, so cached tarballs of the old recipe are not reused.
recipe=1
mirror=${SLIPWAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle=/etc/ssl/certs/ca-certificates.crt

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
if [ -f "$ca_bundle" ]; then
  ca_key=$(sha256sum "$ca_bundle" | cut -c1-12)
else
  ca_key=noca
fi
tarball="$cache_dir/node-$node_version-bookworm-r$recipe-ca-$ca_key.tar"
if [ -f "$tarball" ]; then
  echo "cached $tarball"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-rootfs-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 40 "$work/debootstrap.log" >&2
  echo "debootstrap of bookworm from $mirror failed (log above)" >&2
  exit 1
}

# Node.js as the official image lays it out: /usr/local/bin/node, npm and corepack under
# /usr/local/lib/node_modules, their commands linked into /usr/local/bin.
prefix=$(dirname "$(dirname "$node_bin")")
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
cp "$node_bin" "$rootfs/usr/local/bin/node"
chmod 0755 "$rootfs/usr/local/bin/node"
for pkg in npm corepack; do
  if [ -e "$prefix/lib/node_modules/$pkg" ]; then cp -a "$prefix/lib/node_modules/$pkg" "$rootfs/usr/local/lib/node_modules/$pkg"; fi
done
for link in npm:../lib/node_modules/npm/bin/npm-cli.js npx:../lib/node_modules/npm/bin/npx-cli.js corepack:../lib/node_modules/corepack/dist/corepack.js; do
  command=${link%%:*}
  target=${link#*:}
  if [ -e "$rootfs/usr/local/bin/$target" ]; then ln -s "$target" "$rootfs/usr/local/bin/$command"; fi
done

# The official image's unprivileged user; our images add their own (uid 10001) on top.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Trust what the host trusts (base-image.ts: the npm registry is reached through a proxy only the host's
# CA bundle trusts); NODE_EXTRA_CA_CERTS in the image points node at it.
if [ -f "$ca_bundle" ]; then cp "$ca_bundle" "$rootfs$ca_bundle"; fi

# Like the official Debian images: no package lists or downloaded .debs in the base layer.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

mkdir -p "$cache_dir"
# Written next to its final name and renamed: a concurrent run never imports half a tarball.
partial="$tarball.$$.partial"
tar -C "$rootfs" --numeric-owner -cf "$partial" .
mv "$partial" "$tarball"
echo "built $tarball"
