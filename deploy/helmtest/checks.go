package helmtest

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Check is one production policy the rendered chart must meet.
type Check struct {
	Name string
	Fn   func(*Rendered) error
}

// Checks are run on every rendering of the chart.
var Checks = []Check{
	{"security context: non-root, read-only root filesystem, no escalation, no capabilities, seccomp", CheckSecurity},
	{"probes: startup and liveness /healthz, readiness /readyz on a named container port", CheckProbes},
	{"terminationGracePeriodSeconds longer than --drain-timeout", CheckGracePeriod},
	{"PodDisruptionBudget selects the pods", CheckPDB},
	{"NetworkPolicy: ingress to the webhook port, egress to the Collector and DNS only", CheckNetworkPolicy},
	{"secrets only from files or secretKeyRef, never in plain env or args", CheckSecretsNotInEnv},
	{"images pinned (tag other than latest, or digest)", CheckImagesPinned},
	{"--memory-limit below the container's memory limit", CheckMemoryLimit},
	{"spool on a volume per pod, larger than --spool-max-bytes", CheckSpool},
	{"pod identity from the downward API", CheckPodIdentity},
	{"metrics port and ServiceMonitor agree", CheckMetrics},
	{"Services select the pods; headless Service governs the StatefulSet", CheckServices},
	{"Ingress: TLS for every host, backend is the Service", CheckIngress},
	{"HorizontalPodAutoscaler targets the StatefulSet and only scales out", CheckHPA},
	{"backfill CronJob: Forbid, state on a PersistentVolumeClaim", CheckBackfill},
}

