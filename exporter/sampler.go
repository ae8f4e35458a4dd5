package exporter

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// Environment variables that choose the sampler (OpenTelemetry SDK
// configuration).
const (
	envSampler    = "OTEL_TRACES_SAMPLER"
	envSamplerArg = "OTEL_TRACES_SAMPLER_ARG"
)

// samplerFromEnv builds the sampler named by OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG, and a short name for it. The ratio samplers are
// replaced by [ConversationRatioSampler], which stays unbiased for trace ids
// that are session UUIDs, wrapped in [KeepFlaggedTurns] so that the turns an
// alert points at are exported whatever their conversation's draw. The
// always_on/always_off samplers are left as they are: off means off.
func samplerFromEnv() (sdktrace.Sampler, string, error) {
	name := strings.ToLower(strings.TrimSpace(os.Getenv(envSampler)))
	arg := strings.TrimSpace(os.Getenv(envSamplerArg))
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil // the specification's default ratio
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
			return 0, fmt.Errorf("%s=%q: want a number between 0 and 1 for sampler %q", envSamplerArg, arg, name)
		}
		return r, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), "parentbased_always_on", nil
	case "always_on":
		return sdktrace.AlwaysSample(), "always_on", nil
	case "always_off":
		return sdktrace.NeverSample(), "always_off", nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), "parentbased_always_off", nil
	case "traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, "", err
		}
		return KeepFlaggedTurns(ConversationRatioSampler(r)), "conversation_ratio(" + formatRatio(r) + ")+flagged_turns", nil
	case "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, "", err
		}
		return KeepFlaggedTurns(sdktrace.ParentBased(ConversationRatioSampler(r))), "parentbased_conversation_ratio(" + formatRatio(r) + ")+flagged_turns", nil
	default:
		return nil, "", fmt.Errorf("%s=%q: unsupported sampler (want always_on, always_off, traceidratio, "+
			"parentbased_always_on, parentbased_always_off or parentbased_traceidratio)", envSampler, name)
	}
}

func formatRatio(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

// ConversationRatioSampler samples a fraction ratio of traces, deciding on a
// hash of all 16 bytes of the trace id.
//
// The SDK's TraceIDRatioBased reads bytes 8–15 of the trace id as a number,
// which assumes they are uniformly random. A conversation's trace id is its
// session UUID verbatim, and in a UUIDv4 the top bits of byte 8 are the fixed
// variant bits 10xxxxxx, so that sampler keeps nothing at ratios up to 0.5.
// Hashing the whole id makes the decision uniform whatever bits are fixed,
// while staying a deterministic function of the trace id: every turn of a
// conversation, on any replica, gets the same decision, so whole
// conversations are kept or dropped.
func ConversationRatioSampler(ratio float64) sdktrace.Sampler {
	s := ratioSampler{ratio: ratio}
	switch {
	case ratio >= 1:
		s.always = true
	case ratio > 0: // below or NaN: never
		s.threshold = ratioThreshold(ratio)
	}
	return s
}

// ratioThreshold is ratio·2^64, clamped to the uint64 range.
func ratioThreshold(ratio float64) uint64 {
	t := math.Ldexp(ratio, 64)
	if t >= math.Ldexp(1, 64) {
		return math.MaxUint64
	}
	return uint64(t)
}

type ratioSampler struct {
	ratio     float64
	threshold uint64
	always    bool
}

func (s ratioSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	decision := sdktrace.Drop
	if s.always || traceIDHash(p.TraceID) < s.threshold {
		decision = sdktrace.RecordAndSample
	}
	return sdktrace.SamplingResult{
		Decision:   decision,
		Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState(),
	}
}

func (s ratioSampler) Description() string {
	return "ConversationRatioSampler{" + formatRatio(s.ratio) + "}"
}

// traceIDHash mixes all 128 bits of a trace id into a uniformly distributed
// 64-bit value, using the MurmurHash3 64-bit finaliser (a bijection with full
// avalanche) on each half and again on their combination.
func traceIDHash(id trace.TraceID) uint64 {
	hi := binary.BigEndian.Uint64(id[:8])
	lo := binary.BigEndian.Uint64(id[8:])
	return fmix64(fmix64(hi) ^ fmix64(lo^0x9e3779b97f4a7c15) + 0x632be59bd9b4e019)
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// KeepFlaggedTurns wraps base so that a turn that matters is sampled
// whatever base decides for its conversation: a root span (a turn) whose
// attributes say low confidence, not recognised, ambiguous, clarification,
// error or hand-off (see [FlaggedTurn]) is always recorded and sampled.
// Every other root span is decided by base (for the ratio samplers: the
// conversation's trace-id draw, so unflagged turns are kept or dropped per
// conversation). A span with a sampled parent in the same trace is sampled,
// so a flagged turn's child spans follow it even where base would drop its
// conversation; a span with an unsampled parent is decided by base.
func KeepFlaggedTurns(base sdktrace.Sampler) sdktrace.Sampler {
	return flaggedSampler{base: base}
}

type flaggedSampler struct{ base sdktrace.Sampler }

func (s flaggedSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	keep := false
	if psc.IsValid() {
		keep = psc.IsSampled() && psc.TraceID() == p.TraceID
	} else {
		keep = FlaggedTurn(p.Attributes)
	}
	if keep {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: psc.TraceState()}
	}
	return s.base.ShouldSample(p)
}

func (s flaggedSampler) Description() string {
	return "KeepFlaggedTurns{" + s.base.Description() + "}"
}

// FlaggedTurn reports whether a turn span's attributes mark it as one an
// alert or a dashboard points at: watson_assistant.low_confidence,
// .not_recognized, .ambiguous or .handoff true; watson_assistant.outcome
// error, handoff, clarification, not_recognized or low_confidence; or
// watson_assistant.recognition not_recognized or clarification.
func FlaggedTurn(attrs []attribute.KeyValue) bool {
	for _, kv := range attrs {
		switch kv.Key {
		case mapping.AttrLowConfidence, mapping.AttrNotRecognized, mapping.AttrAmbiguous, mapping.AttrHandoff:
			if kv.Value.Type() == attribute.BOOL && kv.Value.AsBool() {
				return true
			}
		case mapping.AttrOutcome:
			switch kv.Value.AsString() {
			case mapping.OutcomeError, mapping.OutcomeHandoff, mapping.OutcomeClarification,
				mapping.OutcomeNotRecognized, mapping.OutcomeLowConfidence:
				return true
			}
		case mapping.AttrRecognition:
			switch kv.Value.AsString() {
			case mapping.RecognitionNotRecognized, mapping.RecognitionClarification:
				return true
			}
		}
	}
	return false
}
