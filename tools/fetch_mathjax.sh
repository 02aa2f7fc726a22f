#!/usr/bin/env bash
# Unpack MathJax from its npm package into a folder that the site serves itself,
# so formulas render without a CDN. Keeps the TeX-to-HTML bundle, the extensions
# it loads on demand, its fonts and its license (about 8 MB). The SVG output and
# the other prebuilt bundles are left out.
#
# Usage: tools/fetch_mathjax.sh VERSION DEST   (for example 3.2.2 _vendor/_static/mathjax)
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 VERSION DEST" >&2
    exit 2
fi
version=$1
dest=$2

if ! command -v npm >/dev/null; then
    echo "error: npm not found; it is needed once to fetch MathJax $version" \
        "(Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

mkdir -p "$(dirname "$dest")"
# Stage next to DEST so that the final mv is a rename and DEST is never half-written.
stage=$(mktemp -d "$(dirname "$dest")/.mathjax-XXXXXX")
download=$(mktemp -d)
trap 'rm -rf "$stage" "$download"' EXIT

npm pack "mathjax@$version" --pack-destination "$download" --silent >/dev/null
tar -xzf "$download/mathjax-$version.tgz" -C "$download"
es5=$download/package/es5

cp -r "$es5/tex-mml-chtml.js" "$es5/input" "$es5/ui" "$es5/a11y" "$es5/sre" "$es5/adaptors" "$stage/"
mkdir -p "$stage/output"
cp -r "$es5/output/chtml" "$stage/output/"
cp "$download/package/LICENSE" "$stage/LICENSE"
echo "$version" >"$stage/VERSION"
chmod 755 "$stage"

rm -rf "$dest"
mv "$stage" "$dest"
echo "MathJax $version unpacked into $dest"
