package mapping

import (
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// TestServeWindow: with a zero MaxEventAge (serve's options) a timestamp 30
// days old is kept and one 100 days old or 2 hours ahead counts as absent;
// DefaultOptions (backfill, replay) keeps a timestamp 10 years old.
func TestServeWindow(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	received := now.Add(-time.Minute)
	serve := Options{LowConfidenceThreshold: 0.5, MaxTextLength: 64, Now: func() time.Time { return now }}
	history := DefaultOptions()
	history.Now = serve.Now
	for _, tc := range []struct {
		opts    Options
		at      time.Time
		clamped bool
	}{
		{serve, now.Add(-30 * 24 * time.Hour), false},
		{serve, now.Add(-89 * 24 * time.Hour), false},
		{serve, now.Add(-100 * 24 * time.Hour), true},
		{serve, now.Add(30 * time.Minute), false},
		{serve, now.Add(2 * time.Hour), true},
		{history, now.Add(-10 * 365 * 24 * time.Hour), false},
		{history, now.Add(-30 * 365 * 24 * time.Hour), true},
	} {
		m, err := New(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		ts := tc.at.Format(time.RFC3339Nano)
		ev := watson.Event{Log: &watson.Log{LogID: "l", RequestTimestamp: ts, ResponseTimestamp: ts}}
		tel := m.Map(ev, received)
		v, ok := attrOf(tel.Spans[0].Attributes, AttrClamped)
		if ok != tc.clamped {
			t.Errorf("age %v: clamped %v (%v), want %v", now.Sub(tc.at), ok, v.String(), tc.clamped)
		}
		wantStart := tc.at
		if tc.clamped {
			wantStart = received
		}
		if !tel.Spans[0].Start.Equal(wantStart) {
			t.Errorf("age %v: start %v, want %v", now.Sub(tc.at), tel.Spans[0].Start, wantStart)
		}
	}
}
