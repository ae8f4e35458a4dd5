package mapping

import "go.opentelemetry.io/otel/attribute"

// Standard OpenTelemetry attribute names used by the mapping. The gen_ai.*
// names are kept here rather than imported because they left the Go semconv
// packages in v1.42.0.
const (
	AttrGenAIOperationName  = attribute.Key("gen_ai.operation.name")
	AttrGenAIProviderName   = attribute.Key("gen_ai.provider.name")
	AttrGenAIAgentID        = attribute.Key("gen_ai.agent.id")
	AttrGenAIAgentName      = attribute.Key("gen_ai.agent.name")
	AttrGenAIConversationID = attribute.Key("gen_ai.conversation.id")
	AttrGenAIResponseID     = attribute.Key("gen_ai.response.id")
	AttrGenAIInputMessages  = attribute.Key("gen_ai.input.messages")
	AttrGenAIOutputMessages = attribute.Key("gen_ai.output.messages")
	AttrSessionID           = attribute.Key("session.id")
	AttrEnduserPseudoID     = attribute.Key("enduser.pseudo.id")
	AttrHTTPRequestMethod   = attribute.Key("http.request.method")
	AttrHTTPResponseStatus  = attribute.Key("http.response.status_code")
	AttrServerAddress       = attribute.Key("server.address")
	AttrURLPath             = attribute.Key("url.path")
	AttrErrorType           = attribute.Key("error.type")
)

// Values of standard attributes.
const (
	OperationInvokeAgent = "invoke_agent"
	// ProviderWatsonAssistant is a custom gen_ai.provider.name value: the
	// registry's ibm.watsonx.ai names the model service, not the assistant.
	ProviderWatsonAssistant = "ibm.watson_assistant"
)

