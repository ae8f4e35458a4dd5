package watson

import "encoding/json"

// The decoders of the wire types for decodeFast: one case per declared
// field, named as its json tag (TestDecodeFastCoversEveryField fails when
// a field is declared in types.go or cdr.go but not here); d.nextKey skips
// the others.

func (d *decoder) log(l *Log) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "log_id":
			d.str(&l.LogID)
		case "request":
			d.request(&l.Request)
		case "response":
			d.response(&l.Response)
		case "assistant_id":
			d.str(&l.AssistantID)
		case "session_id":
			d.str(&l.SessionID)
		case "skill_id":
			d.str(&l.SkillID)
		case "snapshot":
			d.str(&l.Snapshot)
		case "request_timestamp":
			d.str(&l.RequestTimestamp)
		case "response_timestamp":
			d.str(&l.ResponseTimestamp)
		case "language":
			d.str(&l.Language)
		case "customer_id":
			d.str(&l.CustomerID)
		}
	}
}

func (d *decoder) request(r *Request) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "input":
			d.input(&r.Input)
		case "context":
			d.context(&r.Context)
		case "user_id":
			d.str(&r.UserID)
		}
	}
}

func (d *decoder) input(in *Input) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "message_type":
			d.str(&in.MessageType)
		case "text":
			d.str(&in.Text)
		case "suggestion_id":
			d.str(&in.SuggestionID)
		case "intents":
			list(d, &in.Intents, (*decoder).intent)
		}
	}
}

func (d *decoder) response(r *Response) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "output":
			d.output(&r.Output)
		case "context":
			d.responseContext(&r.Context)
		case "user_id":
			d.str(&r.UserID)
		}
	}
}

// responseContext decodes the declared fields and keeps a copy of the
// object, as ResponseContext.UnmarshalJSON does.
func (d *decoder) responseContext(c *ResponseContext) {
	if d.null() {
		return
	}
	if d.peek() != '{' {
		d.fail()
		return
	}
	start := d.i
	d.context(&c.Context)
	if !d.bad {
		c.Raw = append(json.RawMessage(nil), d.b[start:d.i]...)
	}
}

func (d *decoder) output(o *Output) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "generic":
			list(d, &o.Generic, (*decoder).generic)
		case "intents":
			list(d, &o.Intents, (*decoder).intent)
		case "entities":
			list(d, &o.Entities, (*decoder).entity)
		case "actions":
			list(d, &o.Actions, (*decoder).clientAction)
		case "debug":
			d.debug(&o.Debug)
		case "spelling":
			ptr(d, &o.Spelling, (*decoder).spelling)
		case "llm_metadata":
			list(d, &o.LLMMetadata, (*decoder).llmMetadata)
		}
	}
}

func (d *decoder) generic(g *Generic) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "response_type":
			d.str(&g.ResponseType)
		case "text":
			d.str(&g.Text)
		case "title":
			d.str(&g.Title)
		case "description":
			d.str(&g.Description)
		case "alt_text":
			d.str(&g.AltText)
		case "header":
			d.str(&g.Header)
		case "message_to_human_agent":
			d.str(&g.MessageToHumanAgent)
		case "message_to_user":
			d.str(&g.MessageToUser)
		case "agent_available":
			ptr(d, &g.AgentAvailable, (*decoder).agentMessage)
		case "agent_unavailable":
			ptr(d, &g.AgentUnavailable, (*decoder).agentMessage)
		case "transfer_info":
			ptr(d, &g.TransferInfo, (*decoder).transferInfo)
		case "topic":
			d.str(&g.Topic)
		case "options":
			list(d, &g.Options, (*decoder).choice)
		case "suggestions":
			list(d, &g.Suggestions, (*decoder).choice)
		case "primary_results":
			list(d, &g.PrimaryResults, (*decoder).searchResult)
		case "additional_results":
			list(d, &g.AdditionalResults, (*decoder).searchResult)
		case "search_results":
			list(d, &g.SearchResults, (*decoder).searchResult)
		case "citations_title":
			d.str(&g.CitationsTitle)
		case "citations":
			list(d, &g.Citations, (*decoder).citation)
		case "disclaimer":
			d.str(&g.Disclaimer)
		}
	}
}