// RunChecks runs every check and joins their errors.
func RunChecks(r *Rendered) error {
	var errs []error
	for _, c := range Checks {
		if err := c.Fn(r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

type podTemplate struct {
	owner string
	meta  metav1.ObjectMeta
	spec  *corev1.PodSpec
}

// pods returns the pod templates of the StatefulSets and CronJobs.
func pods(r *Rendered) []podTemplate {
	var out []podTemplate
	for _, s := range All[appsv1.StatefulSet](r) {
		out = append(out, podTemplate{"StatefulSet " + s.Name, s.Spec.Template.ObjectMeta, &s.Spec.Template.Spec})
	}
	for _, c := range All[batchv1.CronJob](r) {
		t := &c.Spec.JobTemplate.Spec.Template
		out = append(out, podTemplate{"CronJob " + c.Name, t.ObjectMeta, &t.Spec})
	}
	return out
}

func statefulSet(r *Rendered) (*appsv1.StatefulSet, *corev1.Container, error) {
	s, err := One[appsv1.StatefulSet](r)
	if err != nil {
		return nil, nil, err
	}
	if len(s.Spec.Template.Spec.Containers) != 1 {
		return nil, nil, fmt.Errorf("StatefulSet %s: want one container, have %d", s.Name, len(s.Spec.Template.Spec.Containers))
	}
	return s, &s.Spec.Template.Spec.Containers[0], nil
}

// env returns the literal value of name in c's environment, and whether it is set at all.
func env(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// CheckSecurity: every pod runs as a non-root user with a read-only root filesystem, no privilege
// escalation, every capability dropped and the RuntimeDefault seccomp profile, without a service account
// token.
func CheckSecurity(r *Rendered) error {
	var errs []error
	ps := pods(r)
	if len(ps) == 0 {
		return errors.New("no pod template rendered")
	}
	for _, p := range ps {
		psc := p.spec.SecurityContext
		if psc == nil {
			psc = &corev1.PodSecurityContext{}
		}
		if p.spec.AutomountServiceAccountToken == nil || *p.spec.AutomountServiceAccountToken {
			errs = append(errs, fmt.Errorf("%s: automountServiceAccountToken is not false", p.owner))
		}
		if p.spec.EnableServiceLinks == nil || *p.spec.EnableServiceLinks {
			errs = append(errs, fmt.Errorf("%s: enableServiceLinks is not false (a Service named assistant-otel would inject ASSISTANT_OTEL_* variables)", p.owner))
		}
		if p.spec.HostNetwork || p.spec.HostPID || p.spec.HostIPC {
			errs = append(errs, fmt.Errorf("%s: uses a host namespace", p.owner))
		}
		for _, c := range append(slices.Clone(p.spec.InitContainers), p.spec.Containers...) {
			sc := c.SecurityContext
			if sc == nil {
				errs = append(errs, fmt.Errorf("%s container %s: no securityContext", p.owner, c.Name))
				continue
			}
			where := fmt.Sprintf("%s container %s", p.owner, c.Name)
			nonRoot := sc.RunAsNonRoot
			if nonRoot == nil {
				nonRoot = psc.RunAsNonRoot
			}
			if nonRoot == nil || !*nonRoot {
				errs = append(errs, fmt.Errorf("%s: runAsNonRoot is not true", where))
			}
			uid := sc.RunAsUser
			if uid == nil {
				uid = psc.RunAsUser
			}
			if uid == nil || *uid == 0 {
				errs = append(errs, fmt.Errorf("%s: runAsUser is unset or 0 (the image's user is 65532)", where))
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s: readOnlyRootFilesystem is not true", where))
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				errs = append(errs, fmt.Errorf("%s: allowPrivilegeEscalation is not false", where))
			}
			if sc.Privileged != nil && *sc.Privileged {
				errs = append(errs, fmt.Errorf("%s: privileged", where))
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				errs = append(errs, fmt.Errorf("%s: capabilities do not drop ALL", where))
			} else if len(sc.Capabilities.Add) > 0 {
				errs = append(errs, fmt.Errorf("%s: adds capabilities %v", where, sc.Capabilities.Add))
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil {
				seccomp = psc.SeccompProfile
			}
			if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
				errs = append(errs, fmt.Errorf("%s: seccomp profile is not RuntimeDefault", where))
			}
		}
	}
	return errors.Join(errs...)
}

func httpProbe(c *corev1.Container, p *corev1.Probe, what, path string) error {
	if p == nil || p.HTTPGet == nil {
		return fmt.Errorf("no HTTP %s probe", what)
	}
	if p.HTTPGet.Path != path {
		return fmt.Errorf("%s probe path %q, want %q", what, p.HTTPGet.Path, path)
	}
	port := p.HTTPGet.Port
	if port.StrVal == "" {
		return fmt.Errorf("%s probe port %s is not a named container port", what, port.String())
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			listen, _ := env(c, "ASSISTANT_OTEL_LISTEN")
			if want := fmt.Sprintf(":%d", cp.ContainerPort); listen != want {
				return fmt.Errorf("%s probe port %s is %d, but ASSISTANT_OTEL_LISTEN is %q", what, cp.Name, cp.ContainerPort, listen)
			}
			_, tls := env(c, "ASSISTANT_OTEL_TLS_CERT")
			if want := map[bool]corev1.URIScheme{true: corev1.URISchemeHTTPS, false: corev1.URISchemeHTTP}[tls]; p.HTTPGet.Scheme != want {
				return fmt.Errorf("%s probe scheme %s, want %s (TLS in the pod: %v)", what, p.HTTPGet.Scheme, want, tls)
			}
			return nil
		}
	}
	return fmt.Errorf("%s probe port %q names no container port", what, port.StrVal)
}

// CheckProbes: start-up and liveness on /healthz, readiness on /readyz (which stays 200 while exports are degraded and
// answers 503 only when events cannot be accepted), both on the webhook port.
func CheckProbes(r *Rendered) error {
	_, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	return errors.Join(
		httpProbe(c, c.StartupProbe, "startup", "/healthz"),
		httpProbe(c, c.LivenessProbe, "liveness", "/healthz"),
		httpProbe(c, c.ReadinessProbe, "readiness", "/readyz"),
	)
}

// DefaultDrainTimeout is the default of --drain-timeout (README, Configuration).
const DefaultDrainTimeout = 15 * time.Second

// CheckGracePeriod: the kubelet waits longer than the service's drain.
func CheckGracePeriod(r *Rendered) error {
	s, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	drain := DefaultDrainTimeout
	if v, ok := env(c, "ASSISTANT_OTEL_DRAIN_TIMEOUT"); ok {
		if drain, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("ASSISTANT_OTEL_DRAIN_TIMEOUT %q: %w", v, err)
		}
	}
	g := s.Spec.Template.Spec.TerminationGracePeriodSeconds
	if g == nil {
		return errors.New("terminationGracePeriodSeconds unset (the default, 30 s, is not checked against the drain)")
	}
	if grace := time.Duration(*g) * time.Second; grace <= drain {
		return fmt.Errorf("terminationGracePeriodSeconds %v is not longer than the drain timeout %v", grace, drain)
	}
	return nil
}

func selects(sel *metav1.LabelSelector, podLabels map[string]string) (bool, error) {
	if sel == nil {
		return false, errors.New("no selector")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	if s.Empty() {
		return false, errors.New("empty selector (selects every pod)")
	}
	return s.Matches(labels.Set(podLabels)), nil
}

// CheckPDB: a PodDisruptionBudget covers the StatefulSet's pods and allows at least one eviction (a
// budget that allows none blocks node drains for good).
func CheckPDB(r *Rendered) error {
	s, _, err := statefulSet(r)
	if err != nil {
		return err
	}
	pdb, err := One[policyv1.PodDisruptionBudget](r)
	if err != nil {
		return err
	}
	if ok, err := selects(pdb.Spec.Selector, s.Spec.Template.Labels); err != nil || !ok {
		return fmt.Errorf("PodDisruptionBudget %s does not select the pods (%v)", pdb.Name, err)
	}
	if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		return errors.New("neither maxUnavailable nor minAvailable")
	}
	if m := pdb.Spec.MaxUnavailable; m != nil && m.IntValue() < 1 && m.StrVal == "" {
		return fmt.Errorf("maxUnavailable %s allows no eviction", m.String())
	}
	return nil
}

func portAllowed(ports []networkingv1.NetworkPolicyPort, port intOrName, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true // every port
	}
	for _, p := range ports {
		pr := corev1.ProtocolTCP
		if p.Protocol != nil {
			pr = *p.Protocol
		}
		if pr != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if (p.Port.StrVal != "" && p.Port.StrVal == port.name) || (p.Port.StrVal == "" && int(p.Port.IntVal) == port.num) {
			return true
		}
	}
	return false
}

type intOrName struct {
	num  int
	name string
}

// otlpPort is the port of OTEL_EXPORTER_OTLP_ENDPOINT, or 4317 (gRPC) when none is set.
func otlpPort(c *corev1.Container) (int, error) {
	v, ok := env(c, "OTEL_EXPORTER_OTLP_ENDPOINT")
	if !ok {
		return 4317, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return 0, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q is not a URL", v)
	}
	if p := u.Port(); p != "" {
		return strconv.Atoi(p)
	}
	if u.Scheme == "https" {
		return 443, nil
	}
	return 80, nil
}

// CheckNetworkPolicy: the pods are isolated both ways; the webhook port is open; egress reaches the
// Collector's port and DNS, and nothing is open to every port.
func CheckNetworkPolicy(r *Rendered) error {
	s, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	np, err := One[networkingv1.NetworkPolicy](r)
	if err != nil {
		return err
	}
	if ok, err := selects(&np.Spec.PodSelector, s.Spec.Template.Labels); err != nil || !ok {
		return fmt.Errorf("NetworkPolicy %s does not select the pods (%v)", np.Name, err)
	}
	var errs []error
	for _, t := range []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress} {
		if !slices.Contains(np.Spec.PolicyTypes, t) {
			errs = append(errs, fmt.Errorf("policyTypes lacks %s", t))
		}
	}
	var httpPort int
	for _, p := range c.Ports {
		if p.Name == "http" {
			httpPort = int(p.ContainerPort)
		}
	}
	webhook := intOrName{httpPort, "http"}
	in := false
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			errs = append(errs, errors.New("an ingress rule opens every port"))
		}
		if portAllowed(rule.Ports, webhook, corev1.ProtocolTCP) {
			in = true
		}
	}
	if !in {
		errs = append(errs, errors.New("no ingress rule allows the webhook port"))
	}
	collector, err := otlpPort(c)
	if err != nil {
		errs = append(errs, err)
	}
	var toCollector, dnsUDP, dnsTCP bool
	for _, rule := range np.Spec.Egress {
		if len(rule.Ports) == 0 {
			errs = append(errs, errors.New("an egress rule opens every port"))
			continue
		}
		toCollector = toCollector || portAllowed(rule.Ports, intOrName{num: collector}, corev1.ProtocolTCP)
		dnsUDP = dnsUDP || portAllowed(rule.Ports, intOrName{num: 53}, corev1.ProtocolUDP)
		dnsTCP = dnsTCP || portAllowed(rule.Ports, intOrName{num: 53}, corev1.ProtocolTCP)
	}
	if !toCollector {
		errs = append(errs, fmt.Errorf("no egress rule allows the Collector's port %d", collector))
	}
	if !dnsUDP || !dnsTCP {
		errs = append(errs, errors.New("no egress rule allows DNS on port 53 (UDP and TCP)"))
	}
	return errors.Join(errs...)
}