// The vendor namespace: everything without a convention lives under
// watson_assistant.*. Every key is listed in the README's attribute table.
const (
	AttrSkillID               = attribute.Key("watson_assistant.skill.id")
	AttrSkillType             = attribute.Key("watson_assistant.skill.type")
	AttrSnapshot              = attribute.Key("watson_assistant.snapshot")
	AttrLanguage              = attribute.Key("watson_assistant.language")
	AttrChannel               = attribute.Key("watson_assistant.channel")
	AttrTurnCount             = attribute.Key("watson_assistant.turn_count")
	AttrMessageType           = attribute.Key("watson_assistant.message_type")
	AttrIntent                = attribute.Key("watson_assistant.intent")
	AttrIntentConfidence      = attribute.Key("watson_assistant.intent.confidence")
	AttrRunnerUpIntent        = attribute.Key("watson_assistant.intent.runner_up")
	AttrRunnerUpConfidence    = attribute.Key("watson_assistant.intent.runner_up.confidence")
	AttrIntentCount           = attribute.Key("watson_assistant.intents.count")
	AttrEntityNames           = attribute.Key("watson_assistant.entities.names")
	AttrEntityCount           = attribute.Key("watson_assistant.entities.count")
	AttrEntityValues          = attribute.Key("watson_assistant.entities.values")
	AttrResponseTypes         = attribute.Key("watson_assistant.response.types")
	AttrOutcome               = attribute.Key("watson_assistant.outcome")
	AttrHandoff               = attribute.Key("watson_assistant.handoff")
	AttrFallback              = attribute.Key("watson_assistant.fallback")
	AttrNotRecognized         = attribute.Key("watson_assistant.not_recognized")
	AttrWeakUnderstanding     = attribute.Key("watson_assistant.weak_understanding")
	AttrLowConfidence         = attribute.Key("watson_assistant.low_confidence")
	AttrSpellingCorrected     = attribute.Key("watson_assistant.spelling.corrected")
	AttrLatencyMS             = attribute.Key("watson_assistant.latency_ms")
	AttrErrorCount            = attribute.Key("watson_assistant.errors.count")
	AttrActions               = attribute.Key("watson_assistant.actions")
	AttrInputText             = attribute.Key("watson_assistant.input.text")
	AttrOutputText            = attribute.Key("watson_assistant.output.text")
	AttrNode                  = attribute.Key("watson_assistant.dialog_node")
	AttrNodeTitle             = attribute.Key("watson_assistant.dialog_node.title")
	AttrNodeConditions        = attribute.Key("watson_assistant.dialog_node.conditions")
	AttrAction                = attribute.Key("watson_assistant.action")
	AttrActionTitle           = attribute.Key("watson_assistant.action.title")
	AttrStep                  = attribute.Key("watson_assistant.step")
	AttrHandler               = attribute.Key("watson_assistant.handler")
	AttrConditionType         = attribute.Key("watson_assistant.condition_type")
	AttrReason                = attribute.Key("watson_assistant.reason")
	AttrLogLevel              = attribute.Key("watson_assistant.log_message.level")
	AttrLogCode               = attribute.Key("watson_assistant.log_message.code")
	AttrLogMessage            = attribute.Key("watson_assistant.log_message.text")
	AttrSourceType            = attribute.Key("watson_assistant.source.type")
	AttrEvent                 = attribute.Key("watson_assistant.event")
	AttrErrorMessage          = attribute.Key("watson_assistant.error.message")
	AttrGenAITotalMS          = attribute.Key("watson_assistant.generative_ai.total_time_ms")
	AttrCallEndReason         = attribute.Key("watson_assistant.call.end_reason")
	AttrCallDurationMS        = attribute.Key("watson_assistant.call.duration_ms")
	AttrCallTransfer          = attribute.Key("watson_assistant.call.transfer")
	AttrCallFailure           = attribute.Key("watson_assistant.call.failure")
	AttrCallOutbound          = attribute.Key("watson_assistant.call.outbound")
	AttrCallTurnCount         = attribute.Key("watson_assistant.call.turns.count")
	AttrCallWarningCodes      = attribute.Key("watson_assistant.call.warning_codes")
	AttrCallMaxAssistantMS    = attribute.Key("watson_assistant.call.max_response_ms.assistant")
	AttrCallMaxTextToSpeechMS = attribute.Key("watson_assistant.call.max_response_ms.text_to_speech")
	AttrCallMaxSpeechToTextMS = attribute.Key("watson_assistant.call.max_response_ms.speech_to_text")
	AttrAmbiguous             = attribute.Key("watson_assistant.ambiguous")
	AttrIntentMargin          = attribute.Key("watson_assistant.intent.margin")
	AttrSearchOutcome         = attribute.Key("watson_assistant.search.outcome")
	AttrExtensionFailures     = attribute.Key("watson_assistant.extension.failures")
	AttrCallComponent         = attribute.Key("watson_assistant.call.component")
	AttrCallWarningCode       = attribute.Key("watson_assistant.call.warning.code")
	AttrCallWarningMessage    = attribute.Key("watson_assistant.call.warning.message")
	AttrRecognition           = attribute.Key("watson_assistant.recognition")
	// Phone calls meet their conversations; call quality.
	AttrCallGlobalSessionID  = attribute.Key("watson_assistant.call.global_session_id")
	AttrCallSessionIDs       = attribute.Key("watson_assistant.call.session_ids")
	AttrCallSTTConfidence    = attribute.Key("watson_assistant.call.stt.confidence")
	AttrCallSTTConfidenceMin = attribute.Key("watson_assistant.call.stt.confidence.min")
	AttrCallSTTConfidenceAvg = attribute.Key("watson_assistant.call.stt.confidence.avg")
	AttrCallSIPSetupMS       = attribute.Key("watson_assistant.call.sip.setup_ms")
	AttrCallDirection        = attribute.Key("watson_assistant.call.direction")
	// Disambiguation ("Did you mean"): the candidates offered, and on the
	// next turn the user's pick.
	AttrClarificationCandidates  = attribute.Key("watson_assistant.clarification.candidates")
	AttrClarificationConfidences = attribute.Key("watson_assistant.clarification.confidences")
	AttrClarificationPick        = attribute.Key("watson_assistant.clarification.pick")
	AttrClarificationChoice      = attribute.Key("watson_assistant.clarification.choice")
	AttrSuggestionID             = attribute.Key("watson_assistant.suggestion_id")
	// AttrIntentActionTitle names an actions-skill intent
	// (action_<n>_intent_<m>) by the title of its action.
	AttrIntentActionTitle = attribute.Key("watson_assistant.intent.action_title")
	// What a hand-off (connect_to_agent) says besides its text (content).
	AttrHandoffMessageToAgent   = attribute.Key("watson_assistant.handoff.message_to_agent")
	AttrHandoffAgentAvailable   = attribute.Key("watson_assistant.handoff.agent_available_message")
	AttrHandoffAgentUnavailable = attribute.Key("watson_assistant.handoff.agent_unavailable_message")
	AttrHandoffTopic            = attribute.Key("watson_assistant.handoff.topic")
	AttrHandoffTransferTarget   = attribute.Key("watson_assistant.handoff.transfer_target")
	// AttrTiming says what a child span's extent means.
	AttrTiming = attribute.Key("watson_assistant.timing")
)

