#!/usr/bin/env bash
# Debian's chromium (driven by Playwright, no browser download) and CJK fonts
# (without them Chinese renders as boxes). Installs only what is missing.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "缺少 ${missing[*]}，且无权限安装：浏览器测试将失败。请以 root 运行：apt-get install -y ${missing[*]}" >&2
    exit 0
fi
echo "安装 ${missing[*]} ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
