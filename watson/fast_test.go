package watson

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// equateNaNs: NaN is not equal to itself, but two decoders that both give
// NaN agree. It covers named float types too (cmpopts.EquateNaNs does not).
var equateNaNs = cmp.FilterValues(func(x, y any) bool {
	vx, vy := reflect.ValueOf(x), reflect.ValueOf(y)
	return vx.IsValid() && vy.IsValid() && vx.CanFloat() && vy.CanFloat() && math.IsNaN(vx.Float()) && math.IsNaN(vy.Float())
}, cmp.Comparer(func(_, _ any) bool { return true }))

// fastSeeds are the corpus, the edge cases and bodies that probe where
// encoding/json and the fast decoder could differ.
func fastSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, p := range []string{"../testdata/corpus/*.json", "../testdata/corpus/other-events/*.json", "../mapping/testdata/edge/*.json"} {
		m, _ := filepath.Glob(p)
		for _, f := range m {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) < 20 {
		tb.Fatalf("only %d seed files", len(out))
	}
	for _, s := range []string{
		"", "null", "[]", "{}", `{"event":null}`, `{"event":{"name":""},"payload":{}}`,
		`{"event":{"name":"message_logged"},"payload":[]}`,
		`{"event":{"name":"message_logged"},"payload":{}} trailing`,
		`{"event":{"name":"message_logged"},"payload":{}}{}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"}}` + "\n\t ",
		`{"event":{"name":"cdr_logged"},"payload":{"call":7}}`,
		`{"EVENT":{"NAME":"message_logged"},"Payload":{"LOG_ID":"x","Session_Id":"y"}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a","log_id":"b","request":{"input":{"text":"1"}},"request":{"user_id":"u"}}}`,
		`{"event":{"name":"message_logged"},"event":{"name":"cdr_logged"},"payload":{"call":{"outbound":true}}}`,
		`{"payload":{"log_id":"1"},"event":{"name":"message_logged"}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"\ud800\udc00\ud800x\u0000\u00e9\/"}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a` + "\xff\xfe" + `b"}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"intent":"a","confidence":"0.5"},{"intent":"b","confidence":1e999},{"confidence":null},null,7]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"context":{"global":{"system":{"turn_count":"3"}},"skills":{"main skill":{"x":[1,{"y":null}]},"actions skill":null}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"debug":{"turn_events":[{"event":"callout","callout":{"response":{"status_code":500.7}},"prompted":false,"has_question":null}]}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":7,"session_id":"s"}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"generic":[{"response_type":"text","text":"hi","options":[{"label":"a"},{"label":null}]}],"spelling":{}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":{}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"request_timestamp":null,"response":null,"request":{"input":null}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"debug":{"branch_exited":"true"}}}}}`,
		`{"event":{"name":7},"payload":{}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"},"extra":[1,2,{"z":"q"}]}`,
		`{"event":{"name":"message_logged","version":"2"},"payload":{"log_id":"a"}}`,
		` {"event" : {"name" : "message_logged"} , "payload" : { "log_id" : "a" } } `,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"entities":[{"entity":"e","value":"v","confidence":0.9,"location":[1,2]}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"intent":"a","confidence":-0}],"llm_metadata":[{"task":"t","model_id":"m"}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"intent":"a","confidence":0.1e1,"Intent":"b"}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"request":{"input":{"text":"a\nb\u00e9\ud83d\ude00\"\\\/\t\u0000` + "é日本" + `"}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"request":{"input":{"text":"\udc00\ud800\u0041\ud800\ud800\udc00"}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"intent":"a"}],"intents":[{"skill":"b"},{}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"},"payload":{"session_id":"b"}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"context":"x","output":{"spelling":null}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"context":{"skills":{"a\u0062":{},"c":[1]},"global":null}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"confidence":{"a":1}},{"confidence":[2]},{"confidence":true},{"confidence":" 0.5"}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"debug":{"turn_events":[{"has_question":"yes"}]}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"debug":{"turn_events":[{"prompted":true,"prompted":null,"callout":{"llm":{"success":false,"input_token_count":"7"}},"callout":{"type":"x"}}]}}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"generic":[{"transfer_info":{"target":{"zendesk":{"department":"R"}}}},{"transfer_info":{"target":"x"}}]}}}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"generic":[]},"user_id":null}},"x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`,
		`{"event":{"name":"cdr_logged"},"payload":{"max_response_milliseconds":{"assistant":"12","Assistant":1},"call":{"outbound":true}}}`,
		`{"event":{"name":"cdr_logged"},"payload":{"assistant_interaction_summaries":[{"turns":[{"request":{"streaming_statistics":{"confidence":null}}}]}]}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"},"event":{"name":"cdr_logged"},"payload":{"call":{}}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a` + "\t" + `b"}}`,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a\n` + "\t" + `b"}}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func checkFast(t *testing.T, body []byte) {
	want, wantErr := decodeStd(body)
	got, ok := decodeFast(body)
	if !ok {
		return // Decode falls back to decodeStd
	}
	if wantErr != nil {
		t.Fatalf("fast path accepts %q, encoding/json rejects it: %v", body, wantErr)
	}
	if !cmp.Equal(got, want, equateNaNs) {
		t.Fatalf("fast path differs on %q:\n%s", body, cmp.Diff(want, got, equateNaNs))
	}
}

// TestDecodeFastMatchesStd: on every seed, the fast path either gives up or
// yields exactly what encoding/json yields.
func TestDecodeFastMatchesStd(t *testing.T) {
	fastOK := 0
	for _, b := range fastSeeds(t) {
		checkFast(t, b)
		if _, ok := decodeFast(b); ok {
			fastOK++
		}
	}
	if fastOK < 12 {
		t.Fatalf("the fast path took only %d seeds: is it still used?", fastOK)
	}
}

// FuzzDecodeFast looks for a body on which the fast path and encoding/json
// disagree (scripts/fuzz.sh runs it).
func FuzzDecodeFast(f *testing.F) {
	for _, b := range fastSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(checkFast)
}

func checkValid(t *testing.T, b []byte) {
	if got, want := validJSON(b), json.Valid(b); got != want {
		t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
	}
}

func TestValidJSON(t *testing.T) {
	for _, b := range fastSeeds(t) {
		checkValid(t, b)
	}
	for _, s := range []string{`0`, `-0`, `-`, `01`, `1.`, `1.5e`, `1e+5`, `-1.5E-07`, `.5`, `"\u12"`, `"\u12G4"`, `"\x"`,
		"\"a\tb\"", `"\/\b\f\n\r\t\"\\"`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `[]]`, `tru`, `nulll`, ` true `,
		`[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `]`, strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 9999) + strings.Repeat("]", 9999), "\"\xff\"", "{\"a\":\"b\"}\x00"} {
		checkValid(t, []byte(s))
	}
}

