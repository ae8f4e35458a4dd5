package watson

// CDR is the payload of cdr_logged: one phone call summary. Phone numbers, SIP
// headers and custom data are deliberately not declared: they are personal data.
type CDR struct {
	GlobalSessionID               string               `json:"global_session_id"`
	FailureOccurred               bool                 `json:"failure_occurred"`
	FailureDetails                string               `json:"failure_details"`
	TransferOccurred              bool                 `json:"transfer_occurred"`
	Call                          Call                 `json:"call"`
	MaxResponseMilliseconds       MaxResponse          `json:"max_response_milliseconds"`
	AssistantInteractionSummaries []InteractionSummary `json:"assistant_interaction_summaries"`
	WarningsAndErrors             []CDRWarning         `json:"warnings_and_errors"`
	SIP                           SIP                  `json:"session_initiation_protocol"`
	Network                       NetworkSummary       `json:"realtime_transport_network_summary"`
}

// SIP is the call's set-up (its headers, which hold phone numbers, are not
// declared).
type SIP struct {
	SetupMilliseconds Float `json:"setup_milliseconds"`
}

// NetworkSummary is the RTP quality of the call's audio streams.
type NetworkSummary struct {
	Inbound  RTPStream `json:"inbound_stream"`
	Outbound RTPStream `json:"outbound_stream"`
}

// RTPStream is one audio stream's quality; jitter in milliseconds.
type RTPStream struct {
	AverageJitter      Float `json:"average_jitter"`
	MaximumJitter      Float `json:"maximum_jitter"`
	PacketsLost        Float `json:"packets_lost"`
	PacketsTransmitted Float `json:"packets_transmitted"`
}

// Call is the call's timing and outcome.
type Call struct {
	StartTimestamp      string `json:"start_timestamp"`
	StopTimestamp       string `json:"stop_timestamp"`
	MillisecondsElapsed Float  `json:"milliseconds_elapsed"`
	Outbound            bool   `json:"outbound"`
	EndReason           string `json:"end_reason"`
}

// MaxResponse holds the slowest response times of the call, in milliseconds.
type MaxResponse struct {
	Assistant    Float `json:"assistant"`
	TextToSpeech Float `json:"text_to_speech"`
	SpeechToText Float `json:"speech_to_text"`
}

// InteractionSummary lists the assistant turns of one session within the call.
type InteractionSummary struct {
	SessionID   string    `json:"session_id"`
	AssistantID string    `json:"assistant_id"`
	Turns       []CDRTurn `json:"turns"`
}

// CDRTurn is one turn of a call; its log_id joins it to a message_logged event.
type CDRTurn struct {
	Assistant struct {
		LogID                string `json:"log_id"`
		StartTimestamp       string `json:"start_timestamp"`
		ResponseMilliseconds Float  `json:"response_milliseconds"`
	} `json:"assistant"`
	Request struct {
		Type                string               `json:"type"`
		StreamingStatistics *StreamingStatistics `json:"streaming_statistics"`
	} `json:"request"`
}

// StreamingStatistics are a speech turn's statistics; confidence is the
// speech-to-text confidence of what the caller said.
type StreamingStatistics struct {
	Confidence           *Float `json:"confidence"`
	ResponseMilliseconds Float  `json:"response_milliseconds"`
}

// CDRWarning is a warning or error of the call (documented with code or id).
type CDRWarning struct {
	Code    string `json:"code"`
	ID      string `json:"id"`
	Message string `json:"message"`
}
