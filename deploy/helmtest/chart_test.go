package helmtest

import (
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

func valuesFile(name string) string { return filepath.Join(ChartDir(), "ci", name) }

// render renders the chart with args and decodes it strictly; any failure ends the test.
func render(t *testing.T, args ...string) *Rendered {
	t.Helper()
	out, err := Template(args...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(out)
	if err != nil {
		t.Fatalf("strict decoding into the Kubernetes API types: %v", err)
	}
	return r
}

func kinds(r *Rendered) map[string]int {
	m := map[string]int{}
	for _, o := range r.Objects {
		m[o.Kind]++
	}
	return m
}

// TestChart renders the chart with each values file CI checks, decodes every object strictly and runs
// every policy check, then checks what each values file is for.
func TestChart(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		kinds  map[string]int
		expect func(t *testing.T, r *Rendered)
	}{
		{
			name: "default",
			kinds: map[string]int{"StatefulSet": 1, "Service": 2, "Secret": 1, "ServiceAccount": 1,
				"PodDisruptionBudget": 1, "NetworkPolicy": 1},
			expect: func(t *testing.T, r *Rendered) {
				s, c, _ := statefulSet(r)
				if s.Spec.Replicas == nil || *s.Spec.Replicas != 2 {
					t.Errorf("replicas %v, want 2", s.Spec.Replicas)
				}
				if v, _ := env(c, "ASSISTANT_OTEL_SECRET_FILE"); v != "/etc/assistant-otel/secret/webhook-secret" {
					t.Errorf("ASSISTANT_OTEL_SECRET_FILE %q", v)
				}
				if c.Image != "assistant-otel:0.1.0" {
					t.Errorf("image %q, want the chart's appVersion as tag", c.Image)
				}
				sec, _ := One[corev1.Secret](r)
				if v := sec.Data["webhook-secret"]; len(v) != 48 {
					t.Errorf("generated secret has %d bytes, want 48", len(v))
				}
			},
		},
		{
			name:  "ingress with TLS",
			args:  []string{"-f", valuesFile("ingress-tls-values.yaml")},
			kinds: map[string]int{"Ingress": 1, "StatefulSet": 1, "NetworkPolicy": 1},
			expect: func(t *testing.T, r *Rendered) {
				ing, _ := One[networkingv1.Ingress](r)
				if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "assistant-otel-tls" {
					t.Errorf("Ingress TLS %+v", ing.Spec.TLS)
				}
				_, c, _ := statefulSet(r)
				if v, _ := env(c, "OTEL_EXPORTER_OTLP_ENDPOINT"); v != "http://otel-collector.observability.svc:4317" {
					t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q", v)
				}
			},
		},
		{
			name:  "existingSecret, digest, TLS in the pod, vendor OTLP",
			args:  []string{"-f", valuesFile("existing-secret-values.yaml")},
			kinds: map[string]int{"Secret": 0, "StatefulSet": 1},
			expect: func(t *testing.T, r *Rendered) {
				s, c, _ := statefulSet(r)
				if v, _ := env(c, "ASSISTANT_OTEL_SECRET_FILE"); v != "/etc/assistant-otel/secret/current,/etc/assistant-otel/secret/next" {
					t.Errorf("ASSISTANT_OTEL_SECRET_FILE %q, want both rotation files", v)
				}
				for _, v := range s.Spec.Template.Spec.Volumes {
					if v.Name == "webhook-secret" && v.Secret.SecretName != "watson-webhook" {
						t.Errorf("webhook secret volume uses %q, want the existing Secret", v.Secret.SecretName)
					}
				}
				if !strings.HasSuffix(c.Image, "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") {
					t.Errorf("image %q not by digest", c.Image)
				}
				if c.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
					t.Errorf("readiness scheme %s with TLS in the pod", c.ReadinessProbe.HTTPGet.Scheme)
				}
				if v, _ := env(c, "ASSISTANT_OTEL_PSEUDONYM_KEY_FILE"); v != "/etc/assistant-otel/pseudonym/key" {
					t.Errorf("ASSISTANT_OTEL_PSEUDONYM_KEY_FILE %q", v)
				}
			},
		},
		{
			name: "serviceMonitor, HPA and backfill CronJob",
			args: []string{"-f", valuesFile("all-features-values.yaml")},
			kinds: map[string]int{"ServiceMonitor": 1, "HorizontalPodAutoscaler": 1, "CronJob": 1,
				"PersistentVolumeClaim": 1, "StatefulSet": 1},
			expect: func(t *testing.T, r *Rendered) {
				cj, _ := One[batchv1.CronJob](r)
				args := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
				for _, want := range []string{"--via=http://wa-assistant-otel:8080/webhook", "--from=2026-11-01",
					"--environment-id=11111111-1111-4111-8111-111111111111"} {
					if !slices.Contains(args, want) {
						t.Errorf("backfill args %v lack %s", args, want)
					}
				}
				sm, _ := One[ServiceMonitor](r)
				if sm.Labels["release"] != "kube-prometheus-stack" {
					t.Errorf("ServiceMonitor labels %v", sm.Labels)
				}
				// The backfill job posts to the webhook through the NetworkPolicy.
				np, _ := One[networkingv1.NetworkPolicy](r)
				found := false
				for _, p := range np.Spec.Ingress[0].From {
					if p.PodSelector != nil && p.PodSelector.MatchLabels["app.kubernetes.io/component"] == "backfill" {
						found = true
					}
				}
				if !found {
					t.Error("the NetworkPolicy does not let the backfill job reach the webhook")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, tc.args...)
			if err := RunChecks(r); err != nil {
				t.Errorf("policy checks:\n%v", err)
			}
			got := kinds(r)
			for k, n := range tc.kinds {
				if got[k] != n {
					t.Errorf("rendered %d %s, want %d (all: %v)", got[k], k, n, got)
				}
			}
			tc.expect(t, r)
		})
	}
}

