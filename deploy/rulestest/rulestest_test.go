// Package rulestest validates the observability assets shipped in deploy/: the Prometheus alert and
// recording rules, their promtool unit tests, the Loki ruler example, the Grafana dashboard and its
// provisioning. Every PromQL query may only use the Prometheus names listed in
// deploy/prometheus/metric-names.txt (or produced by a recording rule), and that file must name every
// metric the service produces, as the Collector's prometheus exporter translates it.
package rulestest

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"go.yaml.in/yaml/v3"

	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/pump"
	"github.com/assistant-otel/assistant-otel/receiver"
)

const (
	metricNamesFile = "../prometheus/metric-names.txt"
	rulesFile       = "../prometheus/rules/assistant-otel.yml"
	rulesTestFile   = "../prometheus/rules/assistant-otel.test.yml"
	lokiRulesFile   = "../loki/rules/assistant-otel.yml"
	dashboardsGlob  = "../grafana/dashboards/*.json"
	datasourcesFile = "../grafana/provisioning/datasources/datasources.yaml"
	provisioningDir = "../grafana/provisioning/dashboards/dashboards.yaml"
	alertsScript    = "../../scripts/e2e/alerts.sh"
	goldenGlob      = "../../mapping/testdata/golden/*.txt"
	serviceSelector = `{service_name="assistant-otel"}`
)

// ---- PromQL name extraction ------------------------------------------------------------------------

var (
	grafanaVar  = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	stringLit   = regexp.MustCompile("\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|`[^`]*`")
	braces      = regexp.MustCompile(`\{[^}]*\}`)
	brackets    = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier  = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promqlWords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
		"Inf": true, "NaN": true, "atan2": true,
	}
)

// metricNames returns the metric names a PromQL expression selects: identifiers that are not
// functions, keywords, label names, strings, durations or numbers. Grafana variables are dropped.
func metricNames(expr string) []string {
	s := grafanaVar.ReplaceAllString(expr, "")
	s = stringLit.ReplaceAllString(s, `""`)
	s = braces.ReplaceAllString(s, " ")
	s = brackets.ReplaceAllString(s, " ")
	s = labelLists.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range identifier.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if loc[0] > 0 {
			if c := s[loc[0]-1]; c == '.' || (c >= '0' && c <= '9') {
				continue // 1e5, 5m, 0.95
			}
		}
		if promqlWords[tok] {
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or aggregation
		}
		if !slices.Contains(names, tok) {
			names = append(names, tok)
		}
	}
	return names
}

