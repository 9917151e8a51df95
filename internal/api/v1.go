package api

import (
	"bytes"
	"encoding/json"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// v1Rows drops from rows, in place, the audit events /api/v1 does not serve
// (events.AuditOnV1). The page's cursor still moves past them, so no page
// is stuck on them, and has_more stays what the store said: true may be
// followed by an empty page, which 1.2.0 allows ("the subsequent request
// could still be empty").
func v1Rows(rows []store.Row) []store.Row {
	kept := rows[:0]
	for _, r := range rows {
		if auditOnV1(r.Data) {
			kept = append(kept, r)
		}
	}
	return kept
}

var (
	actionKey     = []byte(`"action":"`)
	objectTypeKey = []byte(`"object_type":"`)
)

// auditOnV1 reads an audit event's action and object type from its stored
// JSON. Events are stored as events.Encode renders them, where the first
// "action" and "object_type" members are the event's own (the nested user,
// session and location objects have neither, and a quote inside a string
// is escaped), so a byte search finds them without decoding the event or
// allocating; JSON of another shape is decoded.
func auditOnV1(data []byte) bool {
	action, rest, ok := stringMember(data, actionKey)
	// object_type follows action in events.Encode's order.
	objectType, _, ok2 := stringMember(rest, objectTypeKey)
	if !ok || !ok2 {
		var e struct {
			Action     string `json:"action"`
			ObjectType string `json:"object_type"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return true // not ours to judge; served as stored
		}
		return events.AuditOnV1(e.Action, e.ObjectType)
	}
	return !oneOf(action, events.AuditActionsV2Only) && !oneOf(objectType, events.AuditObjectTypesV2Only)
}

func oneOf(b []byte, list []string) bool {
	for _, s := range list {
		if string(b) == s {
			return true
		}
	}
	return false
}

// stringMember returns the plain (escape-free) string value after the first
// occurrence of key, which ends in the value's opening quote, and the data
// after it.
func stringMember(data, key []byte) (value, rest []byte, ok bool) {
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, nil, false
	}
	v := data[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 || bytes.IndexByte(v[:j], '\\') >= 0 {
		return nil, nil, false
	}
	return v[:j], v[j:], true
}
