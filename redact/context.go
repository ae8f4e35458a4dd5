package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Context variables are exported only when an operator lists them: a
// ContextAllowList picks the listed paths out of a Watson context
// (request.context or response.context of a log), and nothing else.
//
// A path is a dot-separated list of object keys, e.g.
//
//	skills.actions skill.skill_variables.customer_tier
//	skills.main skill.user_defined.last_order_id
//	skills.*.skill_variables.*
//	integrations.channel.name
//
// "*" stands for any one key (or array index); a decimal segment indexes an
// array. Keys may contain spaces (Watson's skill keys do) but not dots.
//
// Some keys are never exported, whatever the list says, and are dropped from
// any object or array value that contains them: state (Watson's opaque
// session blobs), user_id, customer_id, client_ip_address, ip_address_list
// (see DeniedContextKeys). Listing a path that ends in one of them is an
// error.

// DeniedContextKeys are the context keys never exported.
func DeniedContextKeys() []string {
	return []string{"state", "user_id", "customer_id", "client_ip_address", "ip_address_list"}
}

func deniedKey(k string) bool {
	switch strings.ToLower(k) {
	case "state", "user_id", "customer_id", "client_ip_address", "ip_address_list":
		return true
	}
	return false
}

// Limits of a ContextAllowList.
const (
	MaxContextPaths  = 64  // paths in one list
	MaxContextValues = 128 // values one Extract returns
	maxPathSegments  = 16
	maxValueDepth    = 32
)

// ContextValue is one exported context variable.
type ContextValue struct {
	// Path is the concrete path, e.g. "skills.actions skill.skill_variables.customer_tier".
	Path string
	// Value is a string, bool, int64, float64, or nil for JSON null.
	// Objects and arrays are compact JSON text (a string), without denied
	// keys. Strings, including those inside JSON text, went through the
	// Redactor given to Extract.
	Value any
}

// ContextAllowList selects context variables by path. The zero value and
// nil select nothing.
type ContextAllowList struct {
	paths [][]string
}

// NewContextAllowList parses paths (e.g. from a repeatable or
// comma-separated --context-allow flag). Empty strings are ignored.
func NewContextAllowList(paths ...string) (*ContextAllowList, error) {
	a := &ContextAllowList{}
	var errs []error
	for _, p := range paths {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		segs := strings.Split(p, ".")
		switch {
		case len(segs) > maxPathSegments:
			errs = append(errs, fmt.Errorf("redact: context path %q has more than %d segments", p, maxPathSegments))
			continue
		case slices.Contains(segs, ""):
			errs = append(errs, fmt.Errorf("redact: context path %q has an empty segment", p))
			continue
		case deniedKey(segs[len(segs)-1]) || slices.ContainsFunc(segs, deniedKey):
			errs = append(errs, fmt.Errorf("redact: context path %q names a key that is never exported (%s)", p, strings.Join(DeniedContextKeys(), ", ")))
			continue
		}
		a.paths = append(a.paths, segs)
	}
	if len(a.paths) > MaxContextPaths {
		errs = append(errs, fmt.Errorf("redact: more than %d context paths", MaxContextPaths))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// Empty reports whether the list selects nothing.
func (a *ContextAllowList) Empty() bool { return a == nil || len(a.paths) == 0 }

// ExtractJSON decodes a raw JSON context and calls Extract. A body that is
// not a JSON object gives an error.
func (a *ContextAllowList) ExtractJSON(raw []byte, r *Redactor) ([]ContextValue, error) {
	if a.Empty() {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ctx map[string]any
	if err := dec.Decode(&ctx); err != nil {
		return nil, errors.New("redact: context is not a JSON object")
	}
	return a.Extract(ctx, r), nil
}

// Extract returns the allowed variables of ctx sorted by path, at most
// MaxContextValues, passing strings through r (nil: no redaction). A path
// matching nothing is skipped. ctx is not modified.
func (a *ContextAllowList) Extract(ctx map[string]any, r *Redactor) []ContextValue {
	if a.Empty() || ctx == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []ContextValue
	for _, p := range a.paths {
		walk(ctx, p, nil, func(path []string, v any) bool {
			key := strings.Join(path, ".")
			if !seen[key] {
				seen[key] = true
				out = append(out, ContextValue{Path: key, Value: exportValue(v, r)})
			}
			return len(out) < MaxContextValues
		})
		if len(out) >= MaxContextValues {
			break
		}
	}
	slices.SortFunc(out, func(x, y ContextValue) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// walk calls f for every value under v matching segs; f returns false to stop.
func walk(v any, segs, path []string, f func([]string, any) bool) bool {
	if len(segs) == 0 {
		return f(path, v)
	}
	seg := segs[0]
	switch t := v.(type) {
	case map[string]any:
		if seg != "*" {
			child, ok := t[seg]
			if !ok || deniedKey(seg) {
				return true
			}
			return walk(child, segs[1:], append(path, seg), f)
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			if !deniedKey(k) && !strings.Contains(k, ".") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !walk(t[k], segs[1:], append(path, k), f) {
				return false
			}
		}
	case []any:
		if seg != "*" {
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return true
			}
			return walk(t[i], segs[1:], append(path, seg), f)
		}
		for i, child := range t {
			if !walk(child, segs[1:], append(path, strconv.Itoa(i)), f) {
				return false
			}
		}
	}
	return true
}

// exportValue turns a decoded JSON value into a ContextValue.Value.
func exportValue(v any, r *Redactor) any {
	switch t := v.(type) {
	case nil, bool:
		return t
	case string:
		return r.Redact(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	case float64:
		return t
	case map[string]any, []any:
		b, err := json.Marshal(clean(t, r, 0))
		if err != nil {
			return nil
		}
		return string(b)
	}
	return nil
}

// clean copies an object or array without denied keys, redacting strings.
func clean(v any, r *Redactor, depth int) any {
	if depth > maxValueDepth {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			if !deniedKey(k) {
				m[k] = clean(c, r, depth+1)
			}
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, c := range t {
			s[i] = clean(c, r, depth+1)
		}
		return s
	case string:
		return r.Redact(t)
	}
	return v
}
