package helmtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Release and namespace every rendering uses.
const (
	ReleaseName = "wa"
	Namespace   = "assistant-otel"
)

// Object is one rendered manifest, decoded into its API type.
type Object struct {
	APIVersion, Kind, Name string
	Obj                    any // *appsv1.StatefulSet, *corev1.Service, *ServiceMonitor, ...
}

// Rendered is what one `helm template` produced.
type Rendered struct {
	Objects []Object
}

// ChartDir is the chart, relative to this module.
func ChartDir() string { return filepath.Join("..", "helm", "assistant-otel") }

// Helm finds the helm binary: $ASSISTANT_OTEL_HELM, the tools cache of scripts/tools.sh, then PATH.
func Helm() (string, error) {
	if p := os.Getenv("ASSISTANT_OTEL_HELM"); p != "" {
		return p, nil
	}
	cache := os.Getenv("ASSISTANT_OTEL_TOOLS")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "assistant-otel", "tools")
		}
	}
	if cache != "" {
		if p := filepath.Join(cache, "bin", "helm"); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p, nil
	}
	return "", errors.New("no helm binary: run scripts/tools.sh (it builds helm into the tools cache) or set ASSISTANT_OTEL_HELM")
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Template runs `helm template` on the chart with the given arguments (-f FILE, --set K=V, ...) and returns
// its output, or an error carrying helm's stderr.
func Template(args ...string) ([]byte, error) {
	helm, err := Helm()
	if err != nil {
		return nil, err
	}
	full := append([]string{"template", ReleaseName, ChartDir(), "--namespace", Namespace}, args...)
	cmd := exec.Command(helm, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %v: %s", strings.Join(full, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// Decode splits a multi-document YAML stream and decodes each document strictly into its Kubernetes API
// type: an unknown or duplicate field, a value of the wrong type, or an unknown kind is an error.
func Decode(stream []byte) (*Rendered, error) {
	r := &Rendered{}
	var errs []error
	for i, doc := range docSep.Split(string(stream), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		obj, err := decodeOne([]byte(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): %w", i, sourceOf(doc), err))
			continue
		}
		r.Objects = append(r.Objects, obj)
	}
	return r, errors.Join(errs...)
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func sourceOf(doc string) string {
	for _, line := range strings.Split(doc, "\n") {
		if s, ok := strings.CutPrefix(line, "# Source: "); ok {
			return s
		}
	}
	return "?"
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// newTyped returns an empty value of the API type of apiVersion/kind.
func newTyped(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &ServiceMonitor{}, true
	}
	return nil, false
}

func decodeOne(doc []byte) (Object, error) {
	// YAMLToJSONStrict refuses duplicate keys.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return Object{}, fmt.Errorf("YAML: %w", err)
	}
	var tm typeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return Object{}, fmt.Errorf("type meta: %w", err)
	}
	obj, ok := newTyped(tm.APIVersion, tm.Kind)
	if !ok {
		return Object{}, fmt.Errorf("unknown apiVersion/kind %s/%s: add its API type to the test", tm.APIVersion, tm.Kind)
	}
	if tm.Kind == "ServiceMonitor" {
		// Also into the Prometheus Operator's published type: the authority on what the CRD accepts.
		var op monitoringv1.ServiceMonitor
		strictErrs, err := kjson.UnmarshalStrict(js, &op)
		if err != nil {
			return Object{}, fmt.Errorf("ServiceMonitor %s (Prometheus Operator type): %w", tm.Metadata.Name, err)
		}
		if len(strictErrs) > 0 {
			return Object{}, fmt.Errorf("ServiceMonitor %s (Prometheus Operator type): strict decoding: %w", tm.Metadata.Name, errors.Join(strictErrs...))
		}
	}
	// The API server's own strict decoding: case-sensitive field names, unknown and duplicate fields
	// reported.
	strictErrs, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		return Object{}, fmt.Errorf("%s %s: %w", tm.Kind, tm.Metadata.Name, err)
	}
	if len(strictErrs) > 0 {
		return Object{}, fmt.Errorf("%s %s: strict decoding: %w", tm.Kind, tm.Metadata.Name, errors.Join(strictErrs...))
	}
	if tm.Metadata.Name == "" {
		return Object{}, fmt.Errorf("%s without metadata.name", tm.Kind)
	}
	return Object{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: tm.Metadata.Name, Obj: obj}, nil
}

// All returns the rendered objects of type T.
func All[T any](r *Rendered) []*T {
	var out []*T
	for _, o := range r.Objects {
		if v, ok := o.Obj.(*T); ok {
			out = append(out, v)
		}
	}
	return out
}

// One returns the single rendered object of type T, or an error when there are none or several.
func One[T any](r *Rendered) (*T, error) {
	all := All[T](r)
	if len(all) != 1 {
		var zero T
		return nil, fmt.Errorf("want exactly one %T, rendered %d", zero, len(all))
	}
	return all[0], nil
}

// Count returns how many objects of kind were rendered.
func (r *Rendered) Count(kind string) int {
	n := 0
	for _, o := range r.Objects {
		if o.Kind == kind {
			n++
		}
	}
	return n
}