// TestChartRefuses: settings that would lose events, leak a secret or break Watson's https requirement
// make `helm template` fail with a message that says why.
func TestChartRefuses(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"ingress without TLS", []string{"--set", "ingress.enabled=true", "--set", "ingress.hosts={a.example.com}"}, "Watson Assistant requires an https URL"},
		{"memory limit above the container's", []string{"--set", "config.memoryLimit=268435456"}, "must stay at least 32 MiB below"},
		{"memory limit without headroom", []string{"--set", "resources.limits.memory=150Mi"}, "must stay at least 32 MiB below"},
		{"grace period not longer than the drain", []string{"--set", "terminationGracePeriodSeconds=15"}, "must be longer than config.drainTimeout"},
		{"grace period shorter than a minutes drain", []string{"--set", "config.drainTimeout=1m30s", "--set", "terminationGracePeriodSeconds=60"}, "must be longer than config.drainTimeout"},
		{"image tag latest", []string{"--set", "image.tag=latest"}, "pin the image"},
		{"bad digest", []string{"--set", "image.digest=sha256:abc"}, "is not sha256"},
		{"secret in plain env", []string{"--set", "extraEnv[0].name=ASSISTANT_OTEL_SECRET", "--set", "extraEnv[0].value=x"}, "must not be a plain value"},
		{"spool volume not larger than the spool", []string{"--set", "persistence.size=1Gi"}, "must exceed config.spoolMaxBytes"},
		{"backfill with a moving start", []string{"-f", valuesFile("all-features-values.yaml"), "--set", "backfill.from=7d"}, "must be an absolute date"},
		{"misspelt value (values.schema.json)", []string{"--set", "ingress.host=a.example.com"}, "additional properties 'host' not allowed"},
		{"drain timeout not a duration (values.schema.json)", []string{"--set", "config.drainTimeout=15"}, "want string"},
		{"serviceMonitor without metrics", []string{"--set", "serviceMonitor.enabled=true", "--set", "metrics.enabled=false"}, "needs metrics.enabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Template(tc.args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded; want a failure saying %q", tc.args, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("helm template %v failed without %q: %v", tc.args, tc.want, err)
			}
		})
	}
}