// sensitiveEnv are the variables that carry a secret by value.
var sensitiveEnv = regexp.MustCompile(`^(ASSISTANT_OTEL_(SECRET|PSEUDONYM_KEY|API_KEY|BEARER_TOKEN)|OTEL_EXPORTER_OTLP(_[A-Z]+)?_HEADERS|GRAFANA.*PASSWORD)$`)

// CheckSecretsNotInEnv: no secret variable has a literal value; the webhook secret comes from files on a
// Secret volume named by ASSISTANT_OTEL_SECRET_FILE (or --secret-file); no rendered Secret's value appears
// in any env value or argument.
func CheckSecretsNotInEnv(r *Rendered) error {
	var errs []error
	var secretValues []string
	for _, s := range All[corev1.Secret](r) {
		for _, v := range s.Data {
			if len(v) > 0 {
				secretValues = append(secretValues, string(v))
			}
		}
		for _, v := range s.StringData {
			secretValues = append(secretValues, v)
		}
	}
	for _, p := range pods(r) {
		for _, c := range p.spec.Containers {
			where := fmt.Sprintf("%s container %s", p.owner, c.Name)
			for _, e := range c.Env {
				if sensitiveEnv.MatchString(e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					errs = append(errs, fmt.Errorf("%s: %s is not from a file or a secretKeyRef", where, e.Name))
				}
				for _, sv := range secretValues {
					if e.Value != "" && strings.Contains(e.Value, sv) {
						errs = append(errs, fmt.Errorf("%s: env %s holds a Secret's value", where, e.Name))
					}
				}
			}
			for _, a := range append(slices.Clone(c.Command), c.Args...) {
				for _, sv := range secretValues {
					if strings.Contains(a, sv) {
						errs = append(errs, fmt.Errorf("%s: an argument holds a Secret's value", where))
					}
				}
			}
			files, _ := env(&c, "ASSISTANT_OTEL_SECRET_FILE")
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--secret-file="); ok {
					files = v
				}
			}
			if files == "" {
				errs = append(errs, fmt.Errorf("%s: no --secret-file / ASSISTANT_OTEL_SECRET_FILE", where))
				continue
			}
			for _, f := range strings.Split(files, ",") {
				if err := onSecretVolume(p.spec, &c, f); err != nil {
					errs = append(errs, fmt.Errorf("%s: secret file %s: %w", where, f, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// onSecretVolume checks that file lies in a read-only mount of a Secret volume that projects its name.
func onSecretVolume(spec *corev1.PodSpec, c *corev1.Container, file string) error {
	for _, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/") + "/"
		rel, ok := strings.CutPrefix(file, dir)
		if !ok {
			continue
		}
		if m.SubPath != "" {
			return errors.New("mounted with subPath: a changed Secret would never reach the file")
		}
		if !m.ReadOnly {
			return errors.New("mount is not read-only")
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret == nil {
				return fmt.Errorf("volume %s is not a Secret", v.Name)
			}
			if len(v.Secret.Items) == 0 {
				return nil
			}
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					return nil
				}
			}
			return fmt.Errorf("the Secret volume %s projects no %s", v.Name, rel)
		}
		return fmt.Errorf("no volume %s", m.Name)
	}
	return errors.New("not under any volume mount")
}

var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// CheckImagesPinned: every image has a digest, or a tag other than latest.
func CheckImagesPinned(r *Rendered) error {
	var errs []error
	for _, p := range pods(r) {
		for _, c := range append(slices.Clone(p.spec.InitContainers), p.spec.Containers...) {
			if digestRef.MatchString(c.Image) {
				continue
			}
			name := c.Image
			if i := strings.LastIndex(name, "/"); i >= 0 {
				name = name[i+1:]
			}
			_, tag, ok := strings.Cut(name, ":")
			if !ok || tag == "" || tag == "latest" {
				errs = append(errs, fmt.Errorf("%s container %s: image %q is not pinned", p.owner, c.Name, c.Image))
			}
		}
	}
	return errors.Join(errs...)
}

// MemoryHeadroom is the least room between --memory-limit and the container limit: the limit bounds the
// Go heap only; the binary, the spool's mapped pages (about 26 MiB) and stacks come on top (README,
// "Memory under any request mix").
const MemoryHeadroom = 32 << 20

// CheckMemoryLimit: the container has memory requests and limits, and --memory-limit is below the limit
// with MemoryHeadroom to spare; GOMEMLIMIT (which wins over it) is not set.
func CheckMemoryLimit(r *Rendered) error {
	_, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		return errors.New("no memory limit on the container")
	}
	if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
		return errors.New("no memory request on the container")
	}
	if _, ok := env(c, "GOMEMLIMIT"); ok {
		return errors.New("GOMEMLIMIT is set: it wins over --memory-limit; set config.memoryLimit instead")
	}
	v, ok := env(c, "ASSISTANT_OTEL_MEMORY_LIMIT")
	if !ok {
		return errors.New("ASSISTANT_OTEL_MEMORY_LIMIT is not set (the default, 64 MiB, is not checked against the limit)")
	}
	goLimit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || goLimit <= 0 {
		return fmt.Errorf("ASSISTANT_OTEL_MEMORY_LIMIT %q is not a positive number of bytes", v)
	}
	if goLimit+MemoryHeadroom > limit.Value() {
		return fmt.Errorf("--memory-limit %d is not %d bytes below the container limit %s (%d)", goLimit, MemoryHeadroom, limit.String(), limit.Value())
	}
	return nil
}

