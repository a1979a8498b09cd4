#!/usr/bin/env bash
# Installs promtool (Prometheus's metrics linter), which the metrics tests run on the text a member
# serves, as /usr/local/bin/promtool. Only the binary is taken from Debian's prometheus package:
# installing the package would also install and start a Prometheus server.
set -euo pipefail
target=${1:-/usr/local/bin/promtool}
if command -v promtool >/dev/null 2>&1; then
  echo "promtool is installed: $(command -v promtool)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# As root into a private directory: the _apt sandbox user could not write there.
apt-get -o APT::Sandbox::User=root download prometheus >/dev/null
dpkg-deb -x prometheus_*.deb extracted
install -m 0755 extracted/usr/bin/promtool "$target"
echo "installed $("$target" --version 2>&1 | head -n 1) at $target"
