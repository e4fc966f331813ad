#!/usr/bin/env bash
# k8s_validate.js must catch what it claims to: testdata/broken.yaml is the
# rendered base with six planted mistakes, and each must be reported by name.
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
echo "validator_test: all ${#expected[@]} planted mistakes reported"
