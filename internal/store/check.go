package store

import (
	"errors"
	"fmt"

	"github.com/logbookhq/logbook/events"
)

// The input rules of the contract, checked by every backend before it
// writes: errors name the field and the reason.

// Required returns an error naming field when value is empty.
func Required(field, value string) error {
	if value == "" {
		return fmt.Errorf("%s: empty", field)
	}
	return nil
}

func nonEmpty(field string, b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%s: empty", field)
	}
	return nil
}

// CheckStream validates the names of a stream.
func CheckStream(account string, feature events.Feature) error {
	if account == "" {
		return errors.New("account: empty")
	}
	if !feature.Valid() {
		return fmt.Errorf("feature: unknown feature %q", feature)
	}
	return nil
}

// CheckAppend validates what AppendEvents is given: the names of the
// stream and every record.
func CheckAppend(account string, feature events.Feature, recs []Record) error {
	if err := CheckStream(account, feature); err != nil {
		return err
	}
	return CheckRecords(recs)
}

// Validate checks q as ListEvents requires: the names of the stream, a
// positive Limit and an After that is not negative.
func (q ListQuery) Validate() error {
	if err := CheckStream(q.Account, q.Feature); err != nil {
		return err
	}
	if q.Limit <= 0 {
		return fmt.Errorf("limit: %d is not positive", q.Limit)
	}
	if q.After < 0 {
		return fmt.Errorf("after: %d is negative", q.After)
	}
	if q.Each != nil && q.WithInserted {
		return errors.New("each: cannot be combined with with_inserted")
	}
	return nil
}

// ScanBound is the most positions ListEvents examines in one call for a
// page of limit rows, in both backends: a time filter that skips most of
// a stream costs bounded work per call, and the caller continues from
// ListResult.Last.
func ScanBound(limit int) int { return 10*limit + 1000 }

// CheckRecords validates records given to AppendEvents.
func CheckRecords(recs []Record) error {
	for i, r := range recs {
		if err := CheckRecord(i, r); err != nil {
			return err
		}
	}
	return nil
}

// CheckRecord validates the record at index i of an append.
func CheckRecord(i int, r Record) error {
	switch {
	case r.UUID == "":
		return fmt.Errorf("record %d: uuid: empty", i)
	case len(r.V2) == 0:
		return fmt.Errorf("record %d (%s): v2: empty", i, r.UUID)
	case r.Time.IsZero():
		return fmt.Errorf("record %d (%s): time: zero", i, r.UUID)
	}
	return nil
}

// Validate checks the fields CreateAccount requires.
func (a Account) Validate() error {
	return errors.Join(Required("uuid", a.UUID), Required("name", a.Name))
}

// Validate checks the fields CreateUser requires.
func (u User) Validate() error {
	return errors.Join(Required("uuid", u.UUID), Required("account", u.AccountUUID))
}

// Validate checks the fields CreateIntegration requires.
func (in Integration) Validate() error {
	return errors.Join(Required("uuid", in.UUID), Required("account", in.AccountUUID))
}

// Validate checks the fields CreateToken requires.
func (t Token) Validate() error {
	if err := errors.Join(Required("id", t.ID), Required("integration", t.IntegrationUUID), Required("account", t.AccountUUID)); err != nil {
		return err
	}
	return nonEmpty("hash", t.Hash)
}

// Validate checks the fields AddSigningKey requires.
func (k SigningKey) Validate() error {
	if err := Required("id", k.ID); err != nil {
		return err
	}
	return nonEmpty("private", k.Private)
}

// Validate checks the fields CreateAPIKey requires.
func (k APIKey) Validate() error {
	if err := errors.Join(Required("id", k.ID), Required("kind", k.Kind), Required("account", k.AccountUUID)); err != nil {
		return err
	}
	return nonEmpty("hash", k.Hash)
}
