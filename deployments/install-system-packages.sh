#!/usr/bin/env bash
# Installs the Debian packages grantflow's tests and previews need, when they are missing.
# Root installs directly; a plain user needs sudo. Nothing is downloaded outside Debian's archive.
set -euo pipefail
packages=(
  chromium                 # the portal's browser tests (Playwright drives /usr/bin/chromium)
  fonts-noto-cjk           # 仿宋/宋体/黑体 stand-ins for previews and charts
  fonts-arphic-ukai        # 楷体 stand-in
  fonts-liberation2
  libreoffice-writer-nogui # .docx → PDF previews in tests
  libreoffice-calc-nogui   # the .xlsx export opened by LibreOffice in tests
  poppler-utils            # pdftotext, pdftoppm
  postgresql               # the PostgreSQL server the tests start as a plain user
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
