// Package browser looks at what scripts/e2e.sh sent through the real stack the way a person does: the
// real Jaeger UI (and VictoriaLogs' web UI) opened in headless Chromium, driven by chromedp, with
// assertions on the rendered page.
//
// It is a separate Go module so that chromedp and its protocol bindings stay out of the service's module.
// scripts/e2e.sh runs it as its last step, with the stack still up:
//
//	BROWSER_JAEGER_URL   Jaeger's query/UI base URL (required; without it the test skips)
//	BROWSER_JAEGER_UI    the UI assets directory Jaeger serves (checked to exist)
//	BROWSER_VLOGS_URL    VictoriaLogs' base URL (for the logs picture; optional)
//	BROWSER_OTLP_URL     the Collector's OTLP/HTTP base URL (for the warning control; optional)
//	BROWSER_ARTIFACTS    where a failed wait saves the page (scripts/e2e.sh keeps it on failure)
//	BROWSER_CORPUS       testdata/corpus (the expectations come from it)
//	BROWSER_SCREENSHOTS  also write the pictures here (e.g. docs/img); they always go to the test's temp dir
//	ASSISTANT_OTEL_CHROMIUM  the browser binary (default: chromium, chromium-browser, google-chrome on PATH)
//
// Without Chromium or the UI build it says so and skips; with CI=true a missing one fails.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageWait bounds every wait for a DOM condition.
const pageWait = 20 * time.Second

// event is the part of a corpus log event the expectations need.
type event struct {
	Event   struct{ Name string } `json:"event"`
	Payload struct {
		LogID            string `json:"log_id"`
		RequestTimestamp string `json:"request_timestamp"`
		Request          struct {
			Input struct {
				Text string `json:"text"`
			} `json:"input"`
		} `json:"request"`
		Response struct {
			Output struct {
				Generic []struct {
					ResponseType string `json:"response_type"`
					Text         string `json:"text"`
				} `json:"generic"`
				Intents []struct {
					Intent     string  `json:"intent"`
					Confidence float64 `json:"confidence"`
				} `json:"intents"`
			} `json:"output"`
			Context struct {
				Global struct {
					SessionID string `json:"session_id"`
				} `json:"global"`
			} `json:"context"`
		} `json:"response"`
	} `json:"payload"`
}

func (e event) start(t *testing.T) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, e.Payload.RequestTimestamp)
	if err != nil {
		t.Fatalf("log %s: request_timestamp: %v", e.Payload.LogID, err)
	}
	return ts
}

// conversations are the corpus sessions with more than one turn, each sorted by request time.
func conversations(t *testing.T, dir string) map[string][]event {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus events in %s (%v)", dir, err)
	}
	bySession := map[string][]event{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if sid := e.Payload.Response.Context.Global.SessionID; sid != "" {
			bySession[sid] = append(bySession[sid], e)
		}
	}
	for sid, evs := range bySession {
		if len(evs) < 2 {
			delete(bySession, sid)
			continue
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].start(t).Before(evs[j].start(t)) })
	}
	if len(bySession) == 0 {
		t.Fatalf("no multi-turn conversation in %s", dir)
	}
	return bySession
}

// jaegerTrace is the part of Jaeger's /api/traces answer the test needs.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func apiTraces(t *testing.T, u string) []jaegerTrace {
	var r struct{ Data []jaegerTrace }
	getJSON(t, u, &r)
	return r.Data
}

// env holds what every subtest needs.
type env struct {
	jaeger, vlogs, shots string
	browser              context.Context
}

