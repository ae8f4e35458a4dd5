// Package composetest checks the user-facing deployment files (docker-compose.yml, the Dockerfile, the
// Collector, Prometheus and Grafana provisioning files) for consistency, using the reference Go
// implementation of the Compose specification to load docker-compose.yml.
//
// It is its own Go module so that compose-go stays out of the service's go.mod. Run: cd deploy/composetest && go test ./...
//
// Every check is a function from the loaded files to a list of problems. TestDeployFiles runs all of them
// on the files in the repository (no problem allowed); TestChecksCatchBreakage breaks the files in memory,
// one way per case, and requires the matching check to report it, so no check can pass vacuously.
package composetest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v4"
)

const (
	composeFile   = "docker-compose.yml"
	dockerfile    = "Dockerfile"
	collectorFile = "otel-collector.yaml"
	promFile      = "deploy/prometheus/prometheus.yml"
	grafanaDSFile = "deploy/grafana/provisioning/datasources/datasources.yaml"
	toolsScript   = "scripts/tools.sh"
	alertmgrFile  = "deploy/alertmanager/alertmanager.yml"
	caddyFile     = "deploy/caddy/Caddyfile"
	alertmgrName  = "alertmanager"
	proxyName     = "caddy"
	// defaultDrain is serve's --drain-timeout default (config.ParseServe).
	defaultDrain    = 15 * time.Second
	serviceName     = "assistant-otel"
	collectorName   = "otel-collector"
	collectorOTLPGR = 4317
)

// files holds the raw text of every file the checks read, keyed by repo-relative path, so that
// tests can substitute a broken version of any of them.
type files map[string]string

type deployment struct {
	root    string
	raw     files
	project *types.Project
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, composeFile)); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

func readFiles(t *testing.T, root string) files {
	t.Helper()
	raw := files{}
	for _, p := range []string{composeFile, dockerfile, collectorFile, promFile, grafanaDSFile, toolsScript, alertmgrFile, caddyFile} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		raw[p] = string(b)
	}
	return raw
}

// load parses docker-compose.yml with compose-go. consistency=false skips compose-go's own
// cross-reference checks so that the checks below are what reports a broken reference.
func load(root, content string, consistency bool) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir: root,
		ConfigFiles: []types.ConfigFile{{
			Filename: filepath.Join(root, composeFile),
			Content:  []byte(content),
		}},
		// Variables a user's .env may hold (none is required: the secret is a file).
		Environment: types.Mapping{"ASSISTANT_OTEL_SECRET": "compose-test-secret"},
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("assistant-otel", true)
		o.SkipConsistencyCheck = !consistency
		o.ResolvePaths = true
	})
}

type check struct {
	name string
	fn   func(d *deployment) []string
}

var checks = []check{
	{"images pinned or built from the repo Dockerfile", checkImages},
	{"bind mounts exist in the repo", checkBindMounts},
	{"config files passed on the command line are mounted", checkConfigArgsMounted},
	{"named volumes declared", checkNamedVolumes},
	{"depends_on targets exist and conditions match health checks", checkDependsOn},
	{"published ports unique", checkPorts},
	{"assistant-otel exports to the collector service", checkServiceEnv},
	{"Dockerfile pinned, non-root, serve entrypoint", checkDockerfile},
	{"collector exporters point at compose services", checkCollectorTargets},
	{"prometheus scrapes the collector's exporter port", checkPrometheusTargets},
	{"grafana data sources and trace<->logs links", checkGrafana},
	{"the tests run the Prometheus that compose ships", checkTestedPrometheus},
	{"alerts go from prometheus to alertmanager", checkAlertmanager},
	{"the webhook is served over TLS by the proxy", checkTLSProxy},
	{"assistant-otel health check, stop grace and version stamp", checkServiceLifecycle},
}

func runChecks(d *deployment) map[string][]string {
	out := map[string][]string{}
	for _, c := range checks {
		if p := c.fn(d); len(p) > 0 {
			out[c.name] = p
		}
	}
	return out
}

// --- the checks ------------------------------------------------------------------------------------

