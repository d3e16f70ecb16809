#!/usr/bin/env bash
# Installs the Debian packages the ovn data plane uses (nimbus serve --dataplane ovn): OVN's
# central and host parts, Open vSwitch, and ethtool (offloads off on the veths the userspace
# datapath reads). Only the ovn plane needs them; `npm install` does not run this.
# As root on Debian; otherwise it says what is missing and exits 1.
set -euo pipefail
need=()
[ -f /usr/share/ovn/ovn-nb.ovsschema ] || need+=(ovn-central)
[ -x /usr/bin/ovn-controller ] || need+=(ovn-host)
[ -x /usr/sbin/ovs-vswitchd ] || need+=(openvswitch-switch)
[ -x /usr/sbin/ethtool ] || need+=(ethtool)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-ovn: ovn-central, ovn-host, openvswitch-switch and ethtool are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-ovn: missing ${need[*]}; as root on Debian: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "install-ovn: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Several test files may ask at once: one installs, the others wait for it.
exec 9>/run/nimbus-install-ovn.lock
flock 9
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packages' own services where systemd runs; Nimbus runs its own, from its own folders.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now ovn-central ovn-host ovn-controller openvswitch-switch >/dev/null 2>&1 || true
fi
echo "install-ovn: done"