func TestMetricNameExtraction(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (job, le) (rate(a_bucket{x="y", z=~"$assistant"}[$__rate_interval]))`:                "a_bucket",
		`histogram_quantile(0.95, sum by (le) (rate(b_bucket[5m]))) > 5 and on (job) c_total >= 1e3`: "b_bucket c_total",
		`1 - (sum(increase(d_total[1h] offset 5m)) or vector(0)) / sum(e_total{o!="welcome"})`:       "d_total e_total",
		`max(f) by (instance) > bool 0 unless ignoring(x) g:rec:ratio`:                               "f g:rec:ratio",
		`absent_over_time(h_total{name="sum(x)"}[30m])`:                                              "h_total",
		`topk(10, sum by (i) (increase(j_total[${__range}])))`:                                       "j_total",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// ---- the names file ------------------------------------------------------------------------------

func knownMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(metricNamesFile)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	valid := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !valid.MatchString(line) {
			t.Errorf("%s:%d: %q is not a Prometheus metric name", metricNamesFile, i+1, line)
		}
		if names[line] {
			t.Errorf("%s:%d: %s listed twice", metricNamesFile, i+1, line)
		}
		names[line] = true
	}
	if len(names) < 20 {
		t.Fatalf("%s lists only %d names", metricNamesFile, len(names))
	}
	return names
}

// expectedSeries is the Prometheus series names of one OTel metric under the Collector's
// UnderscoreEscapingWithSuffixes translation (otel-collector.yaml).
func expectedSeries(t *testing.T, name, unit string, typ otlptranslator.MetricType) []string {
	t.Helper()
	namer := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	base, err := namer.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if typ == otlptranslator.MetricTypeHistogram {
		return []string{base + "_bucket", base + "_sum", base + "_count"}
	}
	return []string{base}
}

// TestMetricNamesFileListsEveryMetric: every metric that mapping, the receiver and the exporter
// produce has its Prometheus names in metric-names.txt.
func TestMetricNamesFileListsEveryMetric(t *testing.T) {
	known := knownMetricNames(t)
	var want []string
	for _, in := range mapping.Instruments() {
		spec := in.Spec()
		typ := otlptranslator.MetricType(otlptranslator.MetricTypeMonotonicCounter)
		if spec.Kind == mapping.Histogram {
			typ = otlptranslator.MetricTypeHistogram
		}
		want = append(want, expectedSeries(t, spec.Name, spec.Unit, typ)...)
	}
	want = append(want, expectedSeries(t, receiver.MetricRequests, "{request}", otlptranslator.MetricTypeMonotonicCounter)...)
	want = append(want, expectedSeries(t, receiver.MetricAuthFailures, "{failure}", otlptranslator.MetricTypeMonotonicCounter)...)
	want = append(want, expectedSeries(t, receiver.MetricRequestDuration, "s", otlptranslator.MetricTypeHistogram)...)
	want = append(want, expectedSeries(t, exporter.ExportErrorsMetric, "{export}", otlptranslator.MetricTypeMonotonicCounter)...)
	want = append(want, expectedSeries(t, exporter.ConversationsHandoffMetric, "{conversation}", otlptranslator.MetricTypeMonotonicCounter)...)
	want = append(want, expectedSeries(t, pump.MetricDepth, "{event}", otlptranslator.MetricTypeGauge)...)
	want = append(want, expectedSeries(t, pump.MetricOldestAge, "s", otlptranslator.MetricTypeGauge)...)
	// The export alerts' other inputs (issue 12), named here until their packages define them:
	// the dead-letter counter of the export path and the receiver's 503 counter.
	want = append(want, expectedSeries(t, "assistant_otel.export.dead_letters", "{event}", otlptranslator.MetricTypeMonotonicCounter)...)
	want = append(want, expectedSeries(t, "assistant_otel.webhook.refused", "{request}", otlptranslator.MetricTypeMonotonicCounter)...)
	for _, name := range want {
		if !known[name] {
			t.Errorf("%s is missing %s", metricNamesFile, name)
		}
	}
	// The names the brief and the rules rely on, spelled out: the translation must agree.
	for _, name := range []string{"watson_assistant_turns_total", "gen_ai_server_request_duration_seconds_bucket",
		"watson_assistant_intent_confidence_bucket", "assistant_otel_webhook_auth_failures_total", "assistant_otel_export_errors_total",
		"assistant_otel_spool_oldest_age_seconds", "assistant_otel_export_dead_letters_total"} {
		if !slices.Contains(want, name) {
			t.Errorf("translation does not produce %s (got %v)", name, want)
		}
	}
}

// ---- Prometheus rules ----------------------------------------------------------------------------

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func recordingNames(t *testing.T) map[string]bool {
	var rf ruleFile
	readYAML(t, rulesFile, &rf)
	names := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				names[r.Record] = true
			}
		}
	}
	return names
}

// promqlProblems lists the metric names of expr that are neither listed nor recorded.
func promqlProblems(expr string, known, recorded map[string]bool) []string {
	names := metricNames(expr)
	if len(names) == 0 {
		return []string{"no metric name in " + expr}
	}
	var problems []string
	for _, n := range names {
		if !known[n] && !recorded[n] {
			problems = append(problems, "unknown metric "+n+" (not in metric-names.txt, not a recording rule)")
		}
	}
	return problems
}

func checkPromQL(t *testing.T, where, expr string, known, recorded map[string]bool) {
	t.Helper()
	for _, p := range promqlProblems(expr, known, recorded) {
		t.Errorf("%s: %s", where, p)
	}
}

var severities = []string{"critical", "warning", "info"}

func TestPrometheusRules(t *testing.T) {
	known, recorded := knownMetricNames(t), recordingNames(t)
	var rf ruleFile
	readYAML(t, rulesFile, &rf)
	recordName := regexp.MustCompile(`^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$`)
	seen := map[string]bool{}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			where := g.Name + "/" + name
			if (r.Alert == "") == (r.Record == "") {
				t.Errorf("%s: a rule needs exactly one of alert and record", where)
			}
			if seen[name] {
				t.Errorf("%s: defined twice", where)
			}
			seen[name] = true
			checkPromQL(t, where, r.Expr, known, recorded)
			if r.Record != "" {
				if !recordName.MatchString(r.Record) {
					t.Errorf("%s: recording rule name not level:metric:operations", where)
				}
				continue
			}
			alerts++
			if !slices.Contains(severities, r.Labels["severity"]) {
				t.Errorf("%s: severity label %q, want one of %v", where, r.Labels["severity"], severities)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", where, a)
				}
			}
			if d, err := time.ParseDuration(r.For); err != nil || d <= 0 {
				t.Errorf("%s: for %q is not a positive duration", where, r.For)
			}
		}
	}
	for _, want := range []string{"WatsonAssistantLowConfidenceRateHigh", "WatsonAssistantWeakUnderstandingSpike",
		"WatsonAssistantCoverageLow", "WatsonAssistantContainmentLow", "WatsonAssistantLatencyP95High",
		"AssistantOtelWebhookAuthFailures", "AssistantOtelExportErrors", "AssistantOtelSpoolBacklog", "WatsonAssistantNoEvents",
		"AssistantOtelExportStalled", "AssistantOtelWebhookRefused", "AssistantOtelDeadLetters"} {
		if !seen[want] {
			t.Errorf("alert %s missing", want)
		}
	}
	if alerts < 9 {
		t.Errorf("only %d alerts", alerts)
	}
}

// TestExportAlertsPerReplica: the export alerts (issue 12) must give the same answer whether the
// service's metrics are scraped through the Collector, directly from the service, or both. So they
// never select or group by job or instance (which differ between the two paths), and they merge
// copies with max by (service_instance_id, ...) (the replica label both paths carry) before
// anything else.
func TestExportAlertsPerReplica(t *testing.T) {
	var rf ruleFile
	readYAML(t, rulesFile, &rf)
	byJob := regexp.MustCompile(`\b(job|instance)\b`)
	found := 0
	for _, g := range rf.Groups {
		if g.Name != "assistant-otel-export-alerts" {
			continue
		}
		for _, r := range g.Rules {
			found++
			if m := byJob.FindString(r.Expr); m != "" {
				t.Errorf("%s: the expression uses %q: it differs between the Collector path and a direct scrape", r.Alert, m)
			}
			if !strings.Contains(r.Expr, "max by (service_instance_id") {
				t.Errorf("%s: no max by (service_instance_id, ...): copies of a series from two jobs would add up", r.Alert)
			}
			if strings.Contains(r.Expr, "increase(") && !strings.Contains(r.Expr, " offset ") {
				t.Errorf("%s: increase() alone misses a counter's first appearance", r.Alert)
			}
		}
	}
	if found < 3 {
		t.Errorf("group assistant-otel-export-alerts has %d rules, want 3", found)
	}
}

// TestEveryAlertHasPromtoolCases: the promtool test file has, for every alert, a case where it
// fires and one where it must not; promtool itself checks the cases (scripts/promtool-test.sh).
func TestEveryAlertHasPromtoolCases(t *testing.T) {
	var rf ruleFile
	readYAML(t, rulesFile, &rf)
	var tf struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				EvalTime  string           `yaml:"eval_time"`
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	b, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &tf); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tf.RuleFiles, filepath.Base(rulesFile)) {
		t.Errorf("%s does not load %s", rulesTestFile, filepath.Base(rulesFile))
	}
	fires, quiet := map[string]int{}, map[string]int{}
	for _, c := range tf.Tests {
		for _, a := range c.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname]++
			} else {
				quiet[a.Alertname]++
			}
		}
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if fires[r.Alert] == 0 {
				t.Errorf("%s: no promtool case where it fires", r.Alert)
			}
			if quiet[r.Alert] == 0 {
				t.Errorf("%s: no promtool case where it must not fire", r.Alert)
			}
		}
	}
}

// TestPromtool runs promtool: $ASSISTANT_OTEL_PROMTOOL (scripts/test.sh points it at the Prometheus 3
// promtool that scripts/tools.sh builds), else one on PATH. Without one it skips, except in CI.
func TestPromtool(t *testing.T) {
	promtool := os.Getenv("ASSISTANT_OTEL_PROMTOOL")
	if promtool == "" {
		var err error
		if promtool, err = exec.LookPath("promtool"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("promtool not found in CI: scripts/test.sh sets ASSISTANT_OTEL_PROMTOOL after scripts/tools.sh builds it")
			}
			t.Skip("promtool not found: set ASSISTANT_OTEL_PROMTOOL or run scripts/test.sh (scripts/tools.sh builds it)")
		}
	}
	for _, args := range [][]string{{"check", "rules", filepath.Base(rulesFile)}, {"test", "rules", filepath.Base(rulesTestFile)}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = filepath.Dir(rulesFile)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestE2EAlertExists: scripts/e2e/alerts.sh waits for an alert that the rules define.
func TestE2EAlertExists(t *testing.T) {
	b, err := os.ReadFile(alertsScript)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`alert=\$\{2:-([A-Za-z]+)\}`).FindSubmatch(b)
	if m == nil {
		t.Fatal("alerts.sh: default alert name not found")
	}
	rules, _ := os.ReadFile(rulesFile)
	if !strings.Contains(string(rules), "alert: "+string(m[1])+"\n") {
		t.Errorf("alerts.sh waits for %s, which %s does not define", m[1], rulesFile)
	}
}

// ---- Loki ----------------------------------------------------------------------------------------

// lokiAttributes lists the structured metadata names a turn or call log record can carry: the log
// attributes of the golden snapshots with dots turned into underscores, plus Loki's own.
func lokiAttributes(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(goldenGlob)
	if len(files) < 20 {
		t.Fatalf("only %d golden files", len(files))
	}
	attrs := map[string]bool{"service_name": true, "severity_text": true, "severity_number": true,
		"trace_id": true, "span_id": true, "detected_level": true}
	attrLine := regexp.MustCompile(`^  ([a-z_.]+) = `)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inLog := false
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "log "):
				inLog = true
			case !strings.HasPrefix(line, " "):
				inLog = false
			case inLog:
				if m := attrLine.FindStringSubmatch(line); m != nil {
					attrs[strings.ReplaceAll(m[1], ".", "_")] = true
				}
			}
		}
	}
	if !attrs["watson_assistant_low_confidence"] || attrs["watson_assistant_intent_margin"] {
		t.Fatal("golden log attributes not as expected: the parser is broken")
	}
	return attrs
}

var logqlFilter = regexp.MustCompile(`\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|==|=|>=|<=|>|<)`)

// logqlProblems: a query must select this service's streams and filter only on attributes that
// some log record carries.
func logqlProblems(expr string, attrs map[string]bool) []string {
	var problems []string
	if !strings.Contains(expr, serviceSelector) {
		problems = append(problems, "does not select "+serviceSelector+": "+expr)
	}
	filters := logqlFilter.FindAllStringSubmatch(expr, -1)
	if len(filters) == 0 {
		problems = append(problems, "filters on nothing: "+expr)
	}
	for _, f := range filters {
		if !attrs[f[1]] {
			problems = append(problems, "filters on "+f[1]+", which no log record carries")
		}
	}
	return problems
}

func checkLogQL(t *testing.T, where, expr string, attrs map[string]bool) {
	t.Helper()
	for _, p := range logqlProblems(expr, attrs) {
		t.Errorf("%s: %s", where, p)
	}
}

// TestQueryChecksCanFail: the checks above reject what they must.
func TestQueryChecksCanFail(t *testing.T) {
	known := map[string]bool{"a_total": true}
	recorded := map[string]bool{"x:a:rate5m": true}
	for expr, bad := range map[string]int{
		`sum(rate(a_total[5m])) / x:a:rate5m`: 0,
		`sum(rate(a_totall[5m]))`:             1,
		`vector(1)`:                           1, // selects no metric at all
		`b_total or c_total`:                  2,
	} {
		if got := promqlProblems(expr, known, recorded); len(got) != bad {
			t.Errorf("promqlProblems(%s) = %v, want %d problems", expr, got, bad)
		}
	}
	attrs := map[string]bool{"watson_assistant_outcome": true, "severity_text": true}
	for expr, bad := range map[string]int{
		`{service_name="assistant-otel"} | watson_assistant_outcome!="" | severity_text="ERROR"`: 0,
		`{service_name="assistant-otel"} | watson_assistant_outcom="low_confidence"`:             1,
		`{service_name="other"} | watson_assistant_outcome="x"`:                                  1,
		`{service_name="assistant-otel"}`:                                                        1,
	} {
		if got := logqlProblems(expr, attrs); len(got) != bad {
			t.Errorf("logqlProblems(%s) = %v, want %d problems", expr, got, bad)
		}
	}
}

func TestLokiRules(t *testing.T) {
	attrs := lokiAttributes(t)
	var rf ruleFile
	readYAML(t, lokiRulesFile, &rf)
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			where := "loki " + g.Name + "/" + r.Alert
			if r.Alert == "" {
				t.Errorf("%s: not an alerting rule", where)
			}
			checkLogQL(t, where, r.Expr, attrs)
			if !strings.Contains(r.Expr, "count_over_time(") {
				t.Errorf("%s: not a metric query", where)
			}
			if !slices.Contains(severities, r.Labels["severity"]) || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a severity label and summary/description annotations", where)
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d Loki rules", n)
	}
}

// ---- Grafana -------------------------------------------------------------------------------------

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Datasource  *datasourceRef `json:"datasource"`
	GridPos     struct{ H, W, X, Y int }
	Targets     []map[string]any `json:"targets"`
	Panels      []panel          `json:"panels"`
	FieldConfig struct {
		Defaults struct {
			Links []struct {
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"links"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Datasource *datasourceRef `json:"datasource"`
			Definition string         `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Links []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"links"`
}

// datasourceUIDs reads the provisioned data sources: uid -> type.
func datasourceUIDs(t *testing.T) map[string]string {
	t.Helper()
	var f struct {
		Datasources []struct {
			Name string `yaml:"name"`
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	b, err := os.ReadFile(datasourcesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for _, d := range f.Datasources {
		uids[d.UID] = d.Type
	}
	for _, typ := range []string{"prometheus", "loki", "jaeger"} {
		if !slices.Contains(mapsValues(uids), typ) {
			t.Fatalf("%s has no %s data source", datasourcesFile, typ)
		}
	}
	return uids
}

func mapsValues(m map[string]string) []string {
	var v []string
	for _, x := range m {
		v = append(v, x)
	}
	sort.Strings(v)
	return v
}

func flatten(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// exploreQueries decodes a Grafana Explore link: the data source uid and the query of each pane.
func exploreQueries(t *testing.T, where, link string) (uids []string, exprs []string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Errorf("%s: bad link %q: %v", where, link, err)
		return nil, nil
	}
	raw := u.Query().Get("panes")
	var panes map[string]struct {
		Datasource string `json:"datasource"`
		Queries    []struct {
			Datasource datasourceRef `json:"datasource"`
			Expr       string        `json:"expr"`
		} `json:"queries"`
	}
	if err := json.Unmarshal([]byte(raw), &panes); err != nil || len(panes) == 0 {
		t.Errorf("%s: Explore link without panes JSON: %q (%v)", where, raw, err)
		return nil, nil
	}
	for _, p := range panes {
		uids = append(uids, p.Datasource)
		for _, q := range p.Queries {
			uids = append(uids, q.Datasource.UID)
			if q.Expr != "" {
				exprs = append(exprs, q.Expr)
			}
		}
	}
	return uids, exprs
}

func TestDashboards(t *testing.T) {
	known, recorded := knownMetricNames(t), recordingNames(t)
	uids := datasourceUIDs(t)
	attrs := lokiAttributes(t)
	files, _ := filepath.Glob(dashboardsGlob)
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		name := filepath.Base(file)
		if d.UID == "" || d.Title == "" || d.SchemaVersion < 39 {
			t.Errorf("%s: uid %q, title %q, schemaVersion %d (want >= 39)", name, d.UID, d.Title, d.SchemaVersion)
		}
		checkRef := func(where string, ref *datasourceRef) {
			t.Helper()
			switch {
			case ref == nil || ref.UID == "":
				t.Errorf("%s: no data source", where)
			case uids[ref.UID] == "":
				t.Errorf("%s: data source uid %q is not provisioned (%s)", where, ref.UID, datasourcesFile)
			case ref.Type != "" && ref.Type != uids[ref.UID]:
				t.Errorf("%s: data source %q has type %s, not %s", where, ref.UID, uids[ref.UID], ref.Type)
			}
		}
		checkLink := func(where, link string) {
			t.Helper()
			if !strings.Contains(link, "/explore") {
				return
			}
			linkUIDs, exprs := exploreQueries(t, where, link)
			for _, u := range linkUIDs {
				if uids[u] == "" {
					t.Errorf("%s: link to unknown data source %q", where, u)
				}
			}
			for _, e := range exprs {
				checkLogQL(t, where+" link", e, attrs)
			}
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			checkRef(name+" variable "+v.Name, v.Datasource)
			m := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)`).FindStringSubmatch(v.Definition)
			if m == nil || !known[m[1]] {
				t.Errorf("%s: variable %s queries %q: not label_values of a known metric", name, v.Name, v.Definition)
			}
		}
		for _, l := range d.Links {
			checkLink(name+" dashboard link "+l.Title, l.URL)
		}
		ids := map[int]string{}
		kinds := map[string]int{}
		exemplars, lokiLinks, jaegerLinks := 0, 0, 0
		for _, p := range flatten(d.Panels) {
			where := name + " panel " + p.Title
			if p.ID <= 0 {
				t.Errorf("%s: id %d", where, p.ID)
			}
			if other, dup := ids[p.ID]; dup {
				t.Errorf("%s: id %d also used by %q", where, p.ID, other)
			}
			ids[p.ID] = p.Title
			kinds[p.Type]++
			if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
				t.Errorf("%s: gridPos %+v outside the 24 columns", where, p.GridPos)
			}
			if p.Type == "row" {
				continue
			}
			checkRef(where, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				var ref datasourceRef
				if raw, _ := json.Marshal(tg["datasource"]); string(raw) != "null" {
					_ = json.Unmarshal(raw, &ref)
					checkRef(where+" target", &ref)
				} else {
					ref = *p.Datasource
				}
				expr, _ := tg["expr"].(string)
				switch uids[ref.UID] {
				case "prometheus":
					checkPromQL(t, where, expr, known, recorded)
					if tg["exemplar"] == true {
						exemplars++
					} else if strings.Contains(expr, "gen_ai_server_request_duration_seconds_bucket") {
						t.Errorf("%s: latency query without exemplars (they link the points to Jaeger)", where)
					}
				case "loki":
					checkLogQL(t, where, expr, attrs)
				}
			}
			for _, l := range p.FieldConfig.Defaults.Links {
				checkLink(where+" link "+l.Title, l.URL)
				if strings.Contains(l.URL, "%22loki%22") {
					lokiLinks++
				}
				if strings.Contains(l.URL, "%22jaeger%22") {
					jaegerLinks++
				}
			}
		}
		if kinds["heatmap"] == 0 || kinds["logs"] == 0 || kinds["timeseries"] < 5 {
			t.Errorf("%s: panel kinds %v: want a heatmap, a logs panel and time series", name, kinds)
		}
		if exemplars == 0 || lokiLinks == 0 || jaegerLinks == 0 {
			t.Errorf("%s: %d exemplar queries, %d Loki links, %d Jaeger links: want each", name, exemplars, lokiLinks, jaegerLinks)
		}
	}
}

func TestDashboardProvisioning(t *testing.T) {
	var f struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	b, err := os.ReadFile(provisioningDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.APIVersion != 1 || len(f.Providers) != 1 || f.Providers[0].Type != "file" || f.Providers[0].Options.Path != "/var/lib/grafana/dashboards" {
		t.Errorf("dashboard provisioning %+v: want one file provider reading /var/lib/grafana/dashboards", f)
	}
}
