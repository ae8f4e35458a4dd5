package watson

import "encoding/json"

// The decoders of the wire types for decodeFast: one case per declared
// field, named as its json tag (TestDecodeFastCoversEveryField fails when
// a field is declared in types.go or cdr.go but not here).

func (d *decoder) log(l *Log) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) request(r *Request) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "input":
			d.input(&r.Input)
		case "context":
			d.context(&r.Context)
		case "user_id":
			d.str(&r.UserID)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) input(in *Input) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "message_type":
			d.str(&in.MessageType)
		case "text":
			d.str(&in.Text)
		case "suggestion_id":
			d.str(&in.SuggestionID)
		case "intents":
			list(d, &in.Intents, (*decoder).intent)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) response(r *Response) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "output":
			d.output(&r.Output)
		case "context":
			d.responseContext(&r.Context)
		case "user_id":
			d.str(&r.UserID)
		default:
			d.other(k)
		}
	}
}

// responseContext decodes the declared fields and keeps a copy of the
// object, as ResponseContext.UnmarshalJSON does.
func (d *decoder) responseContext(c *ResponseContext) {
	switch d.peek() {
	case 'n':
		d.lit("null")
		return
	case '{':
	default:
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
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) generic(g *Generic) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) agentMessage(m *AgentMessage) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "message":
			d.str(&m.Message)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) transferInfo(t *TransferInfo) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "target":
			d.anyMap(&t.Target)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) searchResult(r *SearchResult) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "title":
			d.str(&r.Title)
		case "body":
			d.str(&r.Body)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) citation(c *Citation) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "title":
			d.str(&c.Title)
		case "text":
			d.str(&c.Text)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) choice(c *Choice) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "label":
			d.str(&c.Label)
		case "value":
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "input":
					d.choiceInput(&c.Value.Input)
				default:
					d.other(k)
				}
			}
		default:
			d.other(k)
		}
	}
}

func (d *decoder) choiceInput(in *ChoiceInput) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "text":
			d.str(&in.Text)
		case "suggestion_id":
			d.str(&in.SuggestionID)
		case "intents":
			list(d, &in.Intents, (*decoder).intent)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) intent(in *Intent) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "intent":
			d.str(&in.Intent)
		case "confidence":
			d.float(&in.Confidence)
		case "skill":
			d.str(&in.Skill)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) entity(e *Entity) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "entity":
			d.str(&e.Entity)
		case "value":
			d.str(&e.Value)
		case "confidence":
			d.float(&e.Confidence)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) clientAction(a *ClientAction) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "name":
			d.str(&a.Name)
		case "type":
			d.str(&a.Type)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) spelling(s *Spelling) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "text":
			d.str(&s.Text)
		case "original_text":
			d.str(&s.OriginalText)
		case "suggested_text":
			d.str(&s.SuggestedText)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) llmMetadata(m *LLMMetadata) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "task":
			d.str(&m.Task)
		case "model_id":
			d.str(&m.ModelID)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) debug(g *Debug) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) nodeVisited(n *NodeVisited) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "dialog_node":
			d.str(&n.DialogNode)
		case "title":
			d.str(&n.Title)
		case "conditions":
			d.str(&n.Conditions)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) logMessage(m *LogMessage) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "level":
			d.str(&m.Level)
		case "message":
			d.str(&m.Message)
		case "code":
			d.str(&m.Code)
		case "source":
			d.source(&m.Source)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) source(s *Source) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) genericMapping(m *GenericMapping) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "source":
			d.source(&m.Source)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) turnEvent(e *TurnEvent) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
			d.booleanPtr(&e.HasQuestion)
		case "prompted":
			d.booleanPtr(&e.Prompted)
		case "result_variable":
			d.str(&e.ResultVariable)
		case "action_variables":
			d.names(&e.ActionVariables)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) callout(c *Callout) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
		default:
			d.other(k)
		}
	}
}