func setup(t *testing.T) *env {
	jaeger := os.Getenv("BROWSER_JAEGER_URL")
	if jaeger == "" {
		t.Skip("BROWSER_JAEGER_URL is not set: scripts/e2e.sh runs this test against the stack it starts")
	}
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the browser check must run in CI)", what)
		}
		t.Skipf("SKIP the browser check: %s", what)
	}
	ui := os.Getenv("BROWSER_JAEGER_UI")
	if ui == "" {
		missing("no Jaeger UI build: set ASSISTANT_OTEL_JAEGER_UI or put it at ../shared/jaeger-ui")
	}
	if _, err := os.Stat(filepath.Join(ui, "index.html")); err != nil {
		missing(fmt.Sprintf("no Jaeger UI build at %s (%v)", ui, err))
	}
	chrome := os.Getenv("ASSISTANT_OTEL_CHROMIUM")
	if chrome != "" {
		if _, err := exec.LookPath(chrome); err != nil {
			missing(fmt.Sprintf("ASSISTANT_OTEL_CHROMIUM=%s: %v", chrome, err))
		}
	} else {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				chrome = p
				break
			}
		}
	}
	if chrome == "" {
		missing("no Chromium on PATH (apt-get install chromium, or set ASSISTANT_OTEL_CHROMIUM)")
	}
	corpus := os.Getenv("BROWSER_CORPUS")
	if corpus == "" {
		corpus = "../../../testdata/corpus"
	}
	_ = os.Setenv("BROWSER_CORPUS", corpus)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	// Start the browser now (the first call's context must have no timeout: it is the browser's lifetime).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	shots := os.Getenv("BROWSER_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &env{jaeger: strings.TrimRight(jaeger, "/"), vlogs: strings.TrimRight(os.Getenv("BROWSER_VLOGS_URL"), "/"),
		shots: shots, browser: bctx}
}

// tab opens a new tab, bounded by pageWait per action batch via run.
func (e *env) tab(t *testing.T) context.Context {
	ctx, cancel := chromedp.NewContext(e.browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab; its context is the tab's lifetime
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// get runs one action that returns a value, bounded by pageWait.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, pageWait)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// run runs actions in order, bounded by pageWait.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, ctx, what, chromedp.Steps(actions...))
}

// waitJS waits (polling, bounded) until the JS expression is true. When it times out it saves what the page
// showed in BROWSER_ARTIFACTS (scripts/e2e.sh keeps that directory when a check fails).
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, pageWait)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(pageWait-time.Second))); err != nil {
		if dir := os.Getenv("BROWSER_ARTIFACTS"); dir != "" {
			c2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
			defer cancel2()
			if png, err2 := chromedp.Run(c2, chromedp.CaptureScreenshot()); err2 == nil && os.MkdirAll(dir, 0o755) == nil {
				p := filepath.Join(dir, "failed-"+strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
				if os.WriteFile(p, png, 0o644) == nil {
					t.Logf("the page when the wait failed: %s", p)
				}
			}
		}
		t.Fatalf("wait for %s: %v", what, err)
	}
}

// shot saves a PNG of the viewport in the test's temp dir (and in BROWSER_SCREENSHOTS when set).
func (e *env) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	e.save(t, name, get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot()))
}

// save writes a PNG to the test's temp dir (and to BROWSER_SCREENSHOTS when set).
func (e *env) save(t *testing.T, name string, png []byte) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if e.shots != "" {
		dirs = append(dirs, e.shots)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KB)", p, len(png)/1024)
	}
}

