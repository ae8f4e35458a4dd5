package redact_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/redact"
)

const testContext = `{
  "global": {"system": {"user_id": "u-1", "turn_count": 2, "state": "BLOB", "timezone": "Europe/London"}, "session_id": "s-1"},
  "skills": {
    "actions skill": {
      "system": {"state": "BLOB2"},
      "action_variables": {"store_choice": "Manchester Arndale"},
      "skill_variables": {"customer_tier": "gold", "contact": "jane@example.com", "score": 0.75, "visits": 3, "vip": true, "none": null,
        "profile": {"email": "jane@example.com", "user_id": "u-1", "tags": ["a", "call 020 7946 0958"]}}
    },
    "main skill": {"user_defined": {"last_order_id": "A-1042"}}
  },
  "integrations": {"chat": {"browser_info": {"client_ip_address": "198.51.100.23", "ip_address_list": ["198.51.100.23"], "browser_name": "safari"}},
    "channel": {"name": "Web chat"}},
  "list": [{"x": 1}, {"x": 2}]
}`

func TestContextAllowList(t *testing.T) {
	r := mustNew(t)
	a, err := redact.NewContextAllowList(
		"skills.actions skill.skill_variables.customer_tier",
		"skills.*.skill_variables.contact",
		"skills.actions skill.skill_variables.score",
		"skills.actions skill.skill_variables.visits",
		"skills.actions skill.skill_variables.vip",
		"skills.actions skill.skill_variables.none",
		"skills.actions skill.skill_variables.profile",
		"skills.main skill.user_defined.*",
		"integrations.chat.browser_info.*",
		"integrations.channel.name",
		"list.1.x",
		"list.*.x",
		"global.system.*",
		"not.there",
		"",
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.ExtractJSON([]byte(testContext), r)
	if err != nil {
		t.Fatal(err)
	}
	want := []redact.ContextValue{
		{"global.system.timezone", "Europe/London"},
		{"global.system.turn_count", int64(2)},
		{"integrations.channel.name", "Web chat"},
		{"integrations.chat.browser_info.browser_name", "safari"},
		{"list.0.x", int64(1)},
		{"list.1.x", int64(2)},
		{"skills.actions skill.skill_variables.contact", "[REDACTED:email]"},
		{"skills.actions skill.skill_variables.customer_tier", "gold"},
		{"skills.actions skill.skill_variables.none", nil},
		{"skills.actions skill.skill_variables.profile", `{"email":"[REDACTED:email]","tags":["a","call [REDACTED:phone]"]}`},
		{"skills.actions skill.skill_variables.score", 0.75},
		{"skills.actions skill.skill_variables.vip", true},
		{"skills.actions skill.skill_variables.visits", int64(3)},
		{"skills.main skill.user_defined.last_order_id", "A-1042"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Extract:\n got %#v\nwant %#v", got, want)
	}
	for _, v := range got {
		s, _ := v.Value.(string)
		for _, leak := range []string{"BLOB", "u-1", "198.51.100.23", "jane@"} {
			if strings.Contains(s, leak) || strings.Contains(v.Path, leak) {
				t.Errorf("%s = %v leaks %q", v.Path, v.Value, leak)
			}
		}
	}
	// Without a redactor strings pass as they are.
	plain, _ := a.ExtractJSON([]byte(testContext), nil)
	if plain[6].Value != "jane@example.com" {
		t.Errorf("nil redactor: %v", plain[6])
	}
}

func TestContextAllowListRefusesAndDefaults(t *testing.T) {
	for _, p := range []string{"global.system.state", "skills.*.system.state", "global.system.user_id", "integrations.chat.browser_info.client_ip_address", "a..b", "state.x"} {
		if _, err := redact.NewContextAllowList(p); err == nil {
			t.Errorf("NewContextAllowList(%q): no error", p)
		}
	}
	empty, err := redact.NewContextAllowList()
	if err != nil || !empty.Empty() {
		t.Fatalf("empty list: %v %v", empty, err)
	}
	if got, _ := empty.ExtractJSON([]byte(testContext), nil); got != nil {
		t.Errorf("empty list exported %v", got)
	}
	var nilList *redact.ContextAllowList
	if got := nilList.Extract(map[string]any{"a": 1}, nil); got != nil {
		t.Errorf("nil list exported %v", got)
	}
	a, _ := redact.NewContextAllowList("a")
	if _, err := a.ExtractJSON([]byte(`[1]`), nil); err == nil {
		t.Error("array context: no error")
	}
	// The real corpus: nothing but what was asked for.
	raw, err := os.ReadFile("../testdata/corpus/02-actions-skill-turn.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Payload struct {
			Response struct {
				Context json.RawMessage `json:"context"`
			} `json:"response"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	sv, _ := redact.NewContextAllowList("skills.*.skill_variables.*", "skills.*.*.state", "global.*.*")
	if sv != nil {
		t.Fatal("a path through state was accepted")
	}
	sv, _ = redact.NewContextAllowList("skills.*.skill_variables.*", "skills.*.system.*", "integrations.chat.browser_info.*")
	got, err := sv.ExtractJSON(body.Payload.Response.Context, mustNew(t))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, v := range got {
		paths = append(paths, v.Path)
	}
	if want := "integrations.chat.browser_info.browser_OS integrations.chat.browser_info.browser_name integrations.chat.browser_info.browser_version integrations.chat.browser_info.language integrations.chat.browser_info.page_url integrations.chat.browser_info.screen_resolution integrations.chat.browser_info.user_agent skills.actions skill.skill_variables.customer_tier skills.actions skill.skill_variables.preferred_store"; strings.Join(paths, " ") != want {
		t.Errorf("paths:\n got %s\nwant %s", strings.Join(paths, " "), want)
	}
}

func TestContextAllowListBounded(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"v":{`)
	for i := range 500 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `_` + itoa(i) + `":1`)
	}
	sb.WriteString(`}}`)
	a, _ := redact.NewContextAllowList("v.*")
	got, err := a.ExtractJSON([]byte(sb.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != redact.MaxContextValues {
		t.Errorf("got %d values, want the cap %d", len(got), redact.MaxContextValues)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