func (d *decoder) agentMessage(m *AgentMessage) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if string(k) == "message" {
			d.str(&m.Message)
		}
	}
}

func (d *decoder) transferInfo(t *TransferInfo) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if string(k) == "target" {
			d.anyMap(&t.Target)
		}
	}
}

func (d *decoder) searchResult(r *SearchResult) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "title":
			d.str(&r.Title)
		case "body":
			d.str(&r.Body)
		}
	}
}

func (d *decoder) citation(c *Citation) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "title":
			d.str(&c.Title)
		case "text":
			d.str(&c.Text)
		}
	}
}

func (d *decoder) choice(c *Choice) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "label":
			d.str(&c.Label)
		case "value":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				if string(k) == "input" {
					d.choiceInput(&c.Value.Input)
				}
			}
		}
	}
}

func (d *decoder) choiceInput(in *ChoiceInput) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "text":
			d.str(&in.Text)
		case "suggestion_id":
			d.str(&in.SuggestionID)
		case "intents":
			list(d, &in.Intents, (*decoder).intent)
		}
	}
}

func (d *decoder) intent(in *Intent) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "intent":
			d.str(&in.Intent)
		case "confidence":
			number(d, &in.Confidence)
		case "skill":
			d.str(&in.Skill)
		}
	}
}

func (d *decoder) entity(e *Entity) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "entity":
			d.str(&e.Entity)
		case "value":
			d.str(&e.Value)
		case "confidence":
			number(d, &e.Confidence)
		}
	}
}

func (d *decoder) clientAction(a *ClientAction) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "name":
			d.str(&a.Name)
		case "type":
			d.str(&a.Type)
		}
	}
}

func (d *decoder) spelling(s *Spelling) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "text":
			d.str(&s.Text)
		case "original_text":
			d.str(&s.OriginalText)
		case "suggested_text":
			d.str(&s.SuggestedText)
		}
	}
}

func (d *decoder) llmMetadata(m *LLMMetadata) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "task":
			d.str(&m.Task)
		case "model_id":
			d.str(&m.ModelID)
		}
	}
}

func (d *decoder) debug(g *Debug) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "nodes_visited":
			list(d, &g.NodesVisited, (*decoder).nodeVisited)
		case "log_messages":
			list(d, &g.LogMessages, (*decoder).logMessage)
		case "branch_exited":
			d.boolean(&g.BranchExited)
		case "branch_exited_reason":
			d.str(&g.BranchExitedReason)
		case "turn_events":
			list(d, &g.TurnEvents, (*decoder).turnEvent)
		case "output_generic_mapping":
			list(d, &g.OutputGenericMapping, (*decoder).genericMapping)
		}
	}
}

func (d *decoder) nodeVisited(n *NodeVisited) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "dialog_node":
			d.str(&n.DialogNode)
		case "title":
			d.str(&n.Title)
		case "conditions":
			d.str(&n.Conditions)
		}
	}
}

func (d *decoder) logMessage(m *LogMessage) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "level":
			d.str(&m.Level)
		case "message":
			d.str(&m.Message)
		case "code":
			d.str(&m.Code)
		case "source":
			d.source(&m.Source)
		}
	}
}

func (d *decoder) source(s *Source) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "type":
			d.str(&s.Type)
		case "action":
			d.str(&s.Action)
		case "action_title":
			d.str(&s.ActionTitle)
		case "step":
			d.str(&s.Step)
		case "handler":
			d.str(&s.Handler)
		case "dialog_node":
			d.str(&s.DialogNode)
		case "title":
			d.str(&s.Title)
		case "condition":
			d.str(&s.Condition)
		}
	}
}

