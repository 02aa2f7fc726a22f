#!/usr/bin/env bash
# Install a free CJK font from Debian's packages when fontconfig lists no Chinese
# font, so that plots (edunn.plotting) and screenshots of the site can show Chinese.
# Needs root or sudo, and apt-get; does nothing when a Chinese font is present.
set -euo pipefail

package=fonts-wqy-microhei

has_chinese_font() {
    command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family)" ]
}

if has_chinese_font; then
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "error: no Chinese font found and apt-get is missing;" \
        "install Noto Sans CJK or WenQuanYi Micro Hei with your system's package manager" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "error: no Chinese font found; installing $package needs root or sudo" >&2
    exit 1
fi

echo "No Chinese font found: installing $package (Debian, about 2 MB)"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends fontconfig "$package"

if ! has_chinese_font; then
    echo "error: $package is installed but fontconfig still lists no Chinese font" >&2
    exit 1
fi
