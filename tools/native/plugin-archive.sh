#!/usr/bin/env bash
# Build the native provider's plugin archive, which installs offline:
#   pulumi plugin install resource hf-endpoints VERSION --file ARCHIVE
# The archive holds the plugin's launcher, `pulumi-resource-hf-endpoints` (the name the engine
# runs), and lib/: this package and its dependencies (pulumi, grpcio, httpx, pydantic...), built
# for the Python that builds the archive (their compiled parts are for its version and platform,
# as a Go provider's binary is for its platform). The launcher runs that Python's version.
#
# Usage: plugin-archive.sh OUT_DIR PYTHON   (PYTHON: the interpreter to build for, with pip)
# Writes OUT_DIR/pulumi-resource-hf-endpoints-v<version>-<os>-<arch>.tar.gz and prints its path;
# a second run with the same sources does nothing. Needs the package index (or pip's cache) for
# the dependencies on the first run.
set -euo pipefail

out=$1 python=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$("$python" -c "import runpy; print(runpy.run_path('$root/provider/pulumi_hf_endpoints/_version.py')['__version__'])")
minor=$("$python" -c "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')")
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case $(uname -m) in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
archive=$out/pulumi-resource-hf-endpoints-v$version-$os-$arch.tar.gz
inputs=$( (cd "$root" && git ls-files -z --cached --others --exclude-standard provider pyproject.toml | xargs -0 cat; cat "$here/plugin-archive.sh") \
  | sha256sum | cut -c1-16)
stamp=$out/.archive-$version-$inputs
if [ -f "$stamp" ] && [ -f "$archive" ]; then
  echo "$archive"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
src=$stage/src
mkdir -p "$src" "$stage/plugin/lib"
# A copy of the sources, so that the checkout gets no build/ or *.egg-info.
(cd "$root" && git ls-files -z --cached --others --exclude-standard provider pyproject.toml README.md \
  | xargs -0 cp --parents -t "$src")
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$stage/wheel" "$src" >&2
"$python" -m pip install --quiet --no-compile --target "$stage/plugin/lib" "$stage"/wheel/*.whl >&2
rm -rf "$stage/plugin/lib/bin"
built_with=$("$python" -c "import sys; print(sys.executable)")
cat > "$stage/plugin/pulumi-resource-hf-endpoints" <<LAUNCHER
#!/bin/sh
# The native Pulumi provider of Hugging Face Inference Endpoints, pulumi-hf-endpoints $version.
# Its packages (lib/) are built for Python $minor: it runs \$PULUMI_HF_ENDPOINTS_PYTHON, else
# python$minor on the PATH, else the interpreter that built it.
dir=\$(cd "\$(dirname "\$0")" && pwd)
python=\${PULUMI_HF_ENDPOINTS_PYTHON:-}
if [ -z "\$python" ]; then
  python=\$(command -v python$minor || true)
  [ -n "\$python" ] || python=$built_with
fi
if ! [ -x "\$python" ] && ! command -v "\$python" >/dev/null 2>&1; then
  echo "pulumi-resource-hf-endpoints: Python $minor is needed (its packages are built for it); install it or set PULUMI_HF_ENDPOINTS_PYTHON" >&2
  exit 1
fi
PYTHONPATH="\$dir/lib" exec "\$python" -s -m pulumi_hf_endpoints.native "\$@"
LAUNCHER
chmod +x "$stage/plugin/pulumi-resource-hf-endpoints"
mkdir -p "$out"
rm -f "$out"/.archive-* "$out"/pulumi-resource-hf-endpoints-v*-"$os-$arch".tar.gz
tar -C "$stage/plugin" -czf "$archive" .
touch "$stamp"
echo "$archive"