// TestStrictDecoding: a misspelt field, a value of the wrong type, a duplicate key or an unknown kind in
// the rendered YAML fails decoding.
func TestStrictDecoding(t *testing.T) {
	out, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(out); err != nil {
		t.Fatalf("the unmodified rendering does not decode: %v", err)
	}
	cases := []struct{ name, old, new string }{
		{"unknown field", "  serviceName: ", "  serviceNmae: "},
		{"field of another case", "  serviceName: ", "  ServiceName: "},
		{"wrong type", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: \"30\""},
		{"duplicate key", "  podManagementPolicy: Parallel", "  podManagementPolicy: Parallel\n  podManagementPolicy: OrderedReady"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgett"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(out), tc.old) {
				t.Fatalf("rendering lacks %q", tc.old)
			}
			broken := strings.Replace(string(out), tc.old, tc.new, 1)
			if _, err := Decode([]byte(broken)); err == nil {
				t.Fatalf("decoding accepted the rendering with %q", tc.new)
			} else {
				t.Logf("refused as wanted: %v", err)
			}
		})
	}
}

// TestStrictDecodingServiceMonitor: a misspelt ServiceMonitor field fails both the Prometheus Operator's
// type and the chart's subset.
func TestStrictDecodingServiceMonitor(t *testing.T) {
	out, err := Template("-f", valuesFile("all-features-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ old, new, want string }{
		{"      scrapeTimeout: ", "      scrapeTimout: ", "Prometheus Operator type"},
		{"  namespaceSelector:", "  namespaceSelecter:", "Prometheus Operator type"},
	} {
		if !strings.Contains(string(out), tc.old) {
			t.Fatalf("rendering lacks %q", tc.old)
		}
		_, err := Decode([]byte(strings.Replace(string(out), tc.old, tc.new, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: decoding error %v, want one naming the %s", tc.new, err, tc.want)
		}
	}
}

func container(r *Rendered) *corev1.Container {
	_, c, _ := statefulSet(r)
	return c
}

func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value, c.Env[i].ValueFrom = value, nil
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

func removeEnv(c *corev1.Container, name string) {
	c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
}

func removeKind(r *Rendered, kind string) {
	r.Objects = slices.DeleteFunc(r.Objects, func(o Object) bool { return o.Kind == kind })
}

func ptr[T any](v T) *T { return &v }

// TestChecksCatchBreakage breaks one rendered object in memory per case: the check meant to catch it must
// pass on the unbroken rendering and fail on the broken one.
func TestChecksCatchBreakage(t *testing.T) {
	base := map[string][]string{
		"default":  nil,
		"ingress":  {"-f", valuesFile("ingress-tls-values.yaml")},
		"all":      {"-f", valuesFile("all-features-values.yaml")},
		"existing": {"-f", valuesFile("existing-secret-values.yaml")},
	}
	streams := map[string][]byte{}
	for name, args := range base {
		out, err := Template(args...)
		if err != nil {
			t.Fatal(err)
		}
		streams[name] = out
	}
	cases := []struct {
		name, base string
		check      func(*Rendered) error
		breakIt    func(t *testing.T, r *Rendered)
	}{
		{"writable root filesystem", "default", CheckSecurity, func(t *testing.T, r *Rendered) {
			container(r).SecurityContext.ReadOnlyRootFilesystem = ptr(false)
		}},
		{"privilege escalation", "default", CheckSecurity, func(t *testing.T, r *Rendered) {
			container(r).SecurityContext.AllowPrivilegeEscalation = nil
		}},
		{"root user", "default", CheckSecurity, func(t *testing.T, r *Rendered) {
			s, _, _ := statefulSet(r)
			s.Spec.Template.Spec.SecurityContext.RunAsUser = ptr(int64(0))
		}},
		{"capability added", "default", CheckSecurity, func(t *testing.T, r *Rendered) {
			container(r).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}},
		{"no seccomp", "default", CheckSecurity, func(t *testing.T, r *Rendered) {
			s, c, _ := statefulSet(r)
			c.SecurityContext.SeccompProfile = nil
			s.Spec.Template.Spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}},
		{"backfill job runs as root", "all", CheckSecurity, func(t *testing.T, r *Rendered) {
			cj, _ := One[batchv1.CronJob](r)
			cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].SecurityContext.RunAsNonRoot = ptr(false)
		}},
		{"readiness on /healthz", "default", CheckProbes, func(t *testing.T, r *Rendered) {
			container(r).ReadinessProbe.HTTPGet.Path = "/healthz"
		}},
		{"no liveness probe", "default", CheckProbes, func(t *testing.T, r *Rendered) {
			container(r).LivenessProbe = nil
		}},
		{"startup probe on /readyz", "default", CheckProbes, func(t *testing.T, r *Rendered) {
			container(r).StartupProbe.HTTPGet.Path = "/readyz"
		}},
		{"service links on", "all", CheckSecurity, func(t *testing.T, r *Rendered) {
			cj, _ := One[batchv1.CronJob](r)
			cj.Spec.JobTemplate.Spec.Template.Spec.EnableServiceLinks = nil
		}},
		{"probe scheme HTTP with TLS in the pod", "existing", CheckProbes, func(t *testing.T, r *Rendered) {
			container(r).ReadinessProbe.HTTPGet.Scheme = corev1.URISchemeHTTP
		}},
		{"grace period equal to the drain", "default", CheckGracePeriod, func(t *testing.T, r *Rendered) {
			s, _, _ := statefulSet(r)
			s.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(15))
		}},
		{"drain longer than the grace period", "default", CheckGracePeriod, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_DRAIN_TIMEOUT", "45s")
		}},
		{"no PodDisruptionBudget", "default", CheckPDB, func(t *testing.T, r *Rendered) {
			removeKind(r, "PodDisruptionBudget")
		}},
		{"PodDisruptionBudget selecting other pods", "default", CheckPDB, func(t *testing.T, r *Rendered) {
			pdb, _ := One[policyv1.PodDisruptionBudget](r)
			pdb.Spec.Selector.MatchLabels["app.kubernetes.io/component"] = "other"
		}},
		{"no NetworkPolicy", "default", CheckNetworkPolicy, func(t *testing.T, r *Rendered) {
			removeKind(r, "NetworkPolicy")
		}},
		{"no DNS egress", "default", CheckNetworkPolicy, func(t *testing.T, r *Rendered) {
			np, _ := One[networkingv1.NetworkPolicy](r)
			np.Spec.Egress = np.Spec.Egress[:1]
		}},
		{"Collector port not allowed", "ingress", CheckNetworkPolicy, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.observability.svc:14317")
		}},
		{"egress to every port", "default", CheckNetworkPolicy, func(t *testing.T, r *Rendered) {
			np, _ := One[networkingv1.NetworkPolicy](r)
			np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{})
		}},
		{"secret in a plain variable", "default", CheckSecretsNotInEnv, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_SECRET", "hunter2")
		}},
		{"OTLP headers as a literal", "existing", CheckSecretsNotInEnv, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc")
		}},
		{"secret value in an argument", "default", CheckSecretsNotInEnv, func(t *testing.T, r *Rendered) {
			sec, _ := One[corev1.Secret](r)
			c := container(r)
			c.Args = append(c.Args, "--note="+string(sec.Data["webhook-secret"]))
		}},
		{"secret file off the Secret volume", "default", CheckSecretsNotInEnv, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_SECRET_FILE", "/tmp/secret")
		}},
		{"secret mounted with subPath", "default", CheckSecretsNotInEnv, func(t *testing.T, r *Rendered) {
			c := container(r)
			for i := range c.VolumeMounts {
				if c.VolumeMounts[i].Name == "webhook-secret" {
					c.VolumeMounts[i].SubPath = "webhook-secret"
				}
			}
		}},
		{"image latest", "default", CheckImagesPinned, func(t *testing.T, r *Rendered) {
			container(r).Image = "registry.example.com:5000/assistant-otel:latest"
		}},
		{"image without tag", "default", CheckImagesPinned, func(t *testing.T, r *Rendered) {
			container(r).Image = "registry.example.com:5000/assistant-otel"
		}},
		{"memory limit flag above the container limit", "default", CheckMemoryLimit, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_MEMORY_LIMIT", "268435456")
		}},
		{"GOMEMLIMIT set", "default", CheckMemoryLimit, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "GOMEMLIMIT", "1GiB")
		}},
		{"no container memory limit", "default", CheckMemoryLimit, func(t *testing.T, r *Rendered) {
			delete(container(r).Resources.Limits, corev1.ResourceMemory)
		}},
		{"spool not on the claim", "default", CheckSpool, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_SPOOL_DIR", "/var/lib/elsewhere")
		}},
		{"spool on an emptyDir", "default", CheckSpool, func(t *testing.T, r *Rendered) {
			s, _, _ := statefulSet(r)
			s.Spec.Template.Spec.Volumes = append(s.Spec.Template.Spec.Volumes, corev1.Volume{Name: "spool",
				VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}},
		{"claims deleted on scale-in", "default", CheckSpool, func(t *testing.T, r *Rendered) {
			s, _, _ := statefulSet(r)
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
		}},
		{"no pod name", "default", CheckPodIdentity, func(t *testing.T, r *Rendered) {
			removeEnv(container(r), "K8S_POD_NAME")
		}},
		{"ServiceMonitor on the webhook port", "all", CheckMetrics, func(t *testing.T, r *Rendered) {
			sm, _ := One[ServiceMonitor](r)
			sm.Spec.Endpoints[0].Port = "http"
		}},
		{"metrics listen on another port", "default", CheckMetrics, func(t *testing.T, r *Rendered) {
			setEnv(container(r), "ASSISTANT_OTEL_METRICS_LISTEN", ":9090")
		}},
		{"ServiceMonitor selecting nothing", "all", CheckMetrics, func(t *testing.T, r *Rendered) {
			sm, _ := One[ServiceMonitor](r)
			sm.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "other"
		}},
		{"headless Service not headless", "default", CheckServices, func(t *testing.T, r *Rendered) {
			for _, s := range All[corev1.Service](r) {
				s.Spec.ClusterIP = ""
			}
		}},
		{"Service targets a missing port", "default", CheckServices, func(t *testing.T, r *Rendered) {
			All[corev1.Service](r)[0].Spec.Ports[0].TargetPort.StrVal = "web"
		}},
		{"Ingress without TLS", "ingress", CheckIngress, func(t *testing.T, r *Rendered) {
			ing, _ := One[networkingv1.Ingress](r)
			ing.Spec.TLS = nil
		}},
		{"Ingress publishes /", "ingress", CheckIngress, func(t *testing.T, r *Rendered) {
			ing, _ := One[networkingv1.Ingress](r)
			ing.Spec.Rules[0].HTTP.Paths[0].Path = "/"
		}},
		{"HPA scales in", "all", CheckHPA, func(t *testing.T, r *Rendered) {
			h, _ := One[autoscalingv2.HorizontalPodAutoscaler](r)
			h.Spec.Behavior = nil
		}},
		{"replicas fixed beside an HPA", "all", CheckHPA, func(t *testing.T, r *Rendered) {
			s, _, _ := statefulSet(r)
			s.Spec.Replicas = ptr(int32(2))
		}},
		{"backfill runs concurrently", "all", CheckBackfill, func(t *testing.T, r *Rendered) {
			cj, _ := One[batchv1.CronJob](r)
			cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
		}},
		{"backfill state on an emptyDir", "all", CheckBackfill, func(t *testing.T, r *Rendered) {
			cj, _ := One[batchv1.CronJob](r)
			spec := &cj.Spec.JobTemplate.Spec.Template.Spec
			for i := range spec.Volumes {
				if spec.Volumes[i].Name == "state" {
					spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode(streams[tc.base])
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(r); err != nil {
				t.Fatalf("the check fails before the breakage: %v", err)
			}
			tc.breakIt(t, r)
			err = tc.check(r)
			if err == nil {
				t.Fatal("the check passed on the broken rendering")
			}
			t.Logf("caught: %v", err)
		})
	}
}

// TestGeneratedSecretIsBase64 guards the Secret template: its data decodes, so a value typed into Watson
// Assistant is exactly what the pod reads.
func TestGeneratedSecretIsBase64(t *testing.T) {
	out, err := Template("--set", "secret.value=s3cr3t value")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := One[corev1.Secret](r)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(sec.Data["webhook-secret"]); got != "s3cr3t value" {
		t.Fatalf("secret %q (base64 %s)", got, base64.StdEncoding.EncodeToString(sec.Data["webhook-secret"]))
	}
}