func (d *decoder) llmCall(c *LLMCall) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "model_id":
			d.str(&c.ModelID)
		case "input_token_count":
			d.integerPtr(&c.InputTokenCount)
		case "generated_token_count":
			d.integerPtr(&c.GeneratedTokenCount)
		case "success":
			d.booleanPtr(&c.Success)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) calloutRequest(r *CalloutRequest) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "method":
			d.str(&r.Method)
		case "url":
			d.str(&r.URL)
		case "path":
			d.str(&r.Path)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) calloutResponse(r *CalloutResponse) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "status_code":
			d.integer(&r.StatusCode)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) eventError(e *EventError) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "message":
			d.str(&e.Message)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) genAIMetrics(m *GenAIMetrics) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "search_time_ms":
			d.float(&m.SearchTimeMS)
		case "answer_generation_time_ms":
			d.float(&m.AnswerGenerationTimeMS)
		case "total_time_ms":
			d.float(&m.TotalTimeMS)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) generativeAI(g *GenerativeAI) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "task":
			d.str(&g.Task)
		case "is_idk_response":
			d.boolean(&g.IsIDKResponse)
		case "is_hap_detected":
			d.boolean(&g.IsHAPDetected)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) context(c *Context) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "global":
			d.global(&c.Global)
		case "skills":
			d.names(&c.Skills)
		case "integrations":
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "channel":
					for more := d.object(); more; more = d.more() {
						switch k := d.key(); string(k) {
						case "name":
							d.str(&c.Integrations.Channel.Name)
						default:
							d.other(k)
						}
					}
				default:
					d.other(k)
				}
			}
		default:
			d.other(k)
		}
	}
}

func (d *decoder) global(g *Global) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "session_id":
			d.str(&g.SessionID)
		case "system":
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "user_id":
					d.str(&g.System.UserID)
				case "timezone":
					d.str(&g.System.Timezone)
				case "turn_count":
					d.integer(&g.System.TurnCount)
				case "locale":
					d.str(&g.System.Locale)
				case "session_start_time":
					d.str(&g.System.SessionStartTime)
				default:
					d.other(k)
				}
			}
		default:
			d.other(k)
		}
	}
}

func (d *decoder) cdr(c *CDR) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
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
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "inbound_stream":
					d.rtpStream(&c.Network.Inbound)
				case "outbound_stream":
					d.rtpStream(&c.Network.Outbound)
				default:
					d.other(k)
				}
			}
		default:
			d.other(k)
		}
	}
}

// floats decodes an object of numbers (the call summary's; one per call,
// so a map of fields is cheap enough).
func (d *decoder) floats(fields map[string]*Float) {
	for more := d.object(); more; more = d.more() {
		k := d.key()
		if p, ok := fields[string(k)]; ok {
			d.float(p)
		} else {
			d.other(k)
		}
	}
}

func (d *decoder) rtpStream(s *RTPStream) {
	d.floats(map[string]*Float{"average_jitter": &s.AverageJitter, "maximum_jitter": &s.MaximumJitter,
		"packets_lost": &s.PacketsLost, "packets_transmitted": &s.PacketsTransmitted})
}

func (d *decoder) call(c *Call) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "start_timestamp":
			d.str(&c.StartTimestamp)
		case "stop_timestamp":
			d.str(&c.StopTimestamp)
		case "milliseconds_elapsed":
			d.float(&c.MillisecondsElapsed)
		case "outbound":
			d.boolean(&c.Outbound)
		case "end_reason":
			d.str(&c.EndReason)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) interactionSummary(s *InteractionSummary) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "session_id":
			d.str(&s.SessionID)
		case "assistant_id":
			d.str(&s.AssistantID)
		case "turns":
			list(d, &s.Turns, (*decoder).cdrTurn)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) cdrTurn(t *CDRTurn) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "assistant":
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "log_id":
					d.str(&t.Assistant.LogID)
				case "start_timestamp":
					d.str(&t.Assistant.StartTimestamp)
				case "response_milliseconds":
					d.float(&t.Assistant.ResponseMilliseconds)
				default:
					d.other(k)
				}
			}
		case "request":
			for more := d.object(); more; more = d.more() {
				switch k := d.key(); string(k) {
				case "type":
					d.str(&t.Request.Type)
				case "streaming_statistics":
					ptr(d, &t.Request.StreamingStatistics, (*decoder).streamingStatistics)
				default:
					d.other(k)
				}
			}
		default:
			d.other(k)
		}
	}
}

func (d *decoder) streamingStatistics(s *StreamingStatistics) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "confidence":
			d.floatPtr(&s.Confidence)
		case "response_milliseconds":
			d.float(&s.ResponseMilliseconds)
		default:
			d.other(k)
		}
	}
}

func (d *decoder) cdrWarning(w *CDRWarning) {
	for more := d.object(); more; more = d.more() {
		switch k := d.key(); string(k) {
		case "code":
			d.str(&w.Code)
		case "id":
			d.str(&w.ID)
		case "message":
			d.str(&w.Message)
		default:
			d.other(k)
		}
	}
}
