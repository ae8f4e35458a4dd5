package watson

// DedupeKey is the identity an event is deduplicated by, everywhere (the
// service's spool, backfill, replay): "log:" + log_id for a turn,
// "cdr:" + global_session_id for a call summary, "" when it has none (such
// an event is never a duplicate). Stored state (the spool's dedupe window,
// backfill's exported-keys files) holds these keys: the format is fixed.
func (ev Event) DedupeKey() string {
	switch {
	case ev.Log != nil && ev.Log.LogID != "":
		return "log:" + ev.Log.LogID
	case ev.CDR != nil && ev.CDR.GlobalSessionID != "":
		return "cdr:" + ev.CDR.GlobalSessionID
	}
	return ""
}
