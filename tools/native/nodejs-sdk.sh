#!/usr/bin/env bash
# Generate the Node.js SDK of the native provider and install what a TypeScript program of it
# needs, for the real-CLI tests and docs/native.md:
#   OUT/sdk/nodejs       `pulumi package gen-sdk` of the plugin (its GetSchema: schema.json with
#                        the package's version), with Pulumi's Node.js code generator through
#                        the project's Node.js language host (tools/pulumi-cli)
#   OUT/project          a TypeScript project's package.json and node_modules: @pulumi/pulumi,
#                        the SDK (installed as a copy, which compiles itself), typescript
# Needs `make pulumi-cli` first, node and npm, and the npm registry on the first run; a second
# run with the same inputs does nothing.
#
# Usage: nodejs-sdk.sh OUT_DIR PULUMI_BIN_DIR PLUGIN
# When it cannot, it says why in one line in OUT_DIR/unavailable (the TypeScript tests skip with
# it) and exits non-zero.
set -euo pipefail

out=$1 tools=$2 plugin=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
rm -f "$out/unavailable"
unavailable() { echo "$1" > "$out/unavailable"; echo "$1" >&2; exit 1; }

[ -x "$tools/pulumi" ] || unavailable "the Pulumi CLI is not built ($(cat "$tools/../unavailable" 2>/dev/null || echo "run make pulumi-cli"))"
[ -x "$tools/pulumi-language-nodejs" ] || unavailable "the Node.js language host is not built: $(cat "$tools/../unavailable-nodejs" 2>/dev/null || echo "run make pulumi-cli")"
command -v node >/dev/null || unavailable "node is not installed"
command -v npm >/dev/null || unavailable "npm is not installed"
[ -x "$plugin" ] || unavailable "the provider plugin $plugin is missing: run make install"

version=$("$(dirname "$plugin")/python" -c "import pulumi_hf_endpoints; print(pulumi_hf_endpoints.__version__)")
inputs=$(cat "$root/schema.json" "$here/nodejs-sdk.sh" "$here/package.json" | sha256sum | cut -c1-16)
stamp=$out/.built-$version-$inputs
if [ -f "$stamp" ] && [ -d "$out/project/node_modules/@pulumi-hf-endpoints/hf-endpoints/bin" ]; then
  exit 0
fi
rm -f "$out"/.built-*

started=$(date +%s)
echo "generating the Node.js SDK $version and installing a TypeScript project's packages into $out" >&2
home=$out/pulumi-home
mkdir -p "$home"
rm -rf "$out/sdk"
PATH="$tools:$PATH" PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true \
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
  "$tools/pulumi" package gen-sdk "$plugin" --language nodejs --local --out "$out/sdk" \
  >"$out/gen-sdk.log" 2>&1 || unavailable "pulumi package gen-sdk failed: $(tail -n 1 "$out/gen-sdk.log")"
# A local SDK leaves its version for `pulumi package add` to fill in.
sed -i "s/\"\${VERSION}\"/\"$version\"/" "$out/sdk/nodejs/package.json"

rm -rf "$out/project"
mkdir -p "$out/project"
cp "$here/package.json" "$out/project/package.json"
(cd "$out/project" && npm install --install-links --no-audit --no-fund --loglevel=error) \
  >"$out/npm.log" 2>&1 || unavailable "npm install failed: $(grep -m1 -i error "$out/npm.log" || tail -n 1 "$out/npm.log")"
[ -f "$out/project/node_modules/@pulumi-hf-endpoints/hf-endpoints/bin/index.js" ] \
  || unavailable "the SDK did not compile on install (see $out/npm.log)"
echo "done in $(( $(date +%s) - started )) s" >&2
touch "$stamp"