func (d *decoder) genericMapping(m *GenericMapping) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if string(k) == "source" {
			d.source(&m.Source)
		}
	}
}

func (d *decoder) turnEvent(e *TurnEvent) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "event":
			d.str(&e.Event)
		case "source":
			d.source(&e.Source)
		case "action_start_time":
			d.str(&e.ActionStartTime)
		case "condition_type":
			d.str(&e.ConditionType)
		case "reason":
			d.str(&e.Reason)
		case "route_name":
			d.str(&e.RouteName)
		case "callout":
			ptr(d, &e.Callout, (*decoder).callout)
		case "error":
			ptr(d, &e.Error, (*decoder).eventError)
		case "metrics":
			ptr(d, &e.Metrics, (*decoder).genAIMetrics)
		case "generative_ai":
			ptr(d, &e.GenerativeAI, (*decoder).generativeAI)
		case "intents_denied":
			list(d, &e.IntentsDenied, (*decoder).intent)
		case "client_actions":
			list(d, &e.ClientActions, (*decoder).clientAction)
		case "generative_ai_start_time":
			d.str(&e.GenAIStartTime)
		case "has_question":
			ptr(d, &e.HasQuestion, (*decoder).boolean)
		case "prompted":
			ptr(d, &e.Prompted, (*decoder).boolean)
		case "result_variable":
			d.str(&e.ResultVariable)
		case "action_variables":
			d.names(&e.ActionVariables)
		}
	}
}

func (d *decoder) callout(c *Callout) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "type":
			d.str(&c.Type)
		case "result_variable":
			d.str(&c.ResultVariable)
		case "request":
			ptr(d, &c.Request, (*decoder).calloutRequest)
		case "response":
			ptr(d, &c.Response, (*decoder).calloutResponse)
		case "llm":
			ptr(d, &c.LLM, (*decoder).llmCall)
		}
	}
}

func (d *decoder) llmCall(c *LLMCall) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "model_id":
			d.str(&c.ModelID)
		case "input_token_count":
			ptr(d, &c.InputTokenCount, number[Int])
		case "generated_token_count":
			ptr(d, &c.GeneratedTokenCount, number[Int])
		case "success":
			ptr(d, &c.Success, (*decoder).boolean)
		}
	}
}

func (d *decoder) calloutRequest(r *CalloutRequest) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "method":
			d.str(&r.Method)
		case "url":
			d.str(&r.URL)
		case "path":
			d.str(&r.Path)
		}
	}
}

func (d *decoder) calloutResponse(r *CalloutResponse) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if string(k) == "status_code" {
			number(d, &r.StatusCode)
		}
	}
}

func (d *decoder) eventError(e *EventError) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if string(k) == "message" {
			d.str(&e.Message)
		}
	}
}

func (d *decoder) genAIMetrics(m *GenAIMetrics) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "search_time_ms":
			number(d, &m.SearchTimeMS)
		case "answer_generation_time_ms":
			number(d, &m.AnswerGenerationTimeMS)
		case "total_time_ms":
			number(d, &m.TotalTimeMS)
		}
	}
}

func (d *decoder) generativeAI(g *GenerativeAI) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "task":
			d.str(&g.Task)
		case "is_idk_response":
			d.boolean(&g.IsIDKResponse)
		case "is_hap_detected":
			d.boolean(&g.IsHAPDetected)
		}
	}
}

func (d *decoder) context(c *Context) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "global":
			d.global(&c.Global)
		case "skills":
			d.names(&c.Skills)
		case "integrations":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "channel":
					for k := d.firstKey(); k != nil; k = d.nextKey(k) {
						if string(k) == "name" {
							d.str(&c.Integrations.Channel.Name)
						}
					}
				}
			}
		}
	}
}

