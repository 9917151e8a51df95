package events

import (
	"bytes"
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
// types) in both API versions. The v1 rendering is derived from the v2 bytes
// when the difference is only v2's trailing top-level fields, which is the
// common case, so most events are marshalled once.
func Encode(ev any) (Wire, error) {
	var (
		w      Wire
		v2     any
		v1     func() any
		v2only bool   // v1 would differ by more than trailing fields
		cut    string // first trailing v2-only key present, if any
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
		v2, v1 = e, func() any { return e.V1() }
		v2only = e.TargetUser.v1() != &e.TargetUser
		if e.AccountUUID != "" {
			cut = "account_uuid"
		}
	case ItemUsage:
		w = Wire{Feature: ItemUsages, UUID: e.UUID, Time: e.Timestamp, Label: e.Action}
		v2, v1 = e, func() any { return e.V1() }
		v2only = e.User.v1() != &e.User
		if e.AccountUUID != "" {
			cut = "account_uuid"
		}
	case AuditEvent:
		w = Wire{Feature: AuditEvents, UUID: e.UUID, Time: e.Timestamp, Label: e.Action + "/" + e.ObjectType}
		v2, v1 = e, func() any { return e.V1() }
		v2only = e.ActorDetails.v1() != e.ActorDetails || e.ObjectDetails.v1() != e.ObjectDetails || e.AuxDetails.v1() != e.AuxDetails
		switch {
		case e.ActorType != "":
			cut = "actor_type"
		case e.ActorAccountUUID != "":
			cut = "actor_account_uuid"
		case e.AccountUUID != "":
			cut = "account_uuid"
		}
	default:
		return Wire{}, fmt.Errorf("encode: %T is not an event", ev)
	}
	var err error
	if w.V2, err = json.Marshal(v2); err != nil {
		return Wire{}, fmt.Errorf("encode %s %s: %w", w.Feature, w.UUID, err)
	}
	switch {
	case v2only:
		if w.V1, err = json.Marshal(v1()); err != nil {
			return Wire{}, fmt.Errorf("encode %s %s: %w", w.Feature, w.UUID, err)
		}
	case cut != "":
		// The v2-only fields close the object. Quotes inside JSON strings
		// are escaped, so `,"key":` can only be the top-level key.
		i := bytes.LastIndex(w.V2, []byte(`,"`+cut+`":`))
		if i < 0 {
			return Wire{}, fmt.Errorf("encode %s %s: %s not found", w.Feature, w.UUID, cut)
		}
		w.V1 = append(w.V2[:i:i], '}')
	}
	if string(w.V1) == string(w.V2) {
		w.V1 = nil
	}
	return w, nil
}