// row is a span row as rendered in Jaeger's trace timeline.
type row struct {
	SpanID    string `json:"spanID"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Top       float64
}

// jsRows lists the rendered span rows, top to bottom.
const jsRows = `[...document.querySelectorAll('.VirtualizedTraceView--row[data-item-key$="--bar"]')]
  .map(r => ({spanID: r.dataset.itemKey.replace(/--bar$/, ''),
    service: (r.querySelector('.span-svc-name')||{}).textContent.trim(),
    operation: (r.querySelector('.endpoint-name')||{}).textContent,
    top: parseFloat(r.style.top)}))
  .sort((a, b) => a.top - b.top)`

// openTrace opens /trace/<id>, waits for the timeline, and returns the header's span count and the rows.
func (e *env) openTrace(t *testing.T, ctx context.Context, traceID string, wantSpans int) (int, []row) {
	t.Helper()
	run(t, ctx, "open trace "+traceID, chromedp.Navigate(e.jaeger+"/trace/"+traceID))
	waitJS(t, ctx, "the trace timeline", `document.querySelectorAll('.VirtualizedTraceView--row').length > 0 &&
		[...document.querySelectorAll('.LabeledList--label')].some(l => l.textContent === 'Total Spans')`)
	total := get(t, ctx, "read Total Spans", chromedp.Evaluate[string](`[...document.querySelectorAll('.LabeledList--item')]
		.find(i => (i.querySelector('.LabeledList--label')||{}).textContent === 'Total Spans').querySelector('strong').textContent`))
	var n int
	if _, err := fmt.Sscan(total, &n); err != nil {
		t.Fatalf("Total Spans %q: %v", total, err)
	}
	// The rows are virtualized: wait until as many rows as the header counts are rendered (all fit).
	waitJS(t, ctx, fmt.Sprintf("%d span rows", wantSpans), fmt.Sprintf(
		`document.querySelectorAll('.VirtualizedTraceView--row[data-item-key$="--bar"]').length >= %d`, wantSpans))
	rows := get(t, ctx, "read span rows", chromedp.Evaluate[[]row](jsRows))
	return n, rows
}

// expand clicks a span's bar to open its detail, waits for it and returns the detail's text; it fails the
// test if Jaeger shows a warning on the span.
func expand(t *testing.T, ctx context.Context, spanID string) string {
	t.Helper()
	text, warnings := expandDetail(t, ctx, spanID)
	if warnings != 0 {
		t.Errorf("span %s: Jaeger shows %d warning section(s): %.400s", spanID, warnings, text)
	}
	return text
}

// expandDetail opens a span's detail and returns its text and how many warning sections it shows.
func expandDetail(t *testing.T, ctx context.Context, spanID string) (string, int) {
	t.Helper()
	bar := fmt.Sprintf(`.VirtualizedTraceView--row[data-item-key="%s--bar"] .span-view`, spanID)
	detail := fmt.Sprintf(`.VirtualizedTraceView--row[data-item-key="%s--detail"]`, spanID)
	run(t, ctx, "expand span "+spanID, chromedp.Click(chromedp.CSS(bar)), chromedp.WaitVisible(chromedp.CSS(detail)))
	text := get(t, ctx, "read span detail "+spanID, chromedp.Text(chromedp.CSS(detail)))
	warnings := get(t, ctx, "count warnings on "+spanID, chromedp.Evaluate[int](fmt.Sprintf(
		`document.querySelectorAll('.VirtualizedTraceView--row[data-item-key="%s--detail"] .AccordianWarnings').length`, spanID)))
	return text, warnings
}

// collapse closes a span's detail again.
func collapse(t *testing.T, ctx context.Context, spanID string) {
	t.Helper()
	bar := fmt.Sprintf(`.VirtualizedTraceView--row[data-item-key="%s--bar"] .span-view`, spanID)
	run(t, ctx, "collapse span "+spanID, chromedp.Click(chromedp.CSS(bar)))
	waitJS(t, ctx, "span detail closed", fmt.Sprintf(
		`!document.querySelector('.VirtualizedTraceView--row[data-item-key="%s--detail"]')`, spanID))
}

func tag(tr jaegerTrace, spanID, key string) string {
	for _, s := range tr.Spans {
		if s.SpanID == spanID {
			for _, kv := range s.Tags {
				if kv.Key == key {
					return fmt.Sprint(kv.Value)
				}
			}
		}
	}
	return ""
}

func TestBrowser(t *testing.T) {
	e := setup(t)
	t.Run("control: Jaeger shows a warning on a span with an unknown parent", func(t *testing.T) { testWarningControl(t, e) })
	t.Run("conversations", func(t *testing.T) { testConversations(t, e) })
	t.Run("phone call", func(t *testing.T) { testPhoneCall(t, e) })
	t.Run("low-confidence log in VictoriaLogs", func(t *testing.T) { testLogs(t, e) })
}

func testConversations(t *testing.T, e *env) {
	convs := conversations(t, os.Getenv("BROWSER_CORPUS"))
	sids := make([]string, 0, len(convs))
	for sid := range convs {
		sids = append(sids, sid)
	}
	sort.Strings(sids)
	for _, sid := range sids {
		turns := convs[sid]
		t.Run(sid, func(t *testing.T) {
			traceID := strings.ReplaceAll(sid, "-", "")
			api := apiTraces(t, e.jaeger+"/api/traces/"+traceID)
			if len(api) != 1 {
				t.Fatalf("Jaeger API: %d traces for %s", len(api), traceID)
			}
			// span id of each turn, from its gen_ai.response.id (= the corpus log id)
			turnSpan := map[string]string{}
			for _, s := range api[0].Spans {
				if id := tag(api[0], s.SpanID, "gen_ai.response.id"); id != "" && tag(api[0], s.SpanID, "gen_ai.operation.name") == "invoke_agent" {
					turnSpan[id] = s.SpanID
				}
			}
			ctx := e.tab(t)
			total, rows := e.openTrace(t, ctx, traceID, len(api[0].Spans))
			if total != len(api[0].Spans) || len(rows) != len(api[0].Spans) {
				t.Errorf("page shows Total Spans %d and %d rows; the API has %d spans", total, len(rows), len(api[0].Spans))
			}
			var got []row
			for _, r := range rows {
				if strings.HasPrefix(r.Operation, "invoke_agent") {
					got = append(got, r)
				}
				if r.Service != "assistant-otel" {
					t.Errorf("row %s: service %q, want assistant-otel", r.SpanID, r.Service)
				}
			}
			if len(got) != len(turns) {
				t.Fatalf("%d turn rows (invoke_agent*) on the page, want %d (the corpus turns): %+v", len(got), len(turns), rows)
			}
			for i, ev := range turns {
				if want := turnSpan[ev.Payload.LogID]; got[i].SpanID != want {
					t.Errorf("turn row %d is span %s, want %s (log %s, request time order)", i+1, got[i].SpanID, want, ev.Payload.LogID)
				}
			}
			e.shot(t, ctx, "jaeger-conversation.png")

			// every span: expanded, no warning; turns: the user's words, the intent and the reply
			var pictured string
			for _, r := range rows {
				text := expand(t, ctx, r.SpanID)
				for i, ev := range turns {
					if got[i].SpanID != r.SpanID {
						continue
					}
					var want []string
					if in := ev.Payload.Request.Input.Text; in != "" {
						want = append(want, in)
					}
					for _, g := range ev.Payload.Response.Output.Generic {
						if g.ResponseType == "text" && g.Text != "" {
							want = append(want, g.Text)
						}
					}
					if len(ev.Payload.Response.Output.Intents) > 0 {
						in := ev.Payload.Response.Output.Intents[0]
						want = append(want, in.Intent, fmt.Sprint(in.Confidence)[:6])
					}
					for _, w := range want {
						if !strings.Contains(text, w) {
							t.Errorf("turn %d (span %s): expanded detail does not show %q", i+1, r.SpanID, w)
						}
					}
					if len(ev.Payload.Response.Output.Intents) > 0 && ev.Payload.Request.Input.Text != "" {
						pictured = r.SpanID
					}
				}
				collapse(t, ctx, r.SpanID)
			}
			// the picture: a turn with the user's words and an intent
			if pictured != "" {
				e.shotTurn(t, ctx, pictured)
			}
		})
	}
}

// shotTurn expands a turn, opens its Tags as a table and saves a picture of the whole detail.
func (e *env) shotTurn(t *testing.T, ctx context.Context, spanID string) {
	detail := fmt.Sprintf(`.VirtualizedTraceView--row[data-item-key="%s--detail"]`, spanID)
	expand(t, ctx, spanID)
	run(t, ctx, "open Tags of "+spanID, chromedp.Click(chromedp.CSS(detail+` .AccordianKeyValues--header`)))
	waitJS(t, ctx, "the Tags table", fmt.Sprintf(`!!document.querySelector('%s .KeyValueTable')`, detail))
	// The table scrolls inside a bounded height: for the picture, unbound it (and its scrolling ancestors).
	waitJS(t, ctx, "the Tags table unbounded", fmt.Sprintf(`(() => {
		for (let e = document.querySelector('%s .KeyValueTable'); e; e = e.parentElement) {
			const cs = getComputedStyle(e);
			if (cs.maxHeight !== 'none' || cs.overflowY === 'auto' || cs.overflowY === 'scroll') {
				e.style.maxHeight = 'none'; e.style.overflow = 'visible'; }
			if (e.matches('%s')) break; }
		// rows below keep their positions and would overlap the grown detail
		const d = document.querySelector('%s');
		document.querySelectorAll('.VirtualizedTraceView--row').forEach(r => {
			if (r.offsetTop > d.offsetTop) r.style.visibility = 'hidden' });
		return true })()`, detail, detail, detail))
	// The virtualized row keeps its measured height: picture its content, now whole.
	e.save(t, "jaeger-turn.png", get(t, ctx, "screenshot of the turn", chromedp.Screenshot(chromedp.CSS(detail+" > *"))))
}

func testPhoneCall(t *testing.T, e *env) {
	q := url.Values{"service": {"assistant-otel"}, "operation": {"phone_call"},
		"start": {"946684800000000"}, "end": {fmt.Sprint(time.Now().Add(time.Hour).UnixMicro())}, "limit": {"20"}}
	calls := apiTraces(t, e.jaeger+"/api/traces?"+q.Encode())
	if len(calls) != 1 {
		t.Fatalf("Jaeger API: %d phone_call traces, want 1 (the corpus cdr_logged event)", len(calls))
	}
	call := calls[0]
	var links int
	for _, s := range call.Spans {
		if s.OperationName == "phone_call" {
			links = len(s.References)
		}
	}
	if links == 0 {
		t.Fatal("Jaeger API: the phone_call span has no links")
	}
	ctx := e.tab(t)
	total, rows := e.openTrace(t, ctx, call.TraceID, len(call.Spans))
	if total != len(call.Spans) || len(rows) != len(call.Spans) {
		t.Errorf("page shows Total Spans %d and %d rows; the API has %d spans", total, len(rows), len(call.Spans))
	}
	for _, r := range rows {
		if r.Operation != "phone_call" {
			continue
		}
		text := expand(t, ctx, r.SpanID)
		if want := fmt.Sprintf("References (%d)", links); !strings.Contains(text, want) {
			t.Errorf("phone_call detail: no %q (its links): %.600s", want, text)
		}
		// open References: each link's span id is listed
		detail := fmt.Sprintf(`.VirtualizedTraceView--row[data-item-key="%s--detail"]`, r.SpanID)
		waitJS(t, ctx, "the References section opened", fmt.Sprintf(`(() => {
			const h = [...document.querySelectorAll('%s *')].find(e =>
				String(e.className).includes('header') && /^References/.test(e.textContent.trim()));
			if (!h) return false; h.click(); return true })()`, detail))
		var ids []string
		for _, s := range call.Spans {
			for _, ref := range s.References {
				ids = append(ids, ref.SpanID)
			}
		}
		idsJSON, _ := json.Marshal(ids)
		waitJS(t, ctx, "every linked span id listed", fmt.Sprintf(
			`%s.every(id => document.querySelector('%s').innerText.includes(id))`, idsJSON, detail))
		e.shot(t, ctx, "jaeger-phone-call.png")
		return
	}
	t.Errorf("no phone_call row on the page: %+v", rows)
}

func testLogs(t *testing.T, e *env) {
	if e.vlogs == "" {
		t.Skip("BROWSER_VLOGS_URL is not set")
	}
	// The corpus's low-confidence turn, as a person finds it in VictoriaLogs' web UI.
	// The web UI shows a time window ending at g0.end_input (UTC): the corpus turns are dated 2025.
	b, err := os.ReadFile(filepath.Join(os.Getenv("BROWSER_CORPUS"), "04-low-confidence-alternates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	end := ev.start(t).Add(30 * time.Second).UTC().Format("2006-01-02T15:04:05")
	const query = `watson_assistant.intent.confidence:<0.5 | fields _time, watson_assistant.intent, watson_assistant.intent.confidence, watson_assistant.input.text, _msg, trace_id`
	ctx := e.tab(t)
	run(t, ctx, "open vmui", chromedp.Navigate(e.vlogs+"/select/vmui/?#/?query="+url.QueryEscape(query)+
		"&g0.range_input=1h&g0.end_input="+url.QueryEscape(end)+"&g0.relative_time=none"))
	if len(ev.Payload.Response.Output.Intents) == 0 {
		t.Fatal("04-low-confidence-alternates.json has no intents")
	}
	words, intent := ev.Payload.Request.Input.Text, ev.Payload.Response.Output.Intents[0].Intent
	lows := lowConfidenceTurns(t, os.Getenv("BROWSER_CORPUS"))
	// The Group and Table views show the message only; the JSON view shows every chosen field.
	waitJS(t, ctx, "the results' JSON tab", `(() => { const b = [...document.querySelectorAll('button, [role=tab], div')]
		.find(e => e.childElementCount <= 2 && e.textContent.trim() === 'JSON'); if (b) b.click(); return !!b })()`)
	waitJS(t, ctx, fmt.Sprintf("the low-confidence log record (%q, intent %s)", words, intent), fmt.Sprintf(
		`document.body.innerText.includes('"watson_assistant.intent": "' + %q) &&
		 document.body.innerText.includes('"watson_assistant.input.text": "' + %q)`, intent, words))
	n := get(t, ctx, "count the records shown", chromedp.Evaluate[int](
		`document.body.innerText.split('"watson_assistant.intent.confidence": ').length - 1`))
	if n != lows {
		t.Errorf("vmui shows %d low-confidence records, want %d (the corpus's turns with top confidence < 0.5)", n, lows)
	}
	e.shot(t, ctx, "victorialogs-low-confidence.png")
}

// lowConfidenceTurns counts the corpus turns whose top intent confidence is below 0.5.
func lowConfidenceTurns(t *testing.T, dir string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		top := -1.0
		for _, in := range e.Payload.Response.Output.Intents {
			top = max(top, in.Confidence)
		}
		if top >= 0 && top < 0.5 {
			n++
		}
	}
	return n
}

// testWarningControl proves the "no warning" assertion can see one: a span whose parent was never sent gets
// Jaeger's "invalid parent span IDs" warning. It is sent as OTLP/JSON to the Collector (BROWSER_OTLP_URL).
func testWarningControl(t *testing.T, e *env) {
	otlp := strings.TrimRight(os.Getenv("BROWSER_OTLP_URL"), "/")
	if otlp == "" {
		t.Skip("BROWSER_OTLP_URL is not set")
	}
	now := time.Now()
	traceID := fmt.Sprintf("%016x%016x", now.UnixNano(), uint64(0xb10c))
	spanID, parentID := "00000000000b10c1", "00000000000b10c0"
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"browser-control"}}]},
	  "scopeSpans":[{"scope":{"name":"browser-control"},"spans":[{"traceId":"%s","spanId":"%s","parentSpanId":"%s",
	  "name":"orphan","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}]}`,
		traceID, spanID, parentID, now.Add(-5*time.Millisecond).UnixNano(), now.UnixNano())
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(otlp+"/v1/traces", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/v1/traces: %s", otlp, resp.Status)
	}
	// wait (bounded) until Jaeger has it, then look at it in the UI
	deadline := time.Now().Add(pageWait)
	for {
		r, err := c.Get(e.jaeger + "/api/traces/" + traceID)
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s did not reach Jaeger within %s", traceID, pageWait)
		}
		time.Sleep(200 * time.Millisecond) // polling the API, not deciding anything
	}
	ctx := e.tab(t)
	_, rows := e.openTrace(t, ctx, traceID, 1)
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	if text, warnings := expandDetail(t, ctx, rows[0].SpanID); warnings == 0 {
		t.Errorf("the orphan span shows no warning section: the warning check would see nothing: %.400s", text)
	}
}
