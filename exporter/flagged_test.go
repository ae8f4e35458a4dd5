package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// flagKinds are the attribute sets that make a turn matter, one per kind,
// as mapping writes them (see mapping/testdata/golden).
var flagKinds = [][]attribute.KeyValue{
	{mapping.AttrLowConfidence.Bool(true), mapping.AttrOutcome.String(mapping.OutcomeLowConfidence)},
	{mapping.AttrNotRecognized.Bool(true), mapping.AttrRecognition.String(mapping.RecognitionNotRecognized)},
	{mapping.AttrAmbiguous.Bool(true)},
	{mapping.AttrOutcome.String(mapping.OutcomeClarification), mapping.AttrRecognition.String(mapping.RecognitionClarification)},
	{mapping.AttrOutcome.String(mapping.OutcomeError)},
	{mapping.AttrHandoff.Bool(true), mapping.AttrOutcome.String(mapping.OutcomeHandoff)},
	{mapping.AttrOutcome.String(mapping.OutcomeNotRecognized)},
	{mapping.AttrRecognition.String(mapping.RecognitionNotRecognized)},
}

// plainTurn is an unflagged turn's attributes, false flags included.
func plainTurn() []attribute.KeyValue {
	return []attribute.KeyValue{
		mapping.AttrLowConfidence.Bool(false), mapping.AttrNotRecognized.Bool(false),
		mapping.AttrAmbiguous.Bool(false), mapping.AttrHandoff.Bool(false),
		mapping.AttrOutcome.String(mapping.OutcomeAnswered), mapping.AttrRecognition.String(mapping.RecognitionRecognized),
	}
}

// flaggedTurn is plainTurn with the attributes of flag kind k in place of
// their unflagged values.
func flaggedTurn(k int) []attribute.KeyValue {
	flags := flagKinds[k]
	var attrs []attribute.KeyValue
	for _, kv := range plainTurn() {
		if !slices.ContainsFunc(flags, func(f attribute.KeyValue) bool { return f.Key == kv.Key }) {
			attrs = append(attrs, kv)
		}
	}
	return append(attrs, flags...)
}

func TestFlaggedTurn(t *testing.T) {
	for i := range flagKinds {
		if attrs := flaggedTurn(i); !FlaggedTurn(attrs) {
			t.Errorf("flag kind %d %v: not flagged", i, attrs)
		}
	}
	for _, attrs := range [][]attribute.KeyValue{
		nil, plainTurn(),
		{mapping.AttrOutcome.String(mapping.OutcomeWelcome), mapping.AttrRecognition.String(mapping.RecognitionNone)},
		{mapping.AttrOutcome.String(mapping.OutcomeAnsweredBySearch), mapping.AttrRecognition.String(mapping.RecognitionSearch)},
		{mapping.AttrOutcome.String(mapping.OutcomeNoAnswer), mapping.AttrRecognition.String(mapping.RecognitionStepAnswer)},
		{mapping.AttrLowConfidence.String("true")}, // not a bool: not mapping's
	} {
		if FlaggedTurn(attrs) {
			t.Errorf("%v: flagged", attrs)
		}
	}
}

// At ratio 0.01 over 10,000 synthetic conversations of several turns each,
// asked as decide asks (turns as roots, children under them): every flagged
// turn and its children are kept, unflagged turns are kept per conversation
// (all or none), and the share of conversations whose unflagged turns are
// kept is the ratio within a binomial bound of 4.5σ (σ ≈ 0.001 here, so well
// inside 1 percentage point).
func TestKeepFlaggedTurnsAtRatio(t *testing.T) {
	const ratio, conversations = 0.01, 10_000
	for _, name := range []string{"traceidratio", "parentbased_traceidratio"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(envSampler, name)
			t.Setenv(envSamplerArg, fmt.Sprint(ratio))
			s, _, err := samplerFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 5))
			ids := conversationIDs("uuidv4", conversations)
			flagged, keptConv, withPlain := 0, 0, 0
			for _, id := range ids {
				var plainKept []bool
				for turn := range 2 + r.IntN(6) {
					attrs := plainTurn()
					isFlagged := r.IntN(5) == 0
					if isFlagged {
						attrs = flaggedTurn(r.IntN(len(flagKinds)))
						flagged++
					}
					root := s.ShouldSample(sdktrace.SamplingParameters{
						ParentContext: context.Background(), TraceID: id, Name: "invoke_agent", Kind: trace.SpanKindServer, Attributes: attrs,
					})
					kept := root.Decision == sdktrace.RecordAndSample
					if isFlagged && !kept {
						t.Fatalf("conversation %s turn %d: flagged turn %v dropped", id, turn, attrs)
					}
					if !isFlagged {
						plainKept = append(plainKept, kept)
					}
					// A child span follows its turn.
					flags := trace.TraceFlags(0)
					if kept {
						flags = trace.FlagsSampled
					}
					parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: mapping.TurnSpanID(fmt.Sprint(id, turn)), TraceFlags: flags})
					child := s.ShouldSample(sdktrace.SamplingParameters{
						ParentContext: trace.ContextWithSpanContext(context.Background(), parent), TraceID: id, Name: "callout", Kind: trace.SpanKindClient,
					})
					if got := child.Decision == sdktrace.RecordAndSample; got != kept {
						t.Fatalf("conversation %s turn %d: child sampled %v, its turn %v", id, turn, got, kept)
					}
				}
				if len(plainKept) == 0 {
					continue
				}
				withPlain++
				for _, k := range plainKept[1:] {
					if k != plainKept[0] {
						t.Fatalf("conversation %s: unflagged turns decided differently: %v", id, plainKept)
					}
				}
				if plainKept[0] {
					keptConv++
				}
			}
			got := float64(keptConv) / float64(withPlain)
			tol := 4.5 * math.Sqrt(ratio*(1-ratio)/float64(withPlain))
			t.Logf("%s: %d flagged turns all kept; unflagged turns kept in %d of %d conversations (%.4f, want %.2f ± %.4f)",
				name, flagged, keptConv, withPlain, got, ratio, tol)
			if tol > 0.01 || math.Abs(got-ratio) > tol {
				t.Errorf("unflagged share %.4f, want %v ± %.4f (and a tolerance under 0.01)", got, ratio, tol)
			}
		})
	}
}

