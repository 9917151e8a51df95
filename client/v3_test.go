package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
)

var v3t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func v3Audit(n int, t time.Time, account string) *events.AuditEvent {
	return &events.AuditEvent{
		UUID: fmt.Sprintf("AU%024d", n), Timestamp: t, ActorUUID: "OJQGU46KAPROEJLCK674RHSAY5",
		Action: "create", ObjectType: "satoken", ObjectUUID: events.Str("TOKENUUIDAAAAAAAAAAAAAAAAA"),
		ActorType: "user", AccountUUID: account,
	}
}

// v3Server is a Logbook server holding n audit events one minute apart,
// the last a minute before v3t0, and a sign-in attempt.
func v3Server(t *testing.T, n int) (*servertest.Server, *client.Client, *client.Client) {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Now: func() time.Time { return v3t0 }})
	var evs []any
	for i := range n {
		evs = append(evs, v3Audit(i, v3t0.Add(-time.Duration(n-i)*time.Minute), srv.Account))
	}
	evs = append(evs, &events.SignInAttempt{UUID: "SI000000000000000000000001", SessionUUID: "SE000000000000000000000001", Timestamp: v3t0.Add(-time.Minute),
		Country: "CA", Category: "success", Type: "credentials_ok", TargetUser: events.User{UUID: "OJQGU46KAPROEJLCK674RHSAY5", Name: "W", Email: "w@example.com"},
		Client: events.Client{AppName: "1Password for Web", IPAddress: "192.0.2.10"}})
	srv.Append(t, evs...)
	v2, err := client.New(srv.URL, srv.Token)
	if err != nil {
		t.Fatal(err)
	}
	v3, err := client.New(srv.URL, srv.Token, client.WithAPIVersion(3))
	if err != nil {
		t.Fatal(err)
	}
	return srv, v2, v3
}

// TestAuditEventsV3Seq: the v3 page iterator follows next_page_token
// through the window and yields each event once, in the v3 shape.
func TestAuditEventsV3Seq(t *testing.T) {
	_, c, _ := v3Server(t, 7)
	start := v3t0.Add(-24 * time.Hour)
	var got []string
	for ev, err := range c.AuditEventsV3Seq(context.Background(), events.V3Query{MaxPageSize: 2, StartTime: &start}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Action != "service-account.token.create" || len(ev.Targets) != 1 || ev.Targets[0].UUID != "TOKENUUIDAAAAAAAAAAAAAAAAA" {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.UUID)
	}
	if len(got) != 7 || got[0] != fmt.Sprintf("AU%024d", 0) || got[6] != fmt.Sprintf("AU%024d", 6) {
		t.Errorf("events %v", got)
	}
	p, err := c.AuditEventsV3(context.Background(), events.V3Query{StartTime: &v3t0})
	if err != nil || len(p.AuditEvents) != 0 || p.AuditEvents == nil || p.NextPageToken != "" {
		t.Errorf("empty window: %+v, %v", p, err)
	}
}

// TestRawPageV3: a version 3 client reads audit events from the v3 beta
// as cursor pages: has_more while the server hands out page tokens, then a
// cursor that polls after the last event's insert_time and so picks up a
// new event once; other features still come from v2.
func TestRawPageV3(t *testing.T) {
	srv, _, c := v3Server(t, 5)
	ctx := context.Background()
	start := v3t0.Add(-24 * time.Hour)
	p, err := c.RawPage(ctx, events.AuditEvents, client.FromReset(events.ResetCursor{Limit: 2, StartTime: &start}))
	var seen []string
	for ; err == nil; p, err = c.RawPage(ctx, events.AuditEvents, client.FromCursor(p.Cursor)) {
		for _, it := range p.Items {
			var ev events.AuditEventV3
			if err := json.Unmarshal(it, &ev); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, ev.UUID)
		}
		if len(p.Items) > 2 || !strings.HasPrefix(p.Cursor, "v3.2.") {
			t.Fatalf("page of %d with cursor %q", len(p.Items), p.Cursor)
		}
		if !p.HasMore {
			break
		}
	}
	if err != nil || len(seen) != 5 {
		t.Fatalf("read %v, %v", seen, err)
	}
	end := p.Cursor
	if !strings.Contains(end, ".a.") {
		t.Fatalf("cursor after the window %q does not poll after the last insert_time", end)
	}
	again, err := c.RawPage(ctx, events.AuditEvents, client.FromCursor(end))
	if err != nil || len(again.Items) != 0 || again.HasMore || again.Cursor != end {
		t.Fatalf("drained poll: %+v, %v", again, err)
	}
	srv.Append(t, v3Audit(99, v3t0.Add(-time.Second), srv.Account))
	next, err := c.RawPage(ctx, events.AuditEvents, client.FromCursor(end))
	if err != nil || len(next.Items) != 1 || !strings.Contains(string(next.Items[0]), fmt.Sprintf("AU%024d", 99)) || next.Cursor == end {
		t.Fatalf("poll after a new event: %+v, %v", next, err)
	}
	if last, err := c.RawPage(ctx, events.AuditEvents, client.FromCursor(next.Cursor)); err != nil || len(last.Items) != 0 {
		t.Fatalf("the new event came twice: %+v, %v", last, err)
	}
	if _, err := c.RawPage(ctx, events.AuditEvents, client.FromCursor("not-v3")); err == nil || !strings.Contains(err.Error(), "not a v3 position") {
		t.Errorf("foreign cursor: %v", err)
	}
	si, err := c.RawPage(ctx, events.SignInAttempts, client.FromReset(events.ResetCursor{StartTime: &start}))
	if err != nil || len(si.Items) != 1 || strings.HasPrefix(si.Cursor, "v3.") {
		t.Errorf("sign-in attempts through a version 3 client: %+v, %v", si, err)
	}
}

func TestSplitPageV3(t *testing.T) {
	for _, tc := range []struct {
		body  string
		bad   bool
		err   string // a substring of the error when bad
		items int
		token string
	}{
		{body: `{"audit_events":[]}`},
		{body: `{"audit_events":null}`},
		{body: `{"audit_events":[{"uuid":"A"},{"uuid":"B"}],"next_page_token":"tok","extra":{"x":[1]}}`, items: 2, token: "tok"},
		{body: ` {"next_page_token":null, "audit_events":[{}]} `, items: 1},
		{body: `{"audit_events":[{}],"audit_events":null}`}, // the last wins, as in encoding/json
		{body: `{}`, bad: true, err: "no audit_events"},
		{body: `[]`, bad: true, err: "not a JSON object"},
		{body: `{"audit_events":{}}`, bad: true, err: "not an array"},
		{body: `{"audit_events":[1]}`, bad: true, err: "not an object"},
		{body: `{"audit_events":[{"a":1}`, bad: true},
		{body: `{"audit_events":[],"next_page_token":5}`, bad: true, err: "next_page_token"},
	} {
		p, err := client.SplitPageV3([]byte(tc.body))
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want one containing %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || len(p.AuditEvents) != tc.items || p.NextPageToken != tc.token || p.AuditEvents == nil {
			t.Errorf("%s: %+v, %v", tc.body, p, err)
		}
	}
}
