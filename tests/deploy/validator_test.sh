#!/usr/bin/env bash
# k8s_validate.js must catch what it claims to: testdata/broken.yaml is the
# rendered base with six planted mistakes, and each must be reported by name;
# testdata/hpa_replicas.yaml has one more.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out=$(node "$here/k8s_validate.js" --consistency "$here/testdata/broken.yaml")
rc=$?
failed=0
if [[ $rc -ne 1 ]]; then echo "expected exit 1, got $rc"; failed=1; fi
expected=(
  "Deployment/recall-server: /spec/replicas must be integer"
  "'\"imagePullPolisy\"' does not exist in type 'IContainer'"
  "volume snapshots: no PVC snapshots"
  "terminationGracePeriodSeconds 10 < preStop 5 s + --shutdown_grace 15 s"
  "Service/recall-server: selector matches no pod"
  "scaleTargetRef Deployment/recall does not exist"
)
for want in "${expected[@]}"; do
  if ! grep -qF -- "$want" <<<"$out"; then echo "not reported: $want"; failed=1; fi
done
problems=$(grep -c '^PROBLEM' <<<"$out")
if [[ $problems -ne ${#expected[@]} ]]; then
  echo "expected ${#expected[@]} problems, got $problems"; failed=1
fi
[[ $failed -eq 0 ]] || { echo "$out"; exit 1; }

# A Deployment that sets replicas while an HPA scales it.
out=$(node "$here/k8s_validate.js" --consistency "$here/testdata/hpa_replicas.yaml")
rc=$?
if [[ $rc -ne 1 ]] || ! grep -qF "Deployment/web: sets replicas although" <<<"$out" ||
   [[ $(grep -c '^PROBLEM' <<<"$out") -ne 1 ]]; then
  echo "hpa_replicas.yaml: expected exactly the replicas problem, exit 1 (got $rc):"
  echo "$out"
  exit 1
fi
echo "validator_test: all $((${#expected[@]} + 1)) planted mistakes reported"
