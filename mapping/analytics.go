package mapping

import (
	"strings"

	"github.com/assistant-otel/assistant-otel/watson"
)

// marginEpsilon absorbs float rounding, so that 0.5 - 0.4 is a margin of
// 0.1 and not ambiguous with the default margin of 0.1.
const marginEpsilon = 1e-9

// ambiguity reports the margin between the top two intents, and whether it is
// below the configured margin. Without a runner-up there is no margin.
func (m *Mapper) ambiguity(top, runnerUp *watson.Intent) (margin float64, ok, ambiguous bool) {
	if top == nil || runnerUp == nil {
		return 0, false, false
	}
	margin = float64(top.Confidence) - float64(runnerUp.Confidence)
	return margin, true, margin < m.opts.AmbiguityMargin-marginEpsilon
}

// finishReasons are the documented reasons of action_finished. Any other
// value is counted as "other" so the metric stays bounded.
var finishReasons = map[string]bool{
	"all_steps_done":      true,
	"no_steps_visited":    true,
	"ended_by_step":       true,
	"connect_to_agent":    true,
	"max_retries_reached": true,
	"fallback":            true,
}

// Finish reasons outside the documented set.
const (
	reasonOther   = "other"
	reasonUnknown = "unknown"
)

// finishedAction is a user-defined action that finished in the turn.
type finishedAction struct {
	reason, action, title string
}

// finishedActions lists every user-defined action that finished in the
// turn, with its bounded reason. The welcome and "anything else" system
// actions are not user actions and do not count towards completion.
func finishedActions(d *watson.Debug, titles map[string]string) []finishedAction {
	var out []finishedAction
	for _, e := range d.TurnEvents {
		if e.Event != "action_finished" {
			continue
		}
		if e.ConditionType == "welcome" || e.ConditionType == "anything_else" ||
			e.Source.Action == "welcome" || e.Source.Action == "anything_else" {
			continue
		}
		out = append(out, finishedAction{reason: boundedReason(e.Reason), action: e.Source.Action,
			title: firstNonEmpty(e.Source.ActionTitle, titles[e.Source.Action])})
	}
	return out
}

// actionTitles maps the action ids of the turn's events to their titles.
func actionTitles(d *watson.Debug) map[string]string {
	var titles map[string]string
	for _, e := range d.TurnEvents {
		if e.Source.Action != "" && e.Source.ActionTitle != "" {
			if titles == nil {
				titles = map[string]string{}
			}
			if _, ok := titles[e.Source.Action]; !ok {
				titles[e.Source.Action] = e.Source.ActionTitle
			}
		}
	}
	return titles
}

// turnAction is the action the turn ran: the first action it visited, else
// the action of its first event (a step answered in an action an earlier
// turn started). "" for dialog turns.
func turnAction(d *watson.Debug) string {
	first := ""
	for _, e := range d.TurnEvents {
		if e.Source.Action == "" {
			continue
		}
		if e.Event == "action_visited" {
			return e.Source.Action
		}
		if first == "" {
			first = e.Source.Action
		}
	}
	return first
}

// intentAction is the action an actions-skill intent belongs to:
// action_<n>_intent_<m> belongs to action_<n> (Watson's naming, observed,
// not documented). "" for any other name.
func intentAction(intent string) string {
	rest, ok := strings.CutPrefix(intent, "action_")
	if !ok {
		return ""
	}
	i := strings.Index(rest, "_intent_")
	if i <= 0 {
		return ""
	}
	return "action_" + rest[:i]
}

func boundedReason(r string) string {
	switch {
	case r == "":
		return reasonUnknown
	case finishReasons[r]:
		return r
	default:
		return reasonOther
	}
}

// extensionCalls counts the turn's extension callouts that succeeded and
// failed (HTTP status >= 400, or an error reported with the callout).
func extensionCalls(d *watson.Debug) (ok, failed int) {
	for _, e := range d.TurnEvents {
		if !e.IsExtensionCall() {
			continue
		}
		if e.Error != nil || (e.Callout.Response != nil && e.Callout.Response.StatusCode >= 400) {
			failed++
		} else {
			ok++
		}
	}
	return ok, failed
}

// searchOutcome tells whether the turn searched and how it went; "" when it
// did not search. A turn searched when it answered with a search or
// conversational_search response, or reported a search, a conversational
// search or an "I don't know" generative answer among its turn events.
// Precedence: error, idk, no_results, answered.
func searchOutcome(out *watson.Output) string {
	var searched, responded, results, idk, failed bool
	for _, g := range out.Generic {
		switch g.ResponseType {
		case "search":
			searched, responded = true, true
			if len(g.PrimaryResults)+len(g.AdditionalResults) > 0 {
				results = true
			}
		case "conversational_search":
			searched, responded = true, true
			if len(g.SearchResults)+len(g.Citations) > 0 {
				results = true
			}
		}
	}
	genAIFailed := false
	for _, e := range out.Debug.TurnEvents {
		switch e.Event {
		case "search":
			searched = true
			if e.Error != nil {
				failed = true
			}
		case "conversational_search_end":
			searched = true
		case "generative_ai_called":
			if e.GenerativeAI != nil && e.GenerativeAI.IsIDKResponse {
				searched, idk = true, true
			}
			if e.Error != nil {
				genAIFailed = true
			}
		}
	}
	switch {
	case !searched:
		return ""
	case failed || genAIFailed:
		return SearchError
	case idk:
		return SearchIDK
	case !responded || !results:
		return SearchNoResults
	default:
		return SearchAnswered
	}
}