func (d *decoder) global(g *Global) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "session_id":
			d.str(&g.SessionID)
		case "system":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "user_id":
					d.str(&g.System.UserID)
				case "timezone":
					d.str(&g.System.Timezone)
				case "turn_count":
					number(d, &g.System.TurnCount)
				case "locale":
					d.str(&g.System.Locale)
				case "session_start_time":
					d.str(&g.System.SessionStartTime)
				}
			}
		}
	}
}

func (d *decoder) cdr(c *CDR) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "global_session_id":
			d.str(&c.GlobalSessionID)
		case "failure_occurred":
			d.boolean(&c.FailureOccurred)
		case "failure_details":
			d.str(&c.FailureDetails)
		case "transfer_occurred":
			d.boolean(&c.TransferOccurred)
		case "call":
			d.call(&c.Call)
		case "max_response_milliseconds":
			d.floats(map[string]*Float{"assistant": &c.MaxResponseMilliseconds.Assistant,
				"text_to_speech": &c.MaxResponseMilliseconds.TextToSpeech, "speech_to_text": &c.MaxResponseMilliseconds.SpeechToText})
		case "assistant_interaction_summaries":
			list(d, &c.AssistantInteractionSummaries, (*decoder).interactionSummary)
		case "warnings_and_errors":
			list(d, &c.WarningsAndErrors, (*decoder).cdrWarning)
		case "session_initiation_protocol":
			d.floats(map[string]*Float{"setup_milliseconds": &c.SIP.SetupMilliseconds})
		case "realtime_transport_network_summary":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "inbound_stream":
					d.rtpStream(&c.Network.Inbound)
				case "outbound_stream":
					d.rtpStream(&c.Network.Outbound)
				}
			}
		}
	}
}

// floats decodes an object of numbers (the call summary's; one per call,
// so a map of fields is cheap enough).
func (d *decoder) floats(fields map[string]*Float) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		if p, ok := fields[string(k)]; ok {
			number(d, p)
		}
	}
}

func (d *decoder) rtpStream(s *RTPStream) {
	d.floats(map[string]*Float{"average_jitter": &s.AverageJitter, "maximum_jitter": &s.MaximumJitter,
		"packets_lost": &s.PacketsLost, "packets_transmitted": &s.PacketsTransmitted})
}

func (d *decoder) call(c *Call) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "start_timestamp":
			d.str(&c.StartTimestamp)
		case "stop_timestamp":
			d.str(&c.StopTimestamp)
		case "milliseconds_elapsed":
			number(d, &c.MillisecondsElapsed)
		case "outbound":
			d.boolean(&c.Outbound)
		case "end_reason":
			d.str(&c.EndReason)
		}
	}
}

func (d *decoder) interactionSummary(s *InteractionSummary) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "session_id":
			d.str(&s.SessionID)
		case "assistant_id":
			d.str(&s.AssistantID)
		case "turns":
			list(d, &s.Turns, (*decoder).cdrTurn)
		}
	}
}

func (d *decoder) cdrTurn(t *CDRTurn) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "assistant":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "log_id":
					d.str(&t.Assistant.LogID)
				case "start_timestamp":
					d.str(&t.Assistant.StartTimestamp)
				case "response_milliseconds":
					number(d, &t.Assistant.ResponseMilliseconds)
				}
			}
		case "request":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "type":
					d.str(&t.Request.Type)
				case "streaming_statistics":
					ptr(d, &t.Request.StreamingStatistics, (*decoder).streamingStatistics)
				}
			}
		}
	}
}

func (d *decoder) streamingStatistics(s *StreamingStatistics) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "confidence":
			ptr(d, &s.Confidence, number[Float])
		case "response_milliseconds":
			number(d, &s.ResponseMilliseconds)
		}
	}
}

func (d *decoder) cdrWarning(w *CDRWarning) {
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "code":
			d.str(&w.Code)
		case "id":
			d.str(&w.ID)
		case "message":
			d.str(&w.Message)
		}
	}
}
