#!/bin/sh
# The one test command (`npm run verify`): on a fresh Debian machine it installs the system components
# the suites drive for real, installs the npm workspaces, then runs lint, typecheck and every test.
# Tests never skip a missing component when CI=true, so this script must install all of them (chromium:
# the HTML run report is tested in headless Chromium through playwright-core, which downloads no browser).
set -eu
cd "$(dirname "$0")/.."

# command -> Debian package
missing=""
for pair in git:git openssl:openssl kubectl:kubectl docker-registry:docker-registry dockerd:docker.io debootstrap:debootstrap sshd:openssh-server ssh-keygen:openssh-client chromium:chromium script:bsdutils; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
    missing="$missing $pkg"
  fi
done
# Fonts for the HTML report's Chromium tests and screenshots (chromium only recommends them, and the
# install below skips recommendations).
if [ ! -d /usr/share/fonts/truetype/liberation ]; then
  missing="$missing fonts-liberation"
fi
if [ -n "$missing" ]; then
  echo "verify: installing system packages:$missing"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

logs=$(mktemp -d)
images_cache=node_modules/.cache/slipway-images
base_dir="$logs/base-image"
# On every exit a finished base image tarball goes (back) to the tests' cache before the logs go.
trap 'mkdir -p "$images_cache" && find "$base_dir" -maxdepth 1 -name "*.tar" -exec mv {} "$images_cache/" \; ; rm -rf "$logs"' EXIT

# The base image's root filesystem for the image and Dagger tests (test/images/base-rootfs.sh:
# debootstrap, the longest part of a clean machine's set-up), made from here on beside npm ci and the
# build, so that the tests do not start by waiting for it. It is written outside node_modules, which
# npm ci removes (an earlier run's tarball is kept across it), and moved into the tests' cache after.
mkdir -p "$base_dir"
if [ -d "$images_cache" ]; then
  find "$images_cache" -maxdepth 1 -name '*.tar' -exec mv {} "$base_dir/" \;
fi
base=""
if [ "$(id -u)" -eq 0 ] && command -v debootstrap >/dev/null 2>&1; then
  sh test/images/base-rootfs.sh "$base_dir" >"$logs/base" 2>&1 & base=$!
else
  echo "verify: base image not prepared (needs root and debootstrap); the image tests will say what is missing"
fi

echo "verify: npm ci"
npm ci --no-audit --no-fund

# Build, lint and typecheck do not depend on each other (the typecheck and eslint read sources, never
# dist): on two cores they run side by side, each one's output kept whole and printed after it ends.
echo "verify: build (pipelines CLI and services), lint and typecheck, in parallel"
npm run build >"$logs/build" 2>&1 & build=$!
npm run lint >"$logs/lint" 2>&1 & lint=$!
npm run typecheck >"$logs/typecheck" 2>&1 & typecheck=$!
failed=""
for step in build lint typecheck; do
  eval "pid=\$$step"
  if wait "$pid"; then status=passed; else status=FAILED; failed="$failed $step"; fi
  echo "verify: $step $status"
  cat "$logs/$step"
done
if [ -n "$failed" ]; then
  echo "verify: failed:$failed" >&2
  exit 1
fi
# A failure here is not fatal by itself: the tests that need the image make it again, and fail there
# (with CI=true) naming what is wrong.
if [ -n "$base" ]; then
  if wait "$base"; then echo "verify: base image passed"; else echo "verify: base image FAILED (the image tests will try again)"; fi
  cat "$logs/base"
  mkdir -p "$images_cache"
  find "$base_dir" -maxdepth 1 -name '*.tar' -exec mv {} "$images_cache/" \;
fi

echo "verify: tests"
npm test
