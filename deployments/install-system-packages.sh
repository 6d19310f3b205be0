#!/usr/bin/env bash
# Installs the Debian packages grantflow needs, when they are missing: every group, or the groups
# named (`install-system-packages.sh fonts` is what `make demo` needs: its charts draw Chinese).
# Root installs directly; a plain user needs sudo. Nothing is downloaded outside Debian's archive.
set -euo pipefail
declare -A groups=(
  # the CJK fonts: 仿宋/宋体/黑体 stand-ins for previews, and the charts' Noto Sans CJK (models/fonts.py)
  [fonts]="fonts-noto-cjk fonts-arphic-ukai fonts-liberation2"
  [browser]="chromium"                 # the portal's browser tests (Playwright drives /usr/bin/chromium)
  # .docx → PDF previews, the .xlsx export opened by LibreOffice, pdftotext and pdftoppm in tests
  [office]="libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils"
  [database]="postgresql"              # the PostgreSQL server the tests start as a plain user
)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(fonts browser office database)
packages=()
for group in "${wanted[@]}"; do
  [ -n "${groups[$group]+x}" ] || { echo "no such group: $group (${!groups[*]})" >&2; exit 2; }
  read -ra listed <<< "${groups[$group]}"
  packages+=("${listed[@]}")
done
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
