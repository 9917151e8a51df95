package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Wire is an event encoded for storage and transmission: its v2 JSON, its
// v1 JSON (nil when identical), and the few fields read from it.
type Wire struct {
	Feature Feature
	UUID    string
	Time    time.Time
	// Label is the sign-in category, the item-usage action, or
	// "action/object_type" for audit events.
	Label string
	V2    []byte
	V1    []byte
}

// Encode renders a *SignInAttempt, *ItemUsage or *AuditEvent (or the value
// types) in both API versions.
func Encode(ev any) (Wire, error) {
	var (
		w      Wire
		v2, v1 any
	)
	switch e := ev.(type) {
	case *SignInAttempt:
		return Encode(*e)
	case *ItemUsage:
		return Encode(*e)
	case *AuditEvent:
		return Encode(*e)
	case SignInAttempt:
		w = Wire{Feature: SignInAttempts, UUID: e.UUID, Time: e.Timestamp, Label: e.Category}
		v2, v1 = e, e.V1()
	case ItemUsage:
		w = Wire{Feature: ItemUsages, UUID: e.UUID, Time: e.Timestamp, Label: e.Action}
		v2, v1 = e, e.V1()
	case AuditEvent:
		w = Wire{Feature: AuditEvents, UUID: e.UUID, Time: e.Timestamp, Label: e.Action + "/" + e.ObjectType}
		v2, v1 = e, e.V1()
	default:
		return Wire{}, fmt.Errorf("encode: %T is not an event", ev)
	}
	var err error
	if w.V2, err = json.Marshal(v2); err != nil {
		return Wire{}, fmt.Errorf("encode %s %s: %w", w.Feature, w.UUID, err)
	}
	if w.V1, err = json.Marshal(v1); err != nil {
		return Wire{}, fmt.Errorf("encode %s %s: %w", w.Feature, w.UUID, err)
	}
	if string(w.V1) == string(w.V2) {
		w.V1 = nil
	}
	return w, nil
}
