package backfill

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func lines(s string) []string            { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
func progressFor(buf *bytes.Buffer, mode string, c *clock) *Progress {
	return NewProgress(buf, mode, "backfill", WithInterval(10*time.Second), WithClock(c.now))
}

func TestPlainProgressLines(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	p := progressFor(&buf, ProgressAuto, c) // a bytes.Buffer is not a terminal
	if p.IsBar() {
		t.Fatal("a bar on a non-terminal")
	}
	p.SetTotal(1000)
	for range 30 {
		c.advance(time.Second)
		p.Add(10) // 10 per second
	}
	p.Finish()
	p.Finish() // once only
	got := lines(buf.String())
	want := []string{
		"backfill: 100/1000 (10%) 10.0/s ETA 1m30s",
		"backfill: 200/1000 (20%) 10.0/s ETA 1m20s",
		"backfill: 300/1000 (30%) 10.0/s ETA 1m10s",
		"backfill: 300/1000 (30%) 10.0/s in 30s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.ContainsAny(buf.String(), "\r\x1b") {
		t.Error("plain output contains terminal control characters")
	}
}

func TestPlainProgressWithoutTotalAndResumed(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	p := progressFor(&buf, ProgressPlain, c)
	p.Resume(500) // from an earlier run: not in the rate
	p.Detail = func() string { return "3 already exported" }
	c.advance(4 * time.Second)
	p.Add(1000)
	p.Finish()
	if got := buf.String(); got != "backfill: 1500 250/s in 4s, 3 already exported\n" {
		t.Errorf("got %q", got)
	}
}

func TestBarProgress(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	p := progressFor(&buf, ProgressBar, c)
	p.SetTotal(200)
	c.advance(time.Second)
	p.Add(50)
	p.Finish()
	out := buf.String()
	if !strings.HasPrefix(out, "\rbackfill [") || !strings.Contains(out, "50/200 (25%) 50.0/s ETA 3s") ||
		!strings.Contains(out, "\x1b[K") || !strings.HasSuffix(out, "in 1s\x1b[K\n") {
		t.Errorf("bar output %q", out)
	}
	first := strings.Split(out, "\r")[1]
	if bar := first[strings.Index(first, "[")+1 : strings.Index(first, "]")]; strings.Count(bar, "=")*4 != len(bar)-len(bar)%4 {
		t.Errorf("bar %q is not a quarter full", bar)
	}
}

func TestNoProgress(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, ProgressNone, "x")
	p.Add(5)
	p.Finish()
	if buf.Len() != 0 {
		t.Errorf("got %q", buf.String())
	}
}
