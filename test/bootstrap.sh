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

echo "verify: npm ci"
npm ci --no-audit --no-fund

# Build, lint and typecheck do not depend on each other (the typecheck and eslint read sources, never
# dist): on two cores they run side by side, each one's output kept whole and printed after it ends.
echo "verify: build (pipelines CLI and services), lint and typecheck, in parallel"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# Meanwhile the base image for the image and Dagger tests (debootstrap, once per machine: mostly waiting
# on the Debian mirror), so that the tests do not start by waiting for it.
npx tsx test/images/prepare-base.ts >"$logs/base" 2>&1 & base=$!
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
# A failure here is not fatal by itself: the tests that need the image build it again, and fail there
# (with CI=true) naming what is wrong.
if wait "$base"; then echo "verify: base image passed"; else echo "verify: base image FAILED (the image tests will try again)"; fi
cat "$logs/base"

echo "verify: tests"
npm test