func sortedServices(p *types.Project) []types.ServiceConfig {
	var s []types.ServiceConfig
	for _, svc := range p.Services {
		s = append(s, svc)
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func checkImages(d *deployment) []string {
	var probs []string
	for _, s := range sortedServices(d.project) {
		if s.Build != nil {
			if !inside(d.root, s.Build.Context) {
				probs = append(probs, fmt.Sprintf("%s: build context %s is outside the repository", s.Name, s.Build.Context))
			}
			df := s.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if !filepath.IsAbs(df) {
				df = filepath.Join(s.Build.Context, df)
			}
			if _, err := os.Stat(df); err != nil {
				probs = append(probs, fmt.Sprintf("%s: Dockerfile %s does not exist", s.Name, df))
			}
			if s.Image != "" {
				probs = append(probs, pinProblems(s.Name, s.Image)...)
			}
			continue
		}
		if s.Image == "" {
			probs = append(probs, fmt.Sprintf("%s: neither image nor build", s.Name))
			continue
		}
		probs = append(probs, pinProblems(s.Name, s.Image)...)
	}
	return probs
}

// pinProblems requires an explicit version tag (or a digest) other than "latest".
func pinProblems(who, image string) []string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return []string{fmt.Sprintf("%s: image %q does not parse: %v", who, image, err)}
	}
	if _, ok := ref.(reference.Digested); ok {
		return nil
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok {
		return []string{fmt.Sprintf("%s: image %q has no tag (would pull latest)", who, image)}
	}
	if tagged.Tag() == "latest" || !regexp.MustCompile(`\d`).MatchString(tagged.Tag()) {
		return []string{fmt.Sprintf("%s: image %q is not pinned to a version (tag %q)", who, image, tagged.Tag())}
	}
	return nil
}

func checkBindMounts(d *deployment) []string {
	var probs []string
	for _, s := range sortedServices(d.project) {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if !inside(d.root, v.Source) {
				probs = append(probs, fmt.Sprintf("%s: bind mount %s is outside the repository", s.Name, v.Source))
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				probs = append(probs, fmt.Sprintf("%s: bind-mounted %s does not exist", s.Name, v.Source))
			}
		}
	}
	return probs
}

var configArg = regexp.MustCompile(`^-{1,2}config(?:\.file)?=(.+)$`)

// checkConfigArgsMounted: a --config=PATH / -config.file=PATH argument must name a file that a bind
// mount of this service provides (otherwise the container starts with the image's default config).
func checkConfigArgsMounted(d *deployment) []string {
	var probs []string
	for _, s := range sortedServices(d.project) {
		for _, arg := range s.Command {
			m := configArg.FindStringSubmatch(arg)
			if m == nil {
				continue
			}
			found := false
			for _, v := range s.Volumes {
				if v.Type == types.VolumeTypeBind && (v.Target == m[1] || strings.HasPrefix(m[1], strings.TrimSuffix(v.Target, "/")+"/")) {
					found = true
				}
			}
			if !found {
				probs = append(probs, fmt.Sprintf("%s: %s is not provided by a bind mount", s.Name, m[1]))
			}
		}
	}
	return probs
}

func checkNamedVolumes(d *deployment) []string {
	var probs []string
	for _, s := range sortedServices(d.project) {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume {
				continue
			}
			if _, ok := d.project.Volumes[v.Source]; !ok {
				probs = append(probs, fmt.Sprintf("%s: volume %q is not declared under volumes:", s.Name, v.Source))
			}
		}
	}
	return probs
}

func checkDependsOn(d *deployment) []string {
	var probs []string
	for _, s := range sortedServices(d.project) {
		for dep, cond := range s.DependsOn {
			target, ok := d.project.Services[dep]
			if !ok {
				probs = append(probs, fmt.Sprintf("%s: depends on undefined service %q", s.Name, dep))
				continue
			}
			switch cond.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					probs = append(probs, fmt.Sprintf("%s: waits for %s to be healthy, but %s has no healthcheck", s.Name, dep, dep))
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart != "" && target.Restart != types.RestartPolicyNo {
					probs = append(probs, fmt.Sprintf("%s: waits for %s to complete, but %s restarts (%s)", s.Name, dep, dep, target.Restart))
				}
			case types.ServiceConditionStarted, "":
			default:
				probs = append(probs, fmt.Sprintf("%s: unknown depends_on condition %q", s.Name, cond.Condition))
			}
		}
	}
	return probs
}

func checkPorts(d *deployment) []string {
	var probs []string
	seen := map[string]string{}
	for _, s := range sortedServices(d.project) {
		for _, p := range s.Ports {
			if p.Published == "" {
				continue
			}
			proto := p.Protocol
			if proto == "" {
				proto = "tcp"
			}
			// Host port numbers must be unique whatever the host IP: 0.0.0.0 clashes with every address.
			key := p.Published + "/" + proto
			if other, dup := seen[key]; dup {
				probs = append(probs, fmt.Sprintf("%s: host port %s already published by %s", s.Name, key, other))
			}
			seen[key] = s.Name
		}
	}
	return probs
}