// CheckSpool: the spool directory is a mount of a volumeClaimTemplate (a volume per pod), larger than
// --spool-max-bytes, kept when the StatefulSet is scaled in.
func CheckSpool(r *Rendered) error {
	s, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	dir, ok := env(c, "ASSISTANT_OTEL_SPOOL_DIR")
	if !ok || dir == "" {
		return errors.New("ASSISTANT_OTEL_SPOOL_DIR is not set: events would wait in memory only")
	}
	var vol string
	for _, m := range c.VolumeMounts {
		if m.MountPath == dir && !m.ReadOnly {
			vol = m.Name
		}
	}
	if vol == "" {
		return fmt.Errorf("no writable volume mounted at the spool directory %s (the root filesystem is read-only)", dir)
	}
	for _, v := range s.Spec.Template.Spec.Volumes {
		if v.Name == vol {
			return fmt.Errorf("the spool volume %s is a pod volume, not a volumeClaimTemplate", vol)
		}
	}
	var errs []error
	found := false
	for _, t := range s.Spec.VolumeClaimTemplates {
		if t.Name != vol {
			continue
		}
		found = true
		size, ok := t.Spec.Resources.Requests[corev1.ResourceStorage]
		if !ok {
			errs = append(errs, errors.New("spool claim requests no storage"))
			break
		}
		maxBytes := int64(1 << 30)
		if v, ok := env(c, "ASSISTANT_OTEL_SPOOL_MAX_BYTES"); ok {
			if maxBytes, err = strconv.ParseInt(v, 10, 64); err != nil {
				errs = append(errs, fmt.Errorf("ASSISTANT_OTEL_SPOOL_MAX_BYTES %q: %w", v, err))
			}
		}
		if size.Value() <= maxBytes {
			errs = append(errs, fmt.Errorf("spool claim %s is not larger than --spool-max-bytes %d", size.String(), maxBytes))
		}
	}
	if !found {
		errs = append(errs, fmt.Errorf("no volumeClaimTemplate named %s", vol))
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		errs = append(errs, errors.New("persistentVolumeClaimRetentionPolicy.whenScaled is not Retain: scaling in would delete an undrained spool"))
	}
	return errors.Join(errs...)
}

