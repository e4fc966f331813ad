#!/usr/bin/env bash
# k8s_validate.js must catch what it claims to: testdata/broken.yaml is the
# rendered base with six planted mistakes, and each must be reported by name;
# testdata/hpa_replicas.yaml has one more, testdata/two_deployments.yaml two.
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

# Two Deployments, each with its Service: each Service is checked against the
# pods it selects, not against every Deployment.
out=$(node "$here/k8s_validate.js" --consistency "$here/testdata/two_deployments.yaml")
rc=$?
two=(
  "Service/cache: targetPort http is no container port name"
  "Deployment/cache: livenessProbe port cahce is not a container port"
)
failed=0
for want in "${two[@]}"; do
  if ! grep -qF -- "$want" <<<"$out"; then echo "not reported: $want"; failed=1; fi
done
if [[ $rc -ne 1 ]] || [[ $(grep -c '^PROBLEM' <<<"$out") -ne ${#two[@]} ]]; then failed=1; fi
if [[ $failed -ne 0 ]]; then
  echo "two_deployments.yaml: expected exactly ${#two[@]} problems, exit 1 (got $rc):"
  echo "$out"
  exit 1
fi
echo "validator_test: all $((${#expected[@]} + 1 + ${#two[@]})) planted mistakes reported"