func checkServiceEnv(d *deployment) []string {
	var probs []string
	svc, ok := d.project.Services[serviceName]
	if !ok {
		return []string{"no " + serviceName + " service"}
	}
	env := func(k string) string {
		if v := svc.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	ep := env("OTEL_EXPORTER_OTLP_ENDPOINT")
	u, err := url.Parse(ep)
	if err != nil || u.Hostname() == "" {
		probs = append(probs, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT %q is not a URL", ep))
	} else {
		if u.Hostname() != collectorName {
			probs = append(probs, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT host %q is not the %s service", u.Hostname(), collectorName))
		}
		if _, ok := d.project.Services[u.Hostname()]; !ok {
			probs = append(probs, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT host %q is not a compose service", u.Hostname()))
		}
		proto := env("OTEL_EXPORTER_OTLP_PROTOCOL")
		if (proto == "" || proto == "grpc") && u.Port() != fmt.Sprint(collectorOTLPGR) {
			probs = append(probs, fmt.Sprintf("OTLP gRPC endpoint port %q is not the collector's %d", u.Port(), collectorOTLPGR))
		}
	}
	// The webhook secret is a compose secret read with --secret-file, never a plain variable (which
	// `docker inspect` and /proc/PID/environ show).
	if _, ok := svc.Environment["ASSISTANT_OTEL_SECRET"]; ok {
		probs = append(probs, "ASSISTANT_OTEL_SECRET is set in the environment: use a compose secret and ASSISTANT_OTEL_SECRET_FILE")
	}
	secretFile := env("ASSISTANT_OTEL_SECRET_FILE")
	found := false
	for _, ref := range svc.Secrets {
		target := ref.Target
		if target == "" {
			target = ref.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if target != secretFile {
			continue
		}
		found = true
		if top, ok := d.project.Secrets[ref.Source]; !ok {
			probs = append(probs, fmt.Sprintf("secret %q is not declared under secrets:", ref.Source))
		} else if top.File == "" && top.Environment == "" {
			probs = append(probs, fmt.Sprintf("secret %q has neither file nor environment", ref.Source))
		}
	}
	if !found {
		probs = append(probs, fmt.Sprintf("ASSISTANT_OTEL_SECRET_FILE %q is not a secret mounted into the service", secretFile))
	}
	spool := env("ASSISTANT_OTEL_SPOOL_DIR")
	mounted := false
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == spool {
			mounted = true
		}
	}
	if spool == "" || !mounted {
		probs = append(probs, fmt.Sprintf("ASSISTANT_OTEL_SPOOL_DIR %q is not on a named volume", spool))
	}
	return probs
}

func checkDockerfile(d *deployment) []string {
	var probs []string
	var user, entry string
	froms := 0
	for _, line := range strings.Split(d.raw[dockerfile], "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms++
			img := f[1]
			if strings.HasPrefix(img, "--platform") && len(f) > 2 {
				img = f[2]
			}
			if img == "scratch" { // the empty base: nothing is pulled
				continue
			}
			probs = append(probs, pinProblems("Dockerfile FROM", img)...)
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if froms < 2 {
		probs = append(probs, "Dockerfile is not multi-stage")
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "root:") || strings.HasPrefix(user, "0:") {
		probs = append(probs, fmt.Sprintf("Dockerfile final USER %q is root or missing", user))
	}
	if !strings.Contains(entry, `"serve"`) {
		probs = append(probs, fmt.Sprintf("Dockerfile ENTRYPOINT %q does not run serve", entry))
	}
	return probs
}

func yamlMap(text string) (map[string]any, error) {
	var m map[string]any
	err := yaml.Unmarshal([]byte(text), &m)
	return m, err
}

func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

// checkCollectorTargets: every push exporter in otel-collector.yaml targets a compose service, the
// prometheus exporter listens on a port, and the collector service mounts the file.
func checkCollectorTargets(d *deployment) []string {
	var probs []string
	cfg, err := yamlMap(d.raw[collectorFile])
	if err != nil {
		return []string{collectorFile + ": " + err.Error()}
	}
	exps, _ := dig(cfg, "exporters").(map[string]any)
	if len(exps) == 0 {
		return []string{collectorFile + ": no exporters"}
	}
	for name, e := range exps {
		ep, _ := dig(e, "endpoint").(string)
		if ep == "" || strings.HasPrefix(name, "prometheus") || strings.HasPrefix(name, "debug") {
			continue
		}
		host := ep
		if strings.Contains(ep, "://") {
			u, err := url.Parse(ep)
			if err != nil {
				probs = append(probs, fmt.Sprintf("exporter %s: bad endpoint %q", name, ep))
				continue
			}
			host = u.Hostname()
		} else if h, _, err := net.SplitHostPort(ep); err == nil {
			host = h
		}
		if _, ok := d.project.Services[host]; !ok {
			probs = append(probs, fmt.Sprintf("exporter %s: endpoint host %q is not a compose service", name, host))
		}
	}
	return probs
}

func checkPrometheusTargets(d *deployment) []string {
	var probs []string
	col, err := yamlMap(d.raw[collectorFile])
	if err != nil {
		return []string{collectorFile + ": " + err.Error()}
	}
	promEP, _ := dig(col, "exporters", "prometheus", "endpoint").(string)
	_, promPort, err := net.SplitHostPort(promEP)
	if err != nil {
		return []string{fmt.Sprintf("%s: prometheus exporter endpoint %q: %v", collectorFile, promEP, err)}
	}
	cfg, err := yamlMap(d.raw[promFile])
	if err != nil {
		return []string{promFile + ": " + err.Error()}
	}
	found := false
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, j := range jobs {
		scs, _ := dig(j, "static_configs").([]any)
		for _, sc := range scs {
			targets, _ := dig(sc, "targets").([]any)
			for _, t := range targets {
				h, p, err := net.SplitHostPort(fmt.Sprint(t))
				if err != nil {
					probs = append(probs, fmt.Sprintf("%s: target %v: %v", promFile, t, err))
					continue
				}
				if _, ok := d.project.Services[h]; !ok {
					probs = append(probs, fmt.Sprintf("%s: target host %q is not a compose service", promFile, h))
				}
				if h == collectorName && p == promPort {
					found = true
				}
			}
		}
	}
	if !found {
		probs = append(probs, fmt.Sprintf("%s: no job scrapes %s:%s (the collector's prometheus exporter)", promFile, collectorName, promPort))
	}
	return probs
}

func checkGrafana(d *deployment) []string {
	var probs []string
	cfg, err := yamlMap(d.raw[grafanaDSFile])
	if err != nil {
		return []string{grafanaDSFile + ": " + err.Error()}
	}
	list, _ := cfg["datasources"].([]any)
	uids := map[string]string{} // uid -> type
	for _, ds := range list {
		uid, _ := dig(ds, "uid").(string)
		typ, _ := dig(ds, "type").(string)
		if uid == "" {
			probs = append(probs, fmt.Sprintf("data source %v has no uid (links need fixed uids)", dig(ds, "name")))
			continue
		}
		if _, dup := uids[uid]; dup {
			probs = append(probs, fmt.Sprintf("data source uid %q used twice", uid))
		}
		uids[uid] = typ
		raw, _ := dig(ds, "url").(string)
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			probs = append(probs, fmt.Sprintf("data source %s: bad url %q", uid, raw))
		} else if _, ok := d.project.Services[u.Hostname()]; !ok {
			probs = append(probs, fmt.Sprintf("data source %s: url host %q is not a compose service", uid, u.Hostname()))
		}
	}
	for _, want := range []string{"jaeger", "loki", "prometheus"} {
		found := false
		for _, typ := range uids {
			found = found || typ == want
		}
		if !found {
			probs = append(probs, "no data source of type "+want)
		}
	}
	ref := func(from, uid, wantType string) {
		switch typ, ok := uids[uid]; {
		case uid == "":
			probs = append(probs, from+": no datasourceUid")
		case !ok:
			probs = append(probs, fmt.Sprintf("%s: datasourceUid %q is not a provisioned data source", from, uid))
		case wantType != "" && typ != wantType:
			probs = append(probs, fmt.Sprintf("%s: datasourceUid %q is a %s data source, want %s", from, uid, typ, wantType))
		}
	}
	var tracesToLogs, derived bool
	for _, ds := range list {
		uid, _ := dig(ds, "uid").(string)
		if t2l := dig(ds, "jsonData", "tracesToLogsV2"); t2l != nil {
			tracesToLogs = true
			u, _ := dig(t2l, "datasourceUid").(string)
			ref(uid+".tracesToLogsV2", u, "loki")
			q, _ := dig(t2l, "query").(string)
			byID, _ := dig(t2l, "filterByTraceID").(bool)
			if !byID && !strings.Contains(q, "__trace.traceId") {
				probs = append(probs, uid+".tracesToLogsV2: neither filterByTraceID nor a query on the trace id")
			}
		}
		if t2m := dig(ds, "jsonData", "tracesToMetrics"); t2m != nil {
			u, _ := dig(t2m, "datasourceUid").(string)
			ref(uid+".tracesToMetrics", u, "prometheus")
		}
		fields, _ := dig(ds, "jsonData", "derivedFields").([]any)
		for i, f := range fields {
			derived = true
			u, _ := dig(f, "datasourceUid").(string)
			ref(fmt.Sprintf("%s.derivedFields[%d]", uid, i), u, "jaeger")
		}
	}
	if !tracesToLogs {
		probs = append(probs, "no tracesToLogsV2 link from traces to logs")
	}
	if !derived {
		probs = append(probs, "no derivedFields link from logs to traces")
	}
	// Grafana must actually read this directory.
	g, ok := d.project.Services["grafana"]
	mounted := false
	if ok {
		want := filepath.Join(d.root, filepath.Dir(filepath.Dir(grafanaDSFile)))
		for _, v := range g.Volumes {
			if v.Type == types.VolumeTypeBind && v.Source == want && v.Target == "/etc/grafana/provisioning" {
				mounted = true
			}
		}
	}
	if !mounted {
		probs = append(probs, "grafana does not mount deploy/grafana/provisioning at /etc/grafana/provisioning")
	}
	return probs
}

// checkTestedPrometheus: scripts/tools.sh builds, for the end-to-end run and promtool, the Prometheus
// version of the compose file's prometheus image (prom/prometheus:vX.Y.Z ↔ PROMETHEUS_VERSION=X.Y.Z).
func checkTestedPrometheus(d *deployment) []string {
	svc, ok := d.project.Services["prometheus"]
	if !ok {
		return []string{"no prometheus service in " + composeFile}
	}
	_, tag, _ := strings.Cut(svc.Image, ":")
	m := regexp.MustCompile(`(?m)^PROMETHEUS_VERSION=(\S+)$`).FindStringSubmatch(d.raw[toolsScript])
	if m == nil {
		return []string{toolsScript + " sets no PROMETHEUS_VERSION"}
	}
	if strings.TrimPrefix(tag, "v") != m[1] {
		return []string{fmt.Sprintf("compose ships %s but %s builds Prometheus %s for the tests", svc.Image, toolsScript, m[1])}
	}
	return nil
}

// listenPort is the port assistant-otel listens on in the container (ASSISTANT_OTEL_LISTEN, default :8080).
func listenPort(svc types.ServiceConfig) string {
	listen := ":8080"
	if v := svc.Environment["ASSISTANT_OTEL_LISTEN"]; v != nil && *v != "" {
		listen = *v
	}
	_, port, _ := net.SplitHostPort(listen)
	return port
}

// checkAlertmanager: prometheus.yml sends alerts to the alertmanager service on the port it listens on,
// alertmanager.yml routes to a receiver it defines, and scripts/tools.sh builds the Alertmanager version
// that compose ships for the end-to-end run.
func checkAlertmanager(d *deployment) []string {
	var probs []string
	am, ok := d.project.Services[alertmgrName]
	if !ok {
		return []string{"no " + alertmgrName + " service in " + composeFile}
	}
	port := "9093"
	for _, arg := range am.Command {
		if a, ok := strings.CutPrefix(arg, "--web.listen-address="); ok {
			_, port, _ = net.SplitHostPort(a)
		}
	}
	cfg, err := yamlMap(d.raw[promFile])
	if err != nil {
		return []string{promFile + ": " + err.Error()}
	}
	targets := 0
	ams, _ := dig(cfg, "alerting", "alertmanagers").([]any)
	for _, a := range ams {
		scs, _ := dig(a, "static_configs").([]any)
		for _, sc := range scs {
			ts, _ := dig(sc, "targets").([]any)
			for _, t := range ts {
				targets++
				h, p, err := net.SplitHostPort(fmt.Sprint(t))
				switch {
				case err != nil:
					probs = append(probs, fmt.Sprintf("%s: alertmanager target %v: %v", promFile, t, err))
				case h != alertmgrName:
					probs = append(probs, fmt.Sprintf("%s: alertmanager target host %q is not the %s service", promFile, h, alertmgrName))
				case p != port:
					probs = append(probs, fmt.Sprintf("%s: alertmanager target port %s is not the one %s listens on (%s)", promFile, p, alertmgrName, port))
				}
			}
		}
	}
	if targets == 0 {
		probs = append(probs, promFile+": no alerting: alertmanagers target: the alert rules notify nobody")
	}
	amc, err := yamlMap(d.raw[alertmgrFile])
	if err != nil {
		return append(probs, alertmgrFile+": "+err.Error())
	}
	receivers := map[string]bool{}
	rs, _ := amc["receivers"].([]any)
	for _, r := range rs {
		if n, ok := dig(r, "name").(string); ok {
			receivers[n] = true
		}
	}
	if r, _ := dig(amc, "route", "receiver").(string); !receivers[r] {
		probs = append(probs, fmt.Sprintf("%s: route receiver %q is not defined under receivers:", alertmgrFile, r))
	}
	_, tag, _ := strings.Cut(am.Image, ":")
	m := regexp.MustCompile(`(?m)^ALERTMANAGER_VERSION=(\S+)$`).FindStringSubmatch(d.raw[toolsScript])
	switch {
	case m == nil:
		probs = append(probs, toolsScript+" sets no ALERTMANAGER_VERSION")
	case m[1] != tag:
		probs = append(probs, fmt.Sprintf("compose ships %s but %s builds Alertmanager %s for the tests", am.Image, toolsScript, m[1]))
	}
	return probs
}

// checkTLSProxy: Watson only calls https. The proxy publishes 443 and forwards to the service's listen
// port; the service itself is published on loopback only, so the webhook is not reachable in clear text.
func checkTLSProxy(d *deployment) []string {
	var probs []string
	svc, ok := d.project.Services[serviceName]
	if !ok {
		return []string{"no " + serviceName + " service"}
	}
	proxy, ok := d.project.Services[proxyName]
	if !ok {
		return []string{"no " + proxyName + " service in front of the webhook"}
	}
	https := false
	for _, p := range proxy.Ports {
		if p.Target == 443 && p.Published == "443" && (p.Protocol == "" || p.Protocol == "tcp") {
			https = true
		}
	}
	if !https {
		probs = append(probs, proxyName+": does not publish port 443")
	}
	for _, p := range svc.Ports {
		if p.HostIP != "127.0.0.1" && p.HostIP != "::1" {
			probs = append(probs, fmt.Sprintf("%s: port %s published on all interfaces: plain http next to the TLS proxy", serviceName, p.Published))
		}
	}
	m := regexp.MustCompile(`(?m)^\s*reverse_proxy\s+(\S+)`).FindStringSubmatch(d.raw[caddyFile])
	if m == nil {
		return append(probs, caddyFile+": no reverse_proxy")
	}
	h, p, err := net.SplitHostPort(m[1])
	switch {
	case err != nil:
		probs = append(probs, fmt.Sprintf("%s: reverse_proxy %s: %v", caddyFile, m[1], err))
	case h != serviceName:
		probs = append(probs, fmt.Sprintf("%s: reverse_proxy host %q is not the %s service", caddyFile, h, serviceName))
	case p != listenPort(svc):
		probs = append(probs, fmt.Sprintf("%s: reverse_proxy port %s is not the port %s listens on (%s)", caddyFile, p, serviceName, listenPort(svc)))
	}
	if !strings.Contains(d.raw[caddyFile], "/webhook") {
		probs = append(probs, caddyFile+": the webhook path is not forwarded")
	}
	mounted := false
	for _, v := range proxy.Volumes {
		if v.Type == types.VolumeTypeBind && strings.HasSuffix(v.Source, caddyFile) {
			mounted = true
		}
	}
	if !mounted {
		probs = append(probs, fmt.Sprintf("%s: %s is not mounted", proxyName, caddyFile))
	}
	return probs
}

// checkServiceLifecycle: the health check runs the binary itself (the image has no shell or HTTP client)
// against the port it listens on; stop_grace_period outlasts the drain timeout, so SIGKILL does not cut the
// drain short; the image build stamps a version (not "(devel)").
func checkServiceLifecycle(d *deployment) []string {
	var probs []string
	svc, ok := d.project.Services[serviceName]
	if !ok {
		return []string{"no " + serviceName + " service"}
	}
	hc := svc.HealthCheck
	switch {
	case hc == nil || len(hc.Test) < 2 || hc.Disable:
		probs = append(probs, serviceName+": no healthcheck")
	case hc.Test[0] != "CMD" || hc.Test[1] != "/assistant-otel" || !slicesContain(hc.Test, "healthcheck"):
		probs = append(probs, fmt.Sprintf("%s: healthcheck %q does not run /assistant-otel healthcheck (the image has no shell)", serviceName, hc.Test))
	default:
		want := "http://127.0.0.1:" + listenPort(svc) + "/healthz"
		if !slicesContain(hc.Test, want) {
			probs = append(probs, fmt.Sprintf("%s: healthcheck %q does not probe %s", serviceName, hc.Test, want))
		}
	}
	drain := defaultDrain
	if v := svc.Environment["ASSISTANT_OTEL_DRAIN_TIMEOUT"]; v != nil {
		if dd, err := time.ParseDuration(*v); err == nil {
			drain = dd
		}
	}
	if svc.StopGracePeriod == nil || time.Duration(*svc.StopGracePeriod) <= drain {
		probs = append(probs, fmt.Sprintf("%s: stop_grace_period %v is not longer than the drain timeout %v", serviceName, svc.StopGracePeriod, drain))
	}
	if svc.Build == nil || svc.Build.Args["VERSION"] == nil || *svc.Build.Args["VERSION"] == "" {
		probs = append(probs, serviceName+": build args give no VERSION: the image would report (devel)")
	}
	if !regexp.MustCompile(`(?m)^ARG VERSION`).MatchString(d.raw[dockerfile]) ||
		!strings.Contains(d.raw[dockerfile], "-X main.stampedVersion=${VERSION}") {
		probs = append(probs, "Dockerfile: the VERSION build argument is not stamped with -X main.stampedVersion=${VERSION}")
	}
	return probs
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// --- tests -----------------------------------------------------------------------------------------

func TestComposeLoadsWithConsistencyChecks(t *testing.T) {
	root := repoRoot(t)
	raw := readFiles(t, root)
	p, err := load(root, raw[composeFile], true)
	if err != nil {
		t.Fatalf("compose-go rejects %s: %v", composeFile, err)
	}
	for _, want := range []string{serviceName, collectorName, "jaeger", "loki", "prometheus", "grafana", alertmgrName, proxyName} {
		if _, ok := p.Services[want]; !ok {
			t.Errorf("service %q missing", want)
		}
	}
}

func TestDeployFiles(t *testing.T) {
	root := repoRoot(t)
	raw := readFiles(t, root)
	p, err := load(root, raw[composeFile], false)
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{root: root, raw: raw, project: p}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, prob := range c.fn(d) {
				t.Error(prob)
			}
		})
	}
}

// TestChecksCatchBreakage proves each check can fail: each case breaks one file in memory and expects
// the named check to report a problem containing the given text.
func TestChecksCatchBreakage(t *testing.T) {
	root := repoRoot(t)
	cases := []struct {
		name, file, old, new, check, want string
	}{
		{"latest tag", composeFile, "grafana/grafana:12.0.0", "grafana/grafana:latest", "images pinned or built from the repo Dockerfile", "not pinned"},
		{"no tag", composeFile, "image: grafana/loki:3.5.3", "image: grafana/loki", "images pinned or built from the repo Dockerfile", "no tag"},
		{"missing Dockerfile", composeFile, "dockerfile: Dockerfile", "dockerfile: Dockerfile.missing", "images pinned or built from the repo Dockerfile", "does not exist"},
		{"missing bind source", composeFile, "./deploy/loki/loki.yaml:", "./deploy/loki/nope.yaml:", "bind mounts exist in the repo", "does not exist"},
		{"bind outside repo", composeFile, "./deploy/loki/loki.yaml:", "/etc/hostname:", "bind mounts exist in the repo", "outside the repository"},
		{"config arg not mounted", composeFile, `"-config.file=/etc/loki/loki.yaml"`, `"-config.file=/etc/loki/other.yaml"`, "config files passed on the command line are mounted", "not provided by a bind mount"},
		{"undeclared volume", composeFile, "- loki-data:/loki", "- loki-dta:/loki", "named volumes declared", "not declared"},
		{"undefined dependency", composeFile, "      loki:\n        condition: service_healthy\n    restart: unless-stopped\n\n  jaeger:", "      lokki:\n        condition: service_healthy\n    restart: unless-stopped\n\n  jaeger:", "depends_on targets exist and conditions match health checks", "undefined service"},
		{"healthy without healthcheck", composeFile, "      otel-collector:\n        condition: service_started\n      alertmanager:", "      otel-collector:\n        condition: service_healthy\n      alertmanager:", "depends_on targets exist and conditions match health checks", "has no healthcheck"},
		{"duplicate port", composeFile, `"127.0.0.1:9090:9090"`, `"127.0.0.1:3000:9090"`, "published ports unique", "already published"},
		{"endpoint not collector", composeFile, "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT: http://localhost:4317", "assistant-otel exports to the collector service", "is not the otel-collector service"},
		{"endpoint wrong port", composeFile, "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318", "assistant-otel exports to the collector service", "port"},
		{"spool not on volume", composeFile, "ASSISTANT_OTEL_SPOOL_DIR: /var/lib/assistant-otel/spool", "ASSISTANT_OTEL_SPOOL_DIR: /tmp/spool", "assistant-otel exports to the collector service", "not on a named volume"},
		{"Dockerfile runs as root", dockerfile, "USER 65532:65532", "USER 0:0", "Dockerfile pinned, non-root, serve entrypoint", "root or missing"},
		{"Dockerfile unpinned base", dockerfile, "FROM golang:1.26.8-trixie AS build", "FROM golang AS build", "Dockerfile pinned, non-root, serve entrypoint", "no tag"},
		{"collector exporter host", collectorFile, "endpoint: jaeger:4317", "endpoint: tempo:4317", "collector exporters point at compose services", `"tempo" is not a compose service`},
		{"prometheus scrapes wrong port", promFile, "otel-collector:8889", "otel-collector:9999", "prometheus scrapes the collector's exporter port", "no job scrapes"},
		{"grafana dangling uid", grafanaDSFile, "        datasourceUid: loki\n", "        datasourceUid: loki-old\n", "grafana data sources and trace<->logs links", "not a provisioned data source"},
		{"grafana derived field to wrong type", grafanaDSFile, "          datasourceUid: jaeger\n", "          datasourceUid: prometheus\n", "grafana data sources and trace<->logs links", "want jaeger"},
		{"tested prometheus differs", toolsScript, "PROMETHEUS_VERSION=3.5.0", "PROMETHEUS_VERSION=2.42.0", "the tests run the Prometheus that compose ships", "builds Prometheus 2.42.0"},
		{"secret as plain env", composeFile, "ASSISTANT_OTEL_SECRET_FILE: /run/secrets/webhook-secret", "ASSISTANT_OTEL_SECRET: hunter2", "assistant-otel exports to the collector service", "use a compose secret"},
		{"secret file not mounted", composeFile, "ASSISTANT_OTEL_SECRET_FILE: /run/secrets/webhook-secret", "ASSISTANT_OTEL_SECRET_FILE: /run/secrets/other", "assistant-otel exports to the collector service", "is not a secret mounted"},
		{"secret undeclared", composeFile, "  webhook-secret:\n    file:", "  webhook-secrt:\n    file:", "assistant-otel exports to the collector service", "not declared under secrets"},
		{"no alerting section", promFile, `- targets: ["alertmanager:9093"]`, `- targets: []`, "alerts go from prometheus to alertmanager", "notify nobody"},
		{"alertmanager wrong port", promFile, `"alertmanager:9093"`, `"alertmanager:9094"`, "alerts go from prometheus to alertmanager", "not the one alertmanager listens on"},
		{"alertmanager wrong host", promFile, `"alertmanager:9093"`, `"localhost:9093"`, "alerts go from prometheus to alertmanager", "is not the alertmanager service"},
		{"alertmanager route to nobody", alertmgrFile, "  receiver: ops-placeholder", "  receiver: pager", "alerts go from prometheus to alertmanager", "not defined under receivers"},
		{"tested alertmanager differs", toolsScript, "ALERTMANAGER_VERSION=v0.31.0", "ALERTMANAGER_VERSION=v0.34.0", "alerts go from prometheus to alertmanager", "builds Alertmanager v0.34.0"},
		{"webhook published in clear", composeFile, `"127.0.0.1:8080:8080"`, `"8080:8080"`, "the webhook is served over TLS by the proxy", "published on all interfaces"},
		{"proxy without 443", composeFile, "- \"443:443\"\n", "- \"8443:443\"\n", "the webhook is served over TLS by the proxy", "does not publish port 443"},
		{"proxy to wrong port", caddyFile, "reverse_proxy assistant-otel:8080", "reverse_proxy assistant-otel:9090", "the webhook is served over TLS by the proxy", "is not the port assistant-otel listens on"},
		{"proxy to wrong host", caddyFile, "reverse_proxy assistant-otel:8080", "reverse_proxy webhook:8080", "the webhook is served over TLS by the proxy", "is not the assistant-otel service"},
		{"healthcheck with a shell", composeFile, `test: ["CMD", "/assistant-otel", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]`, `test: ["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz"]`, "assistant-otel health check, stop grace and version stamp", "has no shell"},
		{"healthcheck wrong port", composeFile, `"--url", "http://127.0.0.1:8080/healthz"]`, `"--url", "http://127.0.0.1:9000/healthz"]`, "assistant-otel health check, stop grace and version stamp", "does not probe"},
		{"grace shorter than drain", composeFile, "stop_grace_period: 30s", "stop_grace_period: 10s", "assistant-otel health check, stop grace and version stamp", "not longer than the drain timeout"},
		{"drain raised past grace", composeFile, `ASSISTANT_OTEL_LISTEN: ":8080"`, "ASSISTANT_OTEL_LISTEN: \":8080\"\n      ASSISTANT_OTEL_DRAIN_TIMEOUT: 45s", "assistant-otel health check, stop grace and version stamp", "not longer than the drain timeout 45s"},
		{"no version build arg", composeFile, "        VERSION: ${ASSISTANT_OTEL_VERSION:-unreleased}\n", "        OTHER: x\n", "assistant-otel health check, stop grace and version stamp", "no VERSION"},
		{"Dockerfile version not stamped", dockerfile, "-X main.stampedVersion=${VERSION}", "", "assistant-otel health check, stop grace and version stamp", "not stamped"},
		{"grafana url host", grafanaDSFile, "url: http://loki:3100", "url: http://loki-gw:3100", "grafana data sources and trace<->logs links", "not a compose service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := readFiles(t, root)
			if !strings.Contains(raw[tc.file], tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			raw[tc.file] = strings.Replace(raw[tc.file], tc.old, tc.new, 1)
			p, err := load(root, raw[composeFile], false)
			if err != nil {
				t.Fatalf("broken compose file does not load: %v", err)
			}
			got := runChecks(&deployment{root: root, raw: raw, project: p})
			probs := got[tc.check]
			for _, pr := range probs {
				if strings.Contains(pr, tc.want) {
					return
				}
			}
			t.Errorf("check %q did not report %q; it reported %q (all: %v)", tc.check, tc.want, probs, got)
		})
	}
}
