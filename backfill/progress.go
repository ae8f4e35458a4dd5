package backfill

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress reports a count towards an optional total: on a terminal as a
// redrawn bar with rate and ETA, elsewhere as a plain line every Interval
// (and one at the end), so logs of a CI job or a container stay readable.
type Progress struct {
	w        io.Writer
	bar      bool
	label    string
	width    int
	interval time.Duration
	now      func() time.Time
	// Detail, when set, is appended to every report (e.g. "3 skipped").
	Detail func() string

	mu       sync.Mutex
	start    time.Time
	base     int64 // count at start: excluded from the rate
	done     int64
	total    int64 // -1: unknown
	last     time.Time
	finished bool
}

// ProgressOption configures a Progress.
type ProgressOption func(*Progress)

// WithInterval sets how often plain lines are written (default 10 s).
func WithInterval(d time.Duration) ProgressOption { return func(p *Progress) { p.interval = d } }

// WithClock sets the clock (for tests).
func WithClock(now func() time.Time) ProgressOption { return func(p *Progress) { p.now = now } }

// NewProgress reports to w in mode (ProgressAuto, ProgressBar, ProgressPlain
// or ProgressNone; ProgressAuto draws a bar only when w is a terminal).
// label prefixes every report.
func NewProgress(w io.Writer, mode, label string, opts ...ProgressOption) *Progress {
	p := &Progress{w: w, label: label, width: 80, interval: 10 * time.Second, now: time.Now, total: -1}
	if w == nil || mode == ProgressNone {
		p.w = io.Discard
	}
	f, isFile := w.(*os.File)
	switch mode {
	case ProgressBar:
		p.bar = true
	case ProgressAuto:
		p.bar = isFile && term.IsTerminal(int(f.Fd()))
	}
	if p.bar && isFile {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
	}
	for _, o := range opts {
		o(p)
	}
	if p.bar && p.interval > 200*time.Millisecond {
		p.interval = 200 * time.Millisecond
	}
	p.start = p.now()
	p.last = p.start
	return p
}

// IsBar reports whether the progress is drawn as a bar.
func (p *Progress) IsBar() bool { return p.bar }

// Resume starts the count at done (from an earlier run); it does not count
// towards the rate.
func (p *Progress) Resume(done int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base, p.done = done, done
}

// SetTotal sets the expected count; negative means unknown.
func (p *Progress) SetTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

// Add counts n more and reports when due.
func (p *Progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if now := p.now(); now.Sub(p.last) >= p.interval {
		p.last = now
		p.report(now, false)
	}
}

// Finish writes the final report (once).
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.report(p.now(), true)
}

func (p *Progress) report(now time.Time, final bool) {
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done-p.base) / elapsed.Seconds()
	}
	var b strings.Builder
	if p.total >= 0 {
		total := max(p.total, p.done)
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(p.done) / float64(total)
		}
		fmt.Fprintf(&b, "%d/%d (%.0f%%) %s/s", p.done, total, pct, formatRate(rate))
		switch {
		case final:
			fmt.Fprintf(&b, " in %s", formatDuration(elapsed))
		case rate > 0:
			fmt.Fprintf(&b, " ETA %s", formatDuration(time.Duration(float64(total-p.done)/rate*float64(time.Second))))
		}
	} else {
		fmt.Fprintf(&b, "%d %s/s", p.done, formatRate(rate))
		if final {
			fmt.Fprintf(&b, " in %s", formatDuration(elapsed))
		}
	}
	if p.Detail != nil {
		if d := p.Detail(); d != "" {
			b.WriteString(", " + d)
		}
	}
	stats := b.String()
	if !p.bar {
		fmt.Fprintf(p.w, "%s: %s\n", p.label, stats)
		return
	}
	line := p.label + " "
	if p.total >= 0 {
		barWidth := p.width - len(line) - len(stats) - 4
		if barWidth >= 10 {
			total := max(p.total, p.done)
			filled := barWidth
			if total > 0 {
				filled = int(int64(barWidth) * p.done / total)
			}
			line += "[" + strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled) + "] "
		}
	}
	line += stats
	if r := []rune(line); len(r) > p.width-1 {
		line = string(r[:p.width-1])
	}
	end := ""
	if final {
		end = "\n"
	}
	// \r returns to the line start, \x1b[K clears what a longer line left.
	fmt.Fprintf(p.w, "\r%s\x1b[K%s", line, end)
}

func formatRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
