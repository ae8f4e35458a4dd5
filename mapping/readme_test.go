package mapping

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryAttribute: every attribute key, span event, log
// event name and metric name that appears in a golden snapshot must appear
// in the README's reference tables (in backquotes).
func TestREADMEDocumentsEveryAttribute(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	goldens, _ := filepath.Glob("testdata/golden/*.txt")
	if len(goldens) == 0 {
		t.Fatal("no golden files")
	}
	attrRE := regexp.MustCompile(`^\s+([a-z_.]+) = `)
	metricRE := regexp.MustCompile(`^metric (\S+) `)
	nameRE := regexp.MustCompile(`^(?:log|\s+event) "([^"]+)"`)
	inlineRE := regexp.MustCompile(`([a-z_.]+)=`)
	names := map[string]bool{}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, re := range []*regexp.Regexp{attrRE, metricRE, nameRE} {
				if m := re.FindStringSubmatch(line); m != nil {
					names[m[1]] = true
				}
			}
			if strings.HasPrefix(line, "metric ") {
				if i := strings.LastIndex(line, "{"); i >= 0 {
					for _, m := range inlineRE.FindAllStringSubmatch(line[i:], -1) {
						names[m[1]] = true
					}
				}
			}
		}
	}
	if len(names) < 40 {
		t.Fatalf("only %d names found in the golden files", len(names))
	}
	doc := string(readme)
	for name := range names {
		if strings.HasPrefix(name, "watson_assistant.") && strings.Count(name, ".") == 1 && isTurnEvent(name) {
			continue // watson_assistant.<turn event> span events are documented as a family
		}
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("README does not document %s", name)
		}
	}
}

// isTurnEvent reports span event names of the watson_assistant.<event> family.
func isTurnEvent(name string) bool {
	switch strings.TrimPrefix(name, "watson_assistant.") {
	case "action_visited", "action_finished", "step_visited", "step_answered", "handler_visited",
		"manual_route", "conversational_search_end", "brand_new_event_kind", "search",
		"topic_switch_denied", "action_routing_denied", "suggestion_intents_denied", "client_actions":
		return true
	}
	return false
}