// CheckPodIdentity: K8S_POD_NAME comes from the downward API (metadata.name), and the resource attributes
// name the pod.
func CheckPodIdentity(r *Rendered) error {
	_, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	ok := false
	for _, e := range c.Env {
		if e.Name == "K8S_POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			ok = true
		}
	}
	if !ok {
		return errors.New("K8S_POD_NAME is not from fieldRef metadata.name")
	}
	if attrs, _ := env(c, "OTEL_RESOURCE_ATTRIBUTES"); !strings.Contains(attrs, "k8s.pod.name=$(K8S_POD_NAME)") {
		return fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES %q does not name the pod", attrs)
	}
	return nil
}

var promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h))+$`)

// CheckMetrics: ASSISTANT_OTEL_METRICS_LISTEN matches a container port named "metrics"; a ServiceMonitor,
// when rendered, scrapes /metrics on a Service port named "metrics" of a Service that selects the pods.
func CheckMetrics(r *Rendered) error {
	s, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	listen, on := env(c, "ASSISTANT_OTEL_METRICS_LISTEN")
	var port int32
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			port = p.ContainerPort
		}
	}
	if on && listen != fmt.Sprintf(":%d", port) {
		return fmt.Errorf("ASSISTANT_OTEL_METRICS_LISTEN %q but the container port metrics is %d", listen, port)
	}
	sms := All[ServiceMonitor](r)
	if len(sms) > 0 && !on {
		return errors.New("a ServiceMonitor without ASSISTANT_OTEL_METRICS_LISTEN")
	}
	var errs []error
	for _, sm := range sms {
		if len(sm.Spec.Endpoints) == 0 {
			errs = append(errs, errors.New("ServiceMonitor without endpoints"))
		}
		for _, ep := range sm.Spec.Endpoints {
			if ep.Port != "metrics" || ep.Path != "/metrics" {
				errs = append(errs, fmt.Errorf("ServiceMonitor endpoint port %q path %q, want metrics /metrics", ep.Port, ep.Path))
			}
			if ep.Scheme != "" && ep.Scheme != "http" {
				errs = append(errs, fmt.Errorf("ServiceMonitor scheme %q", ep.Scheme))
			}
			for _, d := range []string{ep.Interval, ep.ScrapeTimeout} {
				if d != "" && !promDuration.MatchString(d) {
					errs = append(errs, fmt.Errorf("ServiceMonitor duration %q", d))
				}
			}
			if iv, err1 := time.ParseDuration(ep.Interval); err1 == nil {
				if st, err2 := time.ParseDuration(ep.ScrapeTimeout); err2 == nil && st > iv {
					errs = append(errs, fmt.Errorf("scrapeTimeout %s exceeds interval %s", ep.ScrapeTimeout, ep.Interval))
				}
			}
		}
		if !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, Namespace) {
			errs = append(errs, fmt.Errorf("ServiceMonitor namespaceSelector %v lacks %s", sm.Spec.NamespaceSelector.MatchNames, Namespace))
		}
		matched := false
		for _, svc := range All[corev1.Service](r) {
			if ok, _ := selects(&sm.Spec.Selector, svc.Labels); !ok || svc.Spec.ClusterIP == corev1.ClusterIPNone {
				continue
			}
			for _, p := range svc.Spec.Ports {
				if p.Name == "metrics" && p.TargetPort.StrVal == "metrics" {
					matched = true
				}
			}
			if ok, _ := selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, s.Spec.Template.Labels); !ok {
				errs = append(errs, fmt.Errorf("the Service %s does not select the pods", svc.Name))
			}
		}
		if !matched {
			errs = append(errs, errors.New("the ServiceMonitor selects no Service with a port named metrics"))
		}
	}
	return errors.Join(errs...)
}

// CheckServices: every Service selects the StatefulSet's pods and targets named ports that exist; the
// StatefulSet's serviceName is a headless Service.
func CheckServices(r *Rendered) error {
	s, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	var errs []error
	governing := false
	for _, svc := range All[corev1.Service](r) {
		if ok, _ := selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, s.Spec.Template.Labels); !ok {
			errs = append(errs, fmt.Errorf("the Service %s does not select the pods", svc.Name))
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal == "" || !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.StrVal }) {
				errs = append(errs, fmt.Errorf("the Service %s port %s targets %s, not a named container port", svc.Name, p.Name, p.TargetPort.String()))
			}
		}
		if svc.Name == s.Spec.ServiceName && svc.Spec.ClusterIP == corev1.ClusterIPNone {
			governing = true
		}
	}
	if !governing {
		errs = append(errs, fmt.Errorf("no headless Service %s governs the StatefulSet", s.Spec.ServiceName))
	}
	return errors.Join(errs...)
}

// CheckIngress: every Ingress host is covered by TLS (Watson Assistant requires https) and routes the
// webhook path, only, to the chart's Service on its http port.
func CheckIngress(r *Rendered) error {
	_, c, err := statefulSet(r)
	if err != nil {
		return err
	}
	path, _ := env(c, "ASSISTANT_OTEL_PATH")
	services := map[string]*corev1.Service{}
	for _, s := range All[corev1.Service](r) {
		services[s.Name] = s
	}
	var errs []error
	for _, ing := range All[networkingv1.Ingress](r) {
		tlsHosts := map[string]bool{}
		for _, t := range ing.Spec.TLS {
			if t.SecretName == "" {
				errs = append(errs, fmt.Errorf("the Ingress %s: a TLS entry without secretName", ing.Name))
			}
			for _, h := range t.Hosts {
				tlsHosts[h] = true
			}
		}
		if len(ing.Spec.Rules) == 0 {
			errs = append(errs, fmt.Errorf("the Ingress %s has no rules", ing.Name))
		}
		for _, rule := range ing.Spec.Rules {
			if !tlsHosts[rule.Host] {
				errs = append(errs, fmt.Errorf("the Ingress %s: host %q has no TLS (Watson requires https)", ing.Name, rule.Host))
			}
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Path != path {
					errs = append(errs, fmt.Errorf("the Ingress %s: path %q is not the webhook path %q", ing.Name, p.Path, path))
				}
				b := p.Backend.Service
				if b == nil || services[b.Name] == nil || b.Port.Name != "http" {
					errs = append(errs, fmt.Errorf("the Ingress %s: backend %+v is not the chart's Service port http", ing.Name, b))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// CheckHPA: an autoscaler targets the StatefulSet, the StatefulSet leaves replicas to it, and it does not
// scale in (scaling in strands a removed pod's spool) unless told to.
func CheckHPA(r *Rendered) error {
	hpas := All[autoscalingv2.HorizontalPodAutoscaler](r)
	if len(hpas) == 0 {
		return nil
	}
	s, _, err := statefulSet(r)
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "StatefulSet" || ref.Name != s.Name || ref.APIVersion != "apps/v1" {
			errs = append(errs, fmt.Errorf("HPA %s targets %s/%s %s", h.Name, ref.APIVersion, ref.Kind, ref.Name))
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			errs = append(errs, fmt.Errorf("HPA %s: bad replica range", h.Name))
		}
		b := h.Spec.Behavior
		if b == nil || b.ScaleDown == nil || b.ScaleDown.SelectPolicy == nil || *b.ScaleDown.SelectPolicy != autoscalingv2.DisabledPolicySelect {
			errs = append(errs, fmt.Errorf("HPA %s may scale in: a removed pod's spool would be stranded", h.Name))
		}
	}
	if s.Spec.Replicas != nil {
		errs = append(errs, errors.New("the StatefulSet sets replicas while an HPA manages them (every upgrade would reset them)"))
	}
	return errors.Join(errs...)
}

// CheckBackfill: a backfill CronJob runs one job at a time, keeps its checkpoint and dedupe file on a
// PersistentVolumeClaim the chart renders, and never restarts in place.
func CheckBackfill(r *Rendered) error {
	claims := map[string]bool{}
	for _, p := range All[corev1.PersistentVolumeClaim](r) {
		claims[p.Name] = true
	}
	var errs []error
	for _, cj := range All[batchv1.CronJob](r) {
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			errs = append(errs, fmt.Errorf("CronJob %s: concurrencyPolicy %q, want Forbid", cj.Name, cj.Spec.ConcurrencyPolicy))
		}
		spec := &cj.Spec.JobTemplate.Spec.Template.Spec
		if spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure {
			errs = append(errs, fmt.Errorf("CronJob %s: restartPolicy %q", cj.Name, spec.RestartPolicy))
		}
		for _, c := range spec.Containers {
			if len(c.Args) == 0 || c.Args[0] != "backfill" {
				errs = append(errs, fmt.Errorf("CronJob %s: args %v do not run backfill", cj.Name, c.Args))
			}
			for _, flag := range []string{"--checkpoint=", "--dedupe-file="} {
				file := ""
				for _, a := range c.Args {
					if v, ok := strings.CutPrefix(a, flag); ok {
						file = v
					}
				}
				if file == "" {
					errs = append(errs, fmt.Errorf("CronJob %s: no %s", cj.Name, flag))
					continue
				}
				if err := onClaim(spec, &c, file, claims); err != nil {
					errs = append(errs, fmt.Errorf("CronJob %s: %s%s: %w", cj.Name, flag, file, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func onClaim(spec *corev1.PodSpec, c *corev1.Container, file string, claims map[string]bool) error {
	for _, m := range c.VolumeMounts {
		if !strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		if m.ReadOnly {
			return errors.New("its volume is read-only")
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name {
				if v.PersistentVolumeClaim == nil {
					return fmt.Errorf("volume %s is not a PersistentVolumeClaim (lost after each run)", v.Name)
				}
				if !claims[v.PersistentVolumeClaim.ClaimName] {
					return fmt.Errorf("claim %s is not rendered by the chart", v.PersistentVolumeClaim.ClaimName)
				}
				return nil
			}
		}
	}
	return errors.New("not on any volume (the root filesystem is read-only)")
}
