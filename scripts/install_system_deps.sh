#!/usr/bin/env bash
# The Debian packages the tests start themselves: chromium (driven by
# Playwright, no browser download) and CJK fonts (without them Chinese renders
# as boxes); Java for PySpark in local mode; nginx and PostgreSQL for the
# cluster tests (started by the tests on loopback in temp dirs, never as system
# services). Installs only what is missing.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
command -v java >/dev/null || missing+=(default-jre-headless)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "缺少 ${missing[*]}，且无权限安装：相关测试将失败。请以 root 运行：apt-get install -y ${missing[*]}" >&2
    exit 0
fi
echo "安装 ${missing[*]} ..."
$SUDO apt-get update -qq
# The packages' own services are not wanted (the tests start their own): a
# policy-rc.d that refuses service starts, only for this install, and only
# where the machine has none of its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
