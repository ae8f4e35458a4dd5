package mapping

// InstrumentKind says how a measurement is recorded.
type InstrumentKind int

// Instrument kinds.
const (
	Counter   InstrumentKind = iota // monotonic sum, Value is the increment
	Histogram                       // distribution, Value is one observation
)

// Instrument names one of the metrics the mapping produces.
type Instrument int

// The metrics a turn or a call can produce. Their names, units and meanings
// are listed in the README.
const (
	Turns Instrument = iota
	ConversationsStarted
	IntentConfidence
	LowConfidenceTurns
	NotRecognizedTurns
	Handoffs
	TurnDuration
	instrumentCount
)

// InstrumentSpec describes how to create an instrument.
type InstrumentSpec struct {
	Name        string
	Unit        string
	Description string
	Kind        InstrumentKind
	// Buckets are explicit histogram boundaries (histograms only).
	Buckets []float64
}

var instrumentSpecs = [instrumentCount]InstrumentSpec{
	Turns: {
		Name: "watson_assistant.turns", Unit: "{turn}", Kind: Counter,
		Description: "Conversation turns received, by outcome.",
	},
	ConversationsStarted: {
		Name: "watson_assistant.conversations.started", Unit: "{conversation}", Kind: Counter,
		Description: "Conversations started (turns whose turn_count is 1).",
	},
	IntentConfidence: {
		Name: "watson_assistant.intent.confidence", Unit: "1", Kind: Histogram,
		Description: "Confidence of the top intent of turns that recognised one.",
		Buckets:     []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1},
	},
	LowConfidenceTurns: {
		Name: "watson_assistant.turns.low_confidence", Unit: "{turn}", Kind: Counter,
		Description: "Turns whose top intent confidence is below the low-confidence threshold.",
	},
	NotRecognizedTurns: {
		Name: "watson_assistant.turns.not_recognized", Unit: "{turn}", Kind: Counter,
		Description: "Turns the assistant did not understand (fallback, or text with no intent and no entity).",
	},
	Handoffs: {
		Name: "watson_assistant.handoffs", Unit: "{turn}", Kind: Counter,
		Description: "Turns that handed the conversation to a human agent.",
	},
	TurnDuration: {
		Name: "gen_ai.server.request.duration", Unit: "s", Kind: Histogram,
		Description: "Assistant processing time of a turn (response_timestamp - request_timestamp).",
		Buckets:     []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	},
}

// Spec returns the instrument's description.
func (i Instrument) Spec() InstrumentSpec { return instrumentSpecs[i] }

// Instruments lists every instrument the mapping can produce.
func Instruments() []Instrument {
	all := make([]Instrument, instrumentCount)
	for i := range all {
		all[i] = Instrument(i)
	}
	return all
}
