package watson

import (
	"bytes"
	"encoding/json"
)

// Event names the log webhook sends.
const (
	EventMessageLogged = "message_logged"
	EventCDRLogged     = "cdr_logged"
)

// Event is one decoded webhook call. Exactly one of Log and CDR is set.
type Event struct {
	Name string
	Log  *Log
	CDR  *CDR
	// Raw is the body Decode parsed, not copied: it stays valid only while
	// the caller keeps that buffer unchanged (the receiver: until its
	// Consumer returns). The durable spool stores it.
	Raw []byte
}

// Log is one conversation turn: the payload of message_logged, the same object
// as one item of GET /v2/assistants/{id}/logs.
type Log struct {
	LogID             string   `json:"log_id"`
	Request           Request  `json:"request"`
	Response          Response `json:"response"`
	AssistantID       string   `json:"assistant_id"`
	SessionID         string   `json:"session_id"`
	SkillID           string   `json:"skill_id"`
	Snapshot          string   `json:"snapshot"`
	RequestTimestamp  string   `json:"request_timestamp"`
	ResponseTimestamp string   `json:"response_timestamp"`
	Language          string   `json:"language"`
	CustomerID        string   `json:"customer_id"`
}

// Request is the /message request as logged (input already masked by Watson).
type Request struct {
	Input   Input   `json:"input"`
	Context Context `json:"context"`
	UserID  string  `json:"user_id"`
}

// Input is the user's message.
type Input struct {
	MessageType  string `json:"message_type"`
	Text         string `json:"text"`
	SuggestionID string `json:"suggestion_id"`
	// Intents are supplied by the client; a disambiguation pick carries the
	// chosen suggestion's intents (none for "None of the above").
	Intents []Intent `json:"intents"`
}

// Response is the /message response as logged.
type Response struct {
	Output  Output          `json:"output"`
	Context ResponseContext `json:"context"`
	UserID  string          `json:"user_id"`
}

// ResponseContext is the response's context: its declared fields, and a
// copy of its JSON (Raw), kept from the one decode of the body for the
// allow-list of context variables an operator exports.
type ResponseContext struct {
	Context
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the declared fields (leniently, as Decode does) and
// keeps a copy of b.
func (c *ResponseContext) UnmarshalJSON(b []byte) error {
	if err := lenient(json.Unmarshal(b, &c.Context)); err != nil {
		return err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		c.Raw = append(json.RawMessage(nil), t...)
	}
	return nil
}

// Output is what the assistant recognised and answered.
type Output struct {
	Generic     []Generic      `json:"generic"`
	Intents     []Intent       `json:"intents"`
	Entities    []Entity       `json:"entities"`
	Actions     []ClientAction `json:"actions"`
	Debug       Debug          `json:"debug"`
	Spelling    *Spelling      `json:"spelling"`
	LLMMetadata []LLMMetadata  `json:"llm_metadata"`
}

// Generic is one response sent to the channel. response_type is an open enum;
// only the text-bearing fields are declared.
type Generic struct {
	ResponseType        string         `json:"response_type"`
	Text                string         `json:"text"`
	Title               string         `json:"title"`
	Description         string         `json:"description"`
	AltText             string         `json:"alt_text"`
	Header              string         `json:"header"`
	MessageToHumanAgent string         `json:"message_to_human_agent"`
	MessageToUser       string         `json:"message_to_user"`
	AgentAvailable      *AgentMessage  `json:"agent_available"`
	AgentUnavailable    *AgentMessage  `json:"agent_unavailable"`
	TransferInfo        *TransferInfo  `json:"transfer_info"`
	Topic               string         `json:"topic"`
	Options             []Choice       `json:"options"`
	Suggestions         []Choice       `json:"suggestions"`
	PrimaryResults      []SearchResult `json:"primary_results"`
	AdditionalResults   []SearchResult `json:"additional_results"`
	SearchResults       []SearchResult `json:"search_results"`
	CitationsTitle      string         `json:"citations_title"`
	Citations           []Citation     `json:"citations"`
	Disclaimer          string         `json:"disclaimer"`
}

// AgentMessage is what a connect_to_agent response tells the user when an
// agent is (or is not) available.
type AgentMessage struct {
	Message string `json:"message"`
}

// TransferInfo says where a hand-off goes: target is keyed by service desk
// (e.g. {"zendesk":{"department":"Refunds"}}).
type TransferInfo struct {
	Target map[string]any `json:"target"`
}

// SearchResult is one search result (its body may be long).
type SearchResult struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// Citation is one source a conversational-search answer cites.
type Citation struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Choice is an option or a disambiguation suggestion.
type Choice struct {
	Label string `json:"label"`
	Value struct {
		Input ChoiceInput `json:"input"`
	} `json:"value"`
}

// ChoiceInput is the input a choice sends when picked: for a suggestion, its
// suggestion_id and the intents of the candidate (none for "None of the
// above").
type ChoiceInput struct {
	Text         string   `json:"text"`
	SuggestionID string   `json:"suggestion_id"`
	Intents      []Intent `json:"intents"`
}

// Ignored decodes any JSON value without keeping it; slices of it count items.
type Ignored struct{}

// UnmarshalJSON accepts any value.
func (*Ignored) UnmarshalJSON([]byte) error { return nil }

// Intent is a recognised intent.
type Intent struct {
	Intent     string `json:"intent"`
	Confidence Float  `json:"confidence"`
	Skill      string `json:"skill"`
}

// Entity is a recognised entity. Value may be masked with asterisks by Watson.
type Entity struct {
	Entity     string `json:"entity"`
	Value      string `json:"value"`
	Confidence Float  `json:"confidence"`
}

// ClientAction is a client or server action requested by a dialog node.
type ClientAction struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Spelling reports spelling correction.
type Spelling struct {
	Text          string `json:"text"`
	OriginalText  string `json:"original_text"`
	SuggestedText string `json:"suggested_text"`
}

// LLMMetadata names an LLM call made during the turn.
type LLMMetadata struct {
	Task    string `json:"task"`
	ModelID string `json:"model_id"`
}

// Debug is response.output.debug.
type Debug struct {
	NodesVisited         []NodeVisited    `json:"nodes_visited"`
	LogMessages          []LogMessage     `json:"log_messages"`
	BranchExited         bool             `json:"branch_exited"`
	BranchExitedReason   string           `json:"branch_exited_reason"`
	TurnEvents           []TurnEvent      `json:"turn_events"`
	OutputGenericMapping []GenericMapping `json:"output_generic_mapping"`
}

// NodeVisited is a dialog node visited during the turn.
type NodeVisited struct {
	DialogNode string `json:"dialog_node"`
	Title      string `json:"title"`
	Conditions string `json:"conditions"`
}

// LogMessage is a message Watson logged while processing the turn.
type LogMessage struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Source  Source `json:"source"`
}

