#!/usr/bin/env bash
# Installs the real clients some tests drive Nimbus with: Debian's aws CLI (awscli). Only those
# tests need it; `npm install` does not run this. As root on Debian; otherwise it says what is
# missing and exits 1 (the tests then skip with the reason).
set -euo pipefail
need=()
[ -x /usr/bin/aws ] || need+=(awscli)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-clients: awscli is present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-clients: missing ${need[*]}; as root on Debian: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "install-clients: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Several test files may ask at once: one installs, the others wait for it.
exec 9>/run/nimbus-install-clients.lock
flock 9
[ -x /usr/bin/aws ] && exit 0
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-clients: done"
