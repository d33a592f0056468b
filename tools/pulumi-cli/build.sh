#!/usr/bin/env bash
# Build the pinned Pulumi CLI and the project's Python language host into one folder:
#   pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
#   pulumi-language-python          language-python/ (why it is ours: its main.go)
#   pulumi-language-python-exec     } Pulumi's own scripts, copied from the sdk/v3 module
#   pulumi-resource-pulumi-python   }
# The version is the one go.mod requires. A second run with the same inputs does nothing.
#
# Usage: build.sh [OUT_DIR]   (default: .tools/pulumi at the repository's root)
# When it cannot build, it says why in one line in OUT_DIR/unavailable (read by the tests, which
# then skip) and exits non-zero.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/.tools/pulumi}
bin=$out/bin

version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$here/go.mod")
inputs=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/language-python/main.go" | sha256sum | cut -c1-16)
stamp=$out/.built-$version-$inputs
if [ -f "$stamp" ] && [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-python" ]; then
  exit 0
fi

mkdir -p "$bin"
rm -f "$out"/.built-* "$out/unavailable"
unavailable() { rm -f "$bin"/pulumi*; echo "$1" > "$out/unavailable"; echo "$1" >&2; exit 1; }
command -v go >/dev/null || unavailable "Go is not installed: the Pulumi CLI cannot be built here"
cd "$here"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
started=$(date +%s)
echo "building the Pulumi CLI $version into $bin (first time: about 8 minutes, 330 MiB of modules; log: $out/build.log)" >&2
log=$out/build.log
go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>"$log" \
  || unavailable "go build of the Pulumi CLI $version failed: $(tail -n 1 "$log")"
go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi-language-python" ./language-python 2>"$log" \
  || unavailable "go build of the Python language host failed: $(tail -n 1 "$log")"
sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
for script in python/dist/pulumi-resource-pulumi-python python/cmd/pulumi-language-python-exec; do
  install -m 0755 "$sdk/$script" "$bin/" || unavailable "the sdk/v3 module has no $script"
done
echo "built in $(( $(date +%s) - started )) s" >&2
touch "$stamp"
