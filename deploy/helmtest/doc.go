// Package helmtest checks the Helm chart in deploy/helm/assistant-otel and the systemd unit in
// deploy/systemd. It is its own Go module so that the main module's race, vet and staticcheck runs never
// compile the Kubernetes API types.
//
// The chart tests render the chart with the real helm binary (scripts/tools.sh builds it; the test finds
// it through ASSISTANT_OTEL_HELM, the tools cache or PATH), decode every rendered object strictly into
// the Kubernetes API types (unknown fields fail), and check the production policies.
package helmtest
