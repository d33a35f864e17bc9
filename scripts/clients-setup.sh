#!/usr/bin/env bash
# Installs the real clients the test/clients suite drives, from the npm registry, into a cached,
# git-ignored prefix per client and version: by default at the versions pinned in
# test/clients/clients.json, into .cache/clients/<name>@<version>; with --latest at each client's
# newest release (`npm view <package> version`), into the scratch folder .cache/clients-latest/,
# which also gets a clients.json naming what was installed (the suite reads it when
# TOKENPOOL_CLIENTS_DIR points there). A prefix whose binary already answers --version is skipped.
# Needs only node and npm: every client ships its binary inside its npm packages (Claude Code and
# opencode through a per-platform optional dependency; opencode bundles its provider packages, such
# as @ai-sdk/openai-compatible, so nothing is fetched at run time).
#
# Bump a version in clients.json, then recheck DESIGN.md section 10 ("What the real clients send").
set -euo pipefail

cd "$(dirname "$0")/.."
manifest=test/clients/clients.json
root="$PWD/.cache/clients"
latest=false
for arg in "$@"; do
  case "$arg" in
    --latest) latest=true; root="$PWD/.cache/clients-latest" ;;
    *) echo "clients-setup: unknown argument $arg (only --latest)" >&2; exit 2 ;;
  esac
done
mkdir -p "$root"

# One "name package version bin" line per client: the pins, or each package's newest release.
entries="$(node -e '
  const clients = require(process.argv[1]);
  for (const [name, c] of Object.entries(clients)) console.log(name, c.package, c.version, c.bin);
' "$PWD/$manifest")"
if [[ "$latest" == true ]]; then
  resolved=""
  while read -r name package pinned bin; do
    newest="$(npm view "$package" version --loglevel=error)"
    echo "clients-setup: $name: newest release $newest (pinned $pinned)"
    resolved+="$name $package $newest $bin"$'\n'
  done <<<"$entries"
  entries="${resolved%$'\n'}"
  # What the suite runs against, in clients.json's shape.
  node -e '
    const out = {};
    for (const line of process.argv[1].split("\n")) {
      const [name, pkg, version, bin] = line.split(" ");
      out[name] = { package: pkg, version, bin };
    }
    require("fs").writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + "\n");
  ' "$entries" "$root/clients.json"
fi

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
