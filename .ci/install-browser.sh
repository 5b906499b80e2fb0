#!/usr/bin/env bash
# Installs what the web client's browser test needs (Tests/Browser): Debian's Chromium, its driver, Selenium,
# and an emoji font so emoji render in screenshots. Called from .ci/run; a no-op when everything is present.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
/usr/bin/python3 -c 'import selenium' >/dev/null 2>&1 || missing+=(python3-selenium)
fc-list 2>/dev/null | grep -qi 'color emoji' || missing+=(fonts-noto-color-emoji)

if ((${#missing[@]})); then
    echo "install-browser: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
