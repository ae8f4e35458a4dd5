package watsonapi

import (
	"strings"
	"time"
)

// TimestampLayout formats filter timestamps like the documentation's example
// "response_timestamp<2019-11-01T04:00:00.000Z": UTC, milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// SortAscending sorts by request time, oldest first [listLogs: "You can sort
// by request_timestamp. To reverse the sort order, prefix the parameter value
// with a minus sign"].
const SortAscending = "request_timestamp"

// FormatTime formats t for a filter, truncated (not rounded) to the
// millisecond so that a lower bound never skips a log.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(TimestampLayout)
}

// BuildFilter combines a request_timestamp window with a raw filter:
// "request_timestamp>=FROM,request_timestamp<TO,RAW" ("," is Boolean and).
// A zero from or to leaves that side open. A raw filter that uses "|" (or) is
// grouped in [...] so that the window applies to all of it.
func BuildFilter(from, to time.Time, raw string) string {
	var parts []string
	if !from.IsZero() {
		parts = append(parts, "request_timestamp>="+FormatTime(from))
	}
	if !to.IsZero() {
		parts = append(parts, "request_timestamp<"+FormatTime(to))
	}
	if raw = strings.TrimSpace(raw); raw != "" {
		if len(parts) > 0 && strings.Contains(raw, "|") && !grouped(raw) {
			raw = "[" + raw + "]"
		}
		parts = append(parts, raw)
	}
	return strings.Join(parts, ",")
}

// grouped reports whether s is one [...] group.
func grouped(s string) bool {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return false
	}
	depth := 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 && i != len(s)-1 {
				return false
			}
		}
	}
	return depth == 0
}
