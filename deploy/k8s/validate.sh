#!/usr/bin/env bash
# Renders every overlay under deploy/k8s/overlays with kustomize and checks every object it
# yields (deploy/k8s/check_objects.py: Kubernetes schemas, the services' wiring); make
# k8s-validate, and part of make test. No cluster is contacted.
#
# kustomize comes from, in order: `kustomize` on PATH, .cache/bin/kustomize, `kubectl
# kustomize`, or else it is built once into .cache/bin from the Go module proxy (needs Go).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.5.0}"

render() {
    if command -v kustomize >/dev/null 2>&1; then
        kustomize build "$1"
    elif [[ -x "$repo/.cache/bin/kustomize" ]]; then
        "$repo/.cache/bin/kustomize" build "$1"
    elif command -v kubectl >/dev/null 2>&1; then
        kubectl kustomize "$1"
    else
        if ! command -v go >/dev/null 2>&1 && [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
            echo "k8s-validate: installing Debian's golang-go to build kustomize" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null ||
                { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go; } >/dev/null
        fi
        command -v go >/dev/null 2>&1 ||
            { echo "k8s-validate: needs kustomize, kubectl or Go to build kustomize" >&2; exit 1; }
        echo "k8s-validate: building kustomize $KUSTOMIZE_VERSION into .cache/bin" >&2
        GOBIN="$repo/.cache/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" || return 1
        "$repo/.cache/bin/kustomize" build "$1"
    fi
}

python="${PYTHON:-$repo/.venv/bin/python}"
status=0
for overlay in "$here"/overlays/*/; do
    name="$(basename "$overlay")"
    out="$(mktemp)"
    if ! render "$overlay" >"$out"; then
        echo "FAIL $name: kustomize build failed" >&2
        status=1
        rm -f "$out"
        continue
    fi
    # Every object against the Kubernetes schemas, and the services' wiring.
    "$python" "$here/check_objects.py" "$name" <"$out" || status=1
    rm -f "$out"
done
exit "$status"
