#!/usr/bin/env bash
# Installs the real clients the test/clients suite drives, at the versions pinned in
# test/clients/clients.json, from the npm registry into a cached, git-ignored prefix per client:
# .cache/clients/<name>@<version>. A prefix whose binary already answers --version is skipped.
# Needs only node and npm: every client ships its binary inside its npm packages (Claude Code and
# opencode through a per-platform optional dependency; opencode bundles its provider packages, such
# as @ai-sdk/openai-compatible, so nothing is fetched at run time).
#
# Bump a version in clients.json, then recheck DESIGN.md section 10 ("What the real clients send").
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD/.cache/clients"
manifest=test/clients/clients.json

# One "name package version bin" line per client.
entries="$(node -e '
  const clients = require(process.argv[1]);
  for (const [name, c] of Object.entries(clients)) console.log(name, c.package, c.version, c.bin);
' "$PWD/$manifest")"

while read -r name package version bin; do
  prefix="$root/$name@$version"
  binary="$prefix/node_modules/.bin/$bin"
  if [[ -x "$binary" ]] && "$binary" --version >/dev/null 2>&1; then
    echo "clients-setup: $name@$version already installed"
    continue
  fi
  echo "clients-setup: installing $package@$version into ${prefix#"$PWD/"}"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  echo '{"private": true}' >"$prefix/package.json"
  # --include=optional: the platform binaries are optional dependencies.
  npm install --prefix "$prefix" --no-audit --no-fund --no-save --include=optional --loglevel=error \
    "$package@$version"
  if ! "$binary" --version >/dev/null 2>&1; then
    echo "clients-setup: $name installed, but '$bin --version' fails:" >&2
    "$binary" --version >&2 || true
    exit 1
  fi
  echo "clients-setup: $name $("$binary" --version 2>/dev/null | head -1)"
done <<<"$entries"
