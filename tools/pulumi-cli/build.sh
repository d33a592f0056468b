#!/usr/bin/env bash
# Build the pinned Pulumi CLI and the language hosts the tests use into one folder:
#   pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
#   pulumi-language-python          language-python/ (why it is ours: its main.go)
#   pulumi-language-python-exec     } Pulumi's own scripts, copied from the sdk/v3 module
#   pulumi-resource-pulumi-python   }
#   pulumi-language-nodejs          language-nodejs/ (ours too, for the same reason)
#   pulumi-language-yaml            Pulumi's own, pulumi-yaml's cmd/pulumi-language-yaml, from
#                                   the module of its own in language-yaml/
# The versions are the ones go.mod (and language-yaml/go.mod) require. A second run with the
# same inputs does nothing.
#
# Usage: build.sh [OUT_DIR]   (default: .tools/pulumi at the repository's root)
# When the CLI cannot be built, it says why in one line in OUT_DIR/unavailable (read by the
# tests, which then skip) and exits non-zero. A language host that cannot be built leaves its
# reason in OUT_DIR/unavailable-<language> (its tests skip with it), the rest stands.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/.tools/pulumi}
bin=$out/bin

version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$here/go.mod")
inputs=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/language-python/main.go" \
  "$here/language-nodejs/main.go" "$here/language-yaml/go.mod" "$here/language-yaml/go.sum" \
  | sha256sum | cut -c1-16)
stamp=$out/.built-$version-$inputs
if [ -f "$stamp" ] && [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-python" ]; then
  exit 0
fi

mkdir -p "$bin"
rm -f "$out"/.built-* "$out"/unavailable*
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
# The other language hosts: a failure costs their own tests only.
go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi-language-nodejs" ./language-nodejs 2>"$log" \
  || { rm -f "$bin/pulumi-language-nodejs"
       echo "go build of the Node.js language host failed: $(tail -n 1 "$log")" | tee "$out/unavailable-nodejs" >&2; }
yaml_version=$(awk '$1 == "github.com/pulumi/pulumi-yaml" { print $2 }' "$here/language-yaml/go.mod")
(cd "$here/language-yaml" && go build -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" -o "$bin/pulumi-language-yaml" \
  github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml) 2>"$log" \
  || { rm -f "$bin/pulumi-language-yaml"
       echo "go build of the YAML language host (pulumi-yaml $yaml_version) failed: $(tail -n 1 "$log")" \
         | tee "$out/unavailable-yaml" >&2; }
echo "built in $(( $(date +%s) - started )) s" >&2
touch "$stamp"
