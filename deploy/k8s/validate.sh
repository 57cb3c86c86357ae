#!/usr/bin/env bash
# Renders every overlay under deploy/k8s/overlays with kustomize and checks that each one
# builds and yields the expected kinds (make k8s-validate). No cluster is contacted.
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
        command -v go >/dev/null 2>&1 ||
            { echo "k8s-validate: needs kustomize, kubectl or Go to build kustomize" >&2; exit 1; }
        echo "k8s-validate: building kustomize $KUSTOMIZE_VERSION into .cache/bin" >&2
        GOBIN="$repo/.cache/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" || return 1
        "$repo/.cache/bin/kustomize" build "$1"
    fi
}

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
    # The services' own Deployments (an overlay may add others, e.g. a mail catcher).
    deployments="$(awk '/^kind: /{kind=$2} kind=="Deployment" && /^  name: contractflow-[a-z]+-(web|worker)$/' "$out" | wc -l)"
    probes="$(grep -c 'path: /readyz' "$out" || true)"
    if ((deployments != 6 || probes != 6)); then
        echo "FAIL $name: expected 6 Deployments and 6 /readyz probes (web and worker), got $deployments and $probes" >&2
        status=1
    fi
    if grep -q 'readOnlyRootFilesystem: false\|allowPrivilegeEscalation: true' "$out"; then
        echo "FAIL $name: a container loosens the security context" >&2
        status=1
    fi
    kinds="$(grep '^kind:' "$out" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')"
    echo "ok   $name: ${kinds%, }"
    rm -f "$out"
done
exit "$status"