// always_off stays off: flagged turns are not forced through.
func TestKeepFlaggedTurnsNotForAlwaysOff(t *testing.T) {
	t.Setenv(envSampler, "always_off")
	s, _, err := samplerFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	res := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: testTraceID, Attributes: flagKinds[0]})
	if res.Decision != sdktrace.Drop {
		t.Errorf("always_off sampled a flagged turn")
	}
}

// End to end through the exporter to an OTLP sink at ratio 0.01: every
// flagged turn arrives with its child, as a root span; unflagged turns arrive
// only from conversations the draw keeps; every log record arrives (logs
// are not sampled), its sampled flag matching its turn's.
func TestKeepFlaggedTurnsEndToEnd(t *testing.T) {
	srv := otlptest.StartGRPC(t)
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.01")
	e, err := New(t.Context(), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	draw := ConversationRatioSampler(0.01)
	r := rand.New(rand.NewPCG(11, 13))
	type want struct {
		flagged, drawn bool
	}
	turns := map[trace.SpanID]want{}
	const conversations = 300
	wantSpans, logs := 0, 0
	for c := range conversations {
		session := uuidV4(r)
		id := mapping.ConversationTraceID(session)
		drawn := draw.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id}).Decision == sdktrace.RecordAndSample
		for turn := range 3 {
			logID := fmt.Sprintf("c%d-t%d", c, turn)
			attrs := plainTurn()
			flagged := (c+turn)%4 == 0
			if flagged {
				attrs = flaggedTurn((c + turn) % len(flagKinds))
			}
			rootID, childID := mapping.TurnSpanID(logID), mapping.ChildSpanID(logID, 0)
			turns[rootID] = want{flagged, drawn}
			if flagged || drawn {
				wantSpans += 2
			}
			e.Export(t.Context(), mapping.Telemetry{
				Spans: []mapping.Span{
					{TraceID: id, SpanID: rootID, Name: "invoke_agent Demo", Kind: trace.SpanKindServer, Start: testStart, End: testStart.Add(1e9), Attributes: attrs},
					{TraceID: id, SpanID: childID, ParentID: rootID, Name: "callout", Kind: trace.SpanKindClient, Start: testStart, End: testStart.Add(5e8)},
				},
				Logs: []mapping.LogRecord{{EventName: "watson_assistant.turn", Time: testStart, TraceID: id, SpanID: rootID, Body: "turn"}},
			})
			logs++
		}
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs, err := srv.WaitLogRecords(logs, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	spans := srv.Spans()
	if len(spans) != wantSpans {
		t.Errorf("got %d spans, want %d", len(spans), wantSpans)
	}
	roots := map[trace.SpanID]bool{}
	for _, s := range spans {
		if w, ok := turns[s.SpanID]; ok {
			if s.ParentSpanID.IsValid() {
				t.Errorf("turn %s exported with a parent", s.SpanID)
			}
			if !w.flagged && !w.drawn {
				t.Errorf("unflagged turn %s of a conversation drawn out was exported", s.SpanID)
			}
			roots[s.SpanID] = true
		}
	}
	flaggedSeen := 0
	for id, w := range turns {
		if w.flagged {
			flaggedSeen++
			if !roots[id] {
				t.Errorf("flagged turn %s missing", id)
			}
		}
	}
	for _, s := range spans {
		if s.ParentSpanID.IsValid() && !roots[s.ParentSpanID] {
			t.Errorf("child %s exported without its turn %s", s.SpanID, s.ParentSpanID)
		}
	}
	if len(recs) != logs {
		t.Errorf("got %d log records, want %d (logs are not sampled)", len(recs), logs)
	}
	for _, rec := range recs {
		if got, want := rec.Flags&uint32(trace.FlagsSampled) != 0, roots[rec.SpanID]; got != want {
			t.Errorf("log record of turn %s: sampled flag %v, want %v", rec.SpanID, got, want)
		}
	}
	t.Logf("%d conversations, %d turns (%d flagged): %d spans and %d log records exported", conversations, len(turns), flaggedSeen, len(spans), len(recs))
}