// FuzzValidJSON compares validJSON with json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, b := range fastSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(checkValid)
}

// TestFastPathDeclinesCaseFoldedKeys: a key that matches a declared field
// only case-insensitively goes to encoding/json (which folds case; the fast
// decoder does not always), while upper-case keys of undeclared fields, such
// as browser_OS, keep the fast path.
func TestFastPathDeclinesCaseFoldedKeys(t *testing.T) {
	for body, wantFast := range map[string]bool{
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"debug":{"turn_events":[{"evena":"x","callOut":{}}]}}}}}`: false,
		`{"event":{"name":"message_logged"},"payload":{"Log_ID":"a"}}`:                                                                 false,
		`{"event":{"name":"message_logged"},"payload":{"log_\u0069d":"a"}}`:                                                            false,
		`{"event":{"name":"message_logged"},"payload":{"request":{"context":{"browser_OS":"Android"}}}}`:                               true,
		`{"event":{"name":"message_logged"},"payload":{"log_id":"a"}}`:                                                                 true,
	} {
		if _, ok := decodeFast([]byte(body)); ok != wantFast {
			t.Errorf("%s: fast path %v, want %v", body, ok, wantFast)
		}
		std, err := decodeStd([]byte(body))
		got, err2 := Decode([]byte(body))
		if (err == nil) != (err2 == nil) || (std.Log == nil) != (got.Log == nil) || (std.Log != nil && std.Log.LogID != got.Log.LogID) {
			t.Errorf("%s: Decode and encoding/json disagree", body)
		}
	}
}

// TestDecodeFastCoversEveryField: a body that sets every declared field
// (strings, numbers, booleans, arrays, objects, nested to the leaves) takes
// the fast path and decodes as encoding/json decodes it, so a field added to
// the wire types but not to the fast decoder fails here.
func TestDecodeFastCoversEveryField(t *testing.T) {
	for name, typ := range map[string]reflect.Type{EventMessageLogged: reflect.TypeFor[Log](), EventCDRLogged: reflect.TypeFor[CDR]()} {
		n := 0
		payload, err := json.Marshal(sampleOf(typ, &n))
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"event":{"name":"` + name + `"},"payload":` + string(payload) + `}`)
		if _, ok := decodeFast(body); !ok {
			t.Fatalf("fast path declines %s", body)
		}
		checkFast(t, body)
		if n < 20 {
			t.Fatalf("%s: only %d leaves set", name, n)
		}
	}
}

// sampleOf is a JSON value for t with every declared field set, each leaf
// to a value of its own (n counts them).
func sampleOf(t reflect.Type, n *int) any {
	*n++
	switch {
	case t == reflect.TypeFor[Ignored]() || t.Kind() == reflect.Interface:
		return map[string]any{"k": *n}
	case t == reflect.TypeFor[json.RawMessage]():
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return sampleOf(t.Elem(), n)
	case reflect.String:
		return "s" + strconv.Itoa(*n)
	case reflect.Bool:
		return true
	case reflect.Float64, reflect.Int64:
		return *n
	case reflect.Slice:
		return []any{sampleOf(t.Elem(), n), sampleOf(t.Elem(), n)}
	case reflect.Map:
		return map[string]any{"a": sampleOf(t.Elem(), n), "b": sampleOf(t.Elem(), n)}
	case reflect.Struct:
		obj := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
			case f.Anonymous && name == "":
				for k, v := range sampleOf(f.Type, n).(map[string]any) {
					obj[k] = v
				}
			default:
				obj[name] = sampleOf(f.Type, n)
			}
		}
		return obj
	}
	panic("sampleOf: no sample for " + t.String())
}