// Source says which dialog node, action, step or handler something came from.
type Source struct {
	Type        string `json:"type"`
	Action      string `json:"action"`
	ActionTitle string `json:"action_title"`
	Step        string `json:"step"`
	Handler     string `json:"handler"`
	DialogNode  string `json:"dialog_node"`
	Title       string `json:"title"`
	Condition   string `json:"condition"`
}

// GenericMapping links an output item to the action step that produced it
// (undocumented; used by IBM's own analytics sample).
type GenericMapping struct {
	Source Source `json:"source"`
}

// TurnEvent is one actions-skill event. event is an open enum.
type TurnEvent struct {
	Event           string             `json:"event"`
	Source          Source             `json:"source"`
	ActionStartTime string             `json:"action_start_time"`
	ConditionType   string             `json:"condition_type"`
	Reason          string             `json:"reason"`
	RouteName       string             `json:"route_name"`
	Callout         *Callout           `json:"callout"`
	Error           *EventError        `json:"error"`
	Metrics         *GenAIMetrics      `json:"metrics"`
	GenerativeAI    *GenerativeAI      `json:"generative_ai"`
	IntentsDenied   []Intent           `json:"intents_denied"`
	ClientActions   []ClientAction     `json:"client_actions"`
	GenAIStartTime  string             `json:"generative_ai_start_time"`
	HasQuestion     *bool              `json:"has_question"`
	Prompted        *bool              `json:"prompted"`
	ResultVariable  string             `json:"result_variable"`
	ActionVariables map[string]Ignored `json:"action_variables"`
}

// Callout is an extension (HTTP) call made by a step; on a
// generative_ai_called event, the search and LLM calls it made.
type Callout struct {
	Type           string           `json:"type"`
	ResultVariable string           `json:"result_variable"`
	Request        *CalloutRequest  `json:"request"`
	Response       *CalloutResponse `json:"response"`
	LLM            *LLMCall         `json:"llm"`
}

// LLMCall is the LLM call of a generative_ai_called event.
type LLMCall struct {
	ModelID             string `json:"model_id"`
	InputTokenCount     *Int   `json:"input_token_count"`
	GeneratedTokenCount *Int   `json:"generated_token_count"`
	Success             *bool  `json:"success"`
}

// IsExtensionCall reports an extension callout: the callout of a
// generative_ai_called event is its search and LLM call, not an extension.
func (e *TurnEvent) IsExtensionCall() bool {
	return e.Callout != nil && e.Event != "generative_ai_called"
}

// CalloutRequest is the extension request (the body is not kept).
type CalloutRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Path   string `json:"path"`
}

// CalloutResponse is the extension response (the body is not kept).
type CalloutResponse struct {
	StatusCode Int `json:"status_code"`
}

// EventError is the error of a turn event.
type EventError struct {
	Message string `json:"message"`
}

// GenAIMetrics are the durations of a generative_ai_called event.
type GenAIMetrics struct {
	SearchTimeMS           Float `json:"search_time_ms"`
	AnswerGenerationTimeMS Float `json:"answer_generation_time_ms"`
	TotalTimeMS            Float `json:"total_time_ms"`
}

// GenerativeAI describes a generative answer.
type GenerativeAI struct {
	Task          string `json:"task"`
	IsIDKResponse bool   `json:"is_idk_response"`
	IsHAPDetected bool   `json:"is_hap_detected"`
}

// Context is the conversation context. Skill contexts are only listed by name:
// their state blobs are never decoded.
type Context struct {
	Global       Global             `json:"global"`
	Skills       map[string]Ignored `json:"skills"`
	Integrations Integrations       `json:"integrations"`
}

// Global is context.global.
type Global struct {
	SessionID string `json:"session_id"`
	System    System `json:"system"`
}

// System is context.global.system (state is deliberately not declared).
type System struct {
	UserID           string `json:"user_id"`
	Timezone         string `json:"timezone"`
	TurnCount        Int    `json:"turn_count"`
	Locale           string `json:"locale"`
	SessionStartTime string `json:"session_start_time"`
}

// Integrations is context.integrations; only the channel name is read.
type Integrations struct {
	Channel struct {
		Name string `json:"name"`
	} `json:"channel"`
}
