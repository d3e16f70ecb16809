#!/usr/bin/env bash
# Installs the Debian packages the Linux data plane uses (iproute2, nftables, iputils-ping, conntrack),
# when running as root and any is missing. Without root it says what is missing and goes on:
# the virtual data plane needs none of them.
set -euo pipefail
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
# Kernel TCP listeners end a removed member's flows with conntrack -D (src/workloads/kernel-listeners.ts).
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
# Inside a server, root has the tools of a machine: tcpdump; python3 (the hostile-tenant tests forge packets with it;
# the daemon opens the web apps' sockets inside servers' namespaces with it, src/workloads/socket-opener.ts).
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# Each VPC's private DNS resolver is Debian's dnsmasq, in the VPC's router namespace (src/workloads/resolvers.ts).
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
# Load balancers' layer-7 engine (nimbus serve --l7-engine haproxy): Debian's HAProxy 2.6 (src/lb/haproxy/).
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
# The web console's browser tests drive Debian's Chromium (test/browser/).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: iproute2, nftables, ping, conntrack, tcpdump, python3, dnsmasq, haproxy and chromium are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${need[*]}; the linux data plane needs them (as root: apt-get install ${need[*]}). The virtual data plane works without." >&2
  exit 0
fi
echo "install-deps: installing ${need[*]} for the linux data plane"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-deps: done"
