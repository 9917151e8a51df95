package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// TestListQueryValidate: each bad field is refused with an error naming
// it; a good query passes.
func TestListQueryValidate(t *testing.T) {
	good := store.ListQuery{Account: "a", Feature: events.AuditEvents, Limit: 1}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v, want nil", good, err)
	}
	for _, tt := range []struct {
		field  string
		change func(*store.ListQuery)
	}{
		{"account", func(q *store.ListQuery) { q.Account = "" }},
		{"feature", func(q *store.ListQuery) { q.Feature = "nosuch" }},
		{"limit", func(q *store.ListQuery) { q.Limit = 0 }},
		{"after", func(q *store.ListQuery) { q.After = -1 }},
	} {
		q := good
		tt.change(&q)
		if err := q.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.field+": ") {
			t.Errorf("Validate with a bad %s = %v, want an error naming it", tt.field, err)
		}
	}
}

// TestCheckAppend: the stream's names are checked before the records.
func TestCheckAppend(t *testing.T) {
	ok := store.Record{UUID: "u", Time: time.Unix(1, 0), V2: []byte("{}")}
	for _, tt := range []struct {
		account string
		feature events.Feature
		recs    []store.Record
		want    string
	}{
		{"a", events.ItemUsages, []store.Record{ok}, ""},
		{"a", events.ItemUsages, nil, ""},
		{"", events.ItemUsages, []store.Record{{}}, "account: "},
		{"a", "nosuch", []store.Record{{}}, "feature: "},
		{"a", events.ItemUsages, []store.Record{ok, {UUID: "v", Time: ok.Time}}, "record 1 (v): v2: "},
	} {
		err := store.CheckAppend(tt.account, tt.feature, tt.recs)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("CheckAppend(%q, %q, %d records) = %v, want %q", tt.account, tt.feature, len(tt.recs), err, tt.want)
		}
	}
}
