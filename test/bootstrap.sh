#!/bin/sh
# The one test command (`npm run verify`): on a fresh Debian machine it installs the system components
# the suites drive for real, installs the npm workspaces, then runs lint, typecheck and every test.
# Tests never skip a missing component when CI=true, so this script must install all of them (chromium:
# the HTML run report is tested in headless Chromium through playwright-core, which downloads no browser).
set -eu
cd "$(dirname "$0")/.."

# command -> Debian package
missing=""
for pair in git:git openssl:openssl kubectl:kubectl docker-registry:docker-registry dockerd:docker.io debootstrap:debootstrap sshd:openssh-server ssh-keygen:openssh-client chromium:chromium; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
    missing="$missing $pkg"
  fi
done
if [ -n "$missing" ]; then
  echo "verify: installing system packages:$missing"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

echo "verify: npm ci"
npm ci --no-audit --no-fund

echo "verify: build (pipelines CLI and services)"
npm run build

echo "verify: lint"
npm run lint

echo "verify: typecheck"
npm run typecheck

echo "verify: tests"
npm test
