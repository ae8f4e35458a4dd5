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

// The metrics a turn or a call can produce. Their names, units, attributes
// and PromQL meanings are listed in docs/analytics.md.
const (
	Turns Instrument = iota
	ConversationsStarted
	IntentConfidence
	LowConfidenceTurns
	NotRecognizedTurns
	Handoffs
	TurnDuration
	WeakUnderstandingTurns
	FallbackTurns
	AmbiguousTurns
	ActionsFinished
	Searches
	ExtensionCalls
	Calls
	CallDuration
	CallTransfers
	CallFailures
	CallMaxResponseTime
	Requests
	Clarifications
	ClarificationPicks
	CallSTTConfidence
	CallSIPSetupTime
	CallPacketLoss
	CallJitter
	HAPDetected
	ClampedValues
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
		Description: "Requests the assistant did not recognise (No matches / Anything else, not forced by an error; dialog weak understanding).",
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
	WeakUnderstandingTurns: {
		Name: "watson_assistant.turns.weak_understanding", Unit: "{turn}", Kind: Counter,
		Description: "Dialog messages with no intent and no entity that no node but the fallback handled (weak understanding).",
	},
	FallbackTurns: {
		Name: "watson_assistant.turns.fallback", Unit: "{turn}", Kind: Counter,
		Description: "Turns handled by the fallback (\"Anything else\" node, \"No action matches\"); coverage = 1 - fallback / turns.",
	},
	AmbiguousTurns: {
		Name: "watson_assistant.turns.ambiguous", Unit: "{turn}", Kind: Counter,
		Description: "Turns whose top two intents are closer in confidence than the ambiguity margin.",
	},
	ActionsFinished: {
		Name: "watson_assistant.actions.finished", Unit: "{action}", Kind: Counter,
		Description: "User-defined actions that finished, by reason; completion = all_steps_done / all.",
	},
	Searches: {
		Name: "watson_assistant.searches", Unit: "{turn}", Kind: Counter,
		Description: "Turns that searched (search skill, conversational search), by outcome: answered, no_results, idk, error.",
	},
	ExtensionCalls: {
		Name: "watson_assistant.extension.calls", Unit: "{call}", Kind: Counter,
		Description: "Extension (custom integration) calls, by outcome: success or failure (HTTP status >= 400 or error).",
	},
	Calls: {
		Name: "watson_assistant.calls", Unit: "{call}", Kind: Counter,
		Description: "Phone calls ended, by end reason.",
	},
	CallDuration: {
		Name: "watson_assistant.call.duration", Unit: "s", Kind: Histogram,
		Description: "Duration of phone calls, by end reason.",
		Buckets:     []float64{5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600},
	},
	CallTransfers: {
		Name: "watson_assistant.calls.transfers", Unit: "{call}", Kind: Counter,
		Description: "Phone calls transferred (to a human agent or another number).",
	},
	CallFailures: {
		Name: "watson_assistant.calls.failures", Unit: "{call}", Kind: Counter,
		Description: "Phone calls that failed (failure_occurred, or end reason failed).",
	},
	CallMaxResponseTime: {
		Name: "watson_assistant.call.max_response_time", Unit: "s", Kind: Histogram,
		Description: "Longest response time of a phone call, by component: assistant, text_to_speech, speech_to_text.",
		Buckets:     []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10},
	},
	Requests: {
		Name: "watson_assistant.requests", Unit: "{request}", Kind: Counter,
		Description: "Requests (user messages that start a flow, not answers to a step), by recognition: recognized or not_recognized.",
	},
	CallSTTConfidence: {
		Name: "watson_assistant.call.stt.confidence", Unit: "1", Kind: Histogram,
		Description: "Speech-to-text confidence of what callers said, one observation per spoken turn.",
		Buckets:     []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1},
	},
	CallSIPSetupTime: {
		Name: "watson_assistant.call.sip.setup_time", Unit: "s", Kind: Histogram,
		Description: "SIP set-up time of phone calls (session_initiation_protocol.setup_milliseconds).",
		Buckets:     []float64{0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10},
	},
	CallPacketLoss: {
		Name: "watson_assistant.call.rtp.packet_loss", Unit: "1", Kind: Histogram,
		Description: "Share of RTP audio packets lost per call, by direction: lost / (transmitted + lost).",
		Buckets:     []float64{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2},
	},
	CallJitter: {
		Name: "watson_assistant.call.rtp.jitter", Unit: "s", Kind: Histogram,
		Description: "Maximum RTP jitter per call, by direction.",
		Buckets:     []float64{0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5},
	},
	HAPDetected: {
		Name: "watson_assistant.generative_ai.hap_detected", Unit: "{answer}", Kind: Counter,
		Description: "Generative answers in which Watson detected hate, abuse or profanity (is_hap_detected).",
	},
	ClampedValues: {
		Name: "assistant_otel.mapping.clamped", Unit: "{event}", Kind: Counter,
		Description: "Events with a number or timestamp out of range that the mapping clamped or ignored, by reason (one per reason and event).",
	},
	Clarifications: {
		Name: "watson_assistant.clarifications", Unit: "{turn}", Kind: Counter,
		Description: "Turns where the assistant asked a clarifying question (\"Did you mean\", disambiguation).",
	},
	ClarificationPicks: {
		Name: "watson_assistant.clarification.picks", Unit: "{turn}", Kind: Counter,
		Description: "Answers to a clarifying question, by choice: suggestion or none_of_the_above.",
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