// Outcomes: the single low-cardinality verdict on a turn, in priority order.
const (
	OutcomeError            = "error"              // Watson logged an error, an extension failed
	OutcomeHandoff          = "handoff"            // handed to a human agent
	OutcomeClarification    = "clarification"      // Watson asked "Did you mean" (disambiguation)
	OutcomeAnsweredBySearch = "answered_by_search" // a search answered (with results), recognised or not
	OutcomeNotRecognized    = "not_recognized"     // the request was not recognised (see Recognition*)
	OutcomeNoAnswer         = "no_answer"          // a search found nothing or did not know
	OutcomeLowConfidence    = "low_confidence"     // top intent below the threshold
	OutcomeWelcome          = "welcome"            // empty input (greeting turn)
	OutcomeAnswered         = "answered"           // everything else
)

// Recognition verdicts (watson_assistant.recognition), as IBM's analytics
// define them; docs/analytics.md gives the sources.
const (
	// RecognitionRecognized: a request routed to an action, intent or node.
	RecognitionRecognized = "recognized"
	// RecognitionNotRecognized: a request that triggered "No matches" /
	// "Anything else" (not forced by an error), or, for dialog, a message
	// with no intent and no entity that no node other than the fallback
	// handled (weak understanding).
	RecognitionNotRecognized = "not_recognized"
	// RecognitionStepAnswer: the input answered a step, a slot or a node's
	// question (also masked private input): not a request.
	RecognitionStepAnswer = "step_answer"
	// RecognitionSearch: a search-skill message, which bypasses recognition.
	RecognitionSearch = "search"
	// RecognitionNone: no user input (welcome turn).
	RecognitionNone = "none"
	// RecognitionClarification: Watson could not decide and asked "Did you
	// mean"; the user's pick on the next turn decides (a candidate:
	// recognized; "None of the above": not_recognized).
	RecognitionClarification = "clarification"
)

// PickNoneOfTheAbove is watson_assistant.clarification.pick when the user
// answered a clarifying question with "None of the above".
const PickNoneOfTheAbove = "none_of_the_above"

// Values of watson_assistant.clarification.choice on clarification picks.
const (
	ChoiceSuggestion     = "suggestion"
	ChoiceNoneOfTheAbove = "none_of_the_above"
)

// Outcomes of a search (watson_assistant.searches, watson_assistant.search.outcome).
const (
	SearchAnswered  = "answered"   // results or a generated answer
	SearchNoResults = "no_results" // a search response with no result
	SearchIDK       = "idk"        // the generative answer was "I don't know"
	SearchError     = "error"      // the search or its generative answer failed
)

// Values of watson_assistant.timing.
const (
	// TimingMeasured: the body gives the call's start and duration.
	TimingMeasured = "measured"
	// TimingWindow: the body gives no time; the span is the window in which
	// the call happened (from the event before it to the next timed event or
	// the turn's end), not its duration.
	TimingWindow = "window"
)

// Outcomes of an extension call (watson_assistant.extension.calls).
const (
	ExtensionSuccess = "success"
	ExtensionFailure = "failure" // HTTP status >= 400, or an error
)

// Values of watson_assistant.call.direction: an RTP audio stream.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// Components of watson_assistant.call.max_response_time.
const (
	ComponentAssistant    = "assistant"
	ComponentTextToSpeech = "text_to_speech"
	ComponentSpeechToText = "speech_to_text"
)

// Log record event names.
const (
	EventNameTurn        = "watson_assistant.turn"
	EventNameCall        = "watson_assistant.call"
	EventNameCallWarning = "watson_assistant.call.warning"
)
