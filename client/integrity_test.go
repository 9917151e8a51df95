package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
)

// auditEvents stores n audit events numbered from first, an hour old.
func auditEvents(t *testing.T, srv *servertest.Server, first, n int) {
	t.Helper()
	start := time.Now().UTC().Add(-time.Hour)
	for i := first; i < first+n; i++ {
		srv.Append(t, &events.AuditEvent{UUID: fmt.Sprintf("AU%024d", i), Timestamp: start.Add(time.Duration(i) * time.Millisecond),
			ActorUUID: "ACTOR0000000000000000000AB", Action: "join", ObjectType: "user", ObjectUUID: events.Str(fmt.Sprintf("OBJ%023d", i))})
	}
}

// allAudit is every audit event the server serves, as bytes.
func allAudit(t *testing.T, c *client.Client) []json.RawMessage {
	t.Helper()
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	p, err := c.RawPage(t.Context(), events.AuditEvents, client.FromReset(events.ResetCursor{Limit: 1000, StartTime: &start}))
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// TestWitness: against a real server, events are checked against the
// newest signed head, those after it are reported as not covered until
// the next head, each new head must extend the last one accepted, and
// heads signed with another key, or events whose stored bytes were
// changed, fail.
func TestWitness(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ctx := t.Context()
	c, err := client.New(srv.URL, srv.Token)
	if err != nil {
		t.Fatal(err)
	}
	keys := srv.TreeKeys(t)
	auditEvents(t, srv, 0, 5)
	if _, err := c.TreeHead(ctx, events.AuditEvents, keys); err == nil {
		t.Fatal("TreeHead before any head is signed: no error")
	}
	w := client.NewWitness(keys)
	if err := w.CheckEvents(ctx, c, events.AuditEvents, allAudit(t, c)); !errors.Is(err, client.ErrNotCovered) {
		t.Fatalf("CheckEvents before any head is signed = %v, want ErrNotCovered", err)
	}
	if _, err := srv.Heads.Sign(ctx, srv.Account, events.AuditEvents); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckEvents(ctx, c, events.AuditEvents, allAudit(t, c)); err != nil {
		t.Fatalf("CheckEvents: %v", err)
	}
	heads := w.Heads()
	if len(heads) != 1 || heads[0].TreeSize != 5 || heads[0].Account != srv.Account || heads[0].Feature != events.AuditEvents {
		t.Fatalf("Heads = %+v, want one of size 5", heads)
	}

	// Events after the newest head: not covered until the next one,
	// which must extend the first.
	auditEvents(t, srv, 5, 4)
	items := allAudit(t, c)
	err = w.CheckEvents(ctx, c, events.AuditEvents, items)
	if !errors.Is(err, client.ErrNotCovered) || !strings.Contains(err.Error(), "AU000000000000000000000005") {
		t.Fatalf("CheckEvents past the head = %v, want ErrNotCovered naming the sixth event", err)
	}
	if _, err := srv.Heads.Sign(ctx, srv.Account, events.AuditEvents); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckEvents(ctx, c, events.AuditEvents, items); err != nil {
		t.Fatalf("CheckEvents after the next head: %v", err)
	}
	if h := w.Heads(); h[0].TreeSize != 9 {
		t.Fatalf("head accepted: size %d, want 9", h[0].TreeSize)
	}

	// A witness that holds a head with another past refuses the server's.
	forged := heads[0]
	forged.Root[0] ^= 1
	_, err = client.NewWitness(keys, forged).Head(ctx, c, events.AuditEvents)
	if !errors.Is(err, client.ErrMismatch) || !strings.Contains(err.Error(), "does not extend that of size 5") {
		t.Fatalf("Head after a forged head = %v, want ErrMismatch", err)
	}

	// Another key under the same key id.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := other.PublicKey.Bytes() // 0x04 ‖ x ‖ y
	jwks := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":%q,"x":%q,"y":%q}]}`, heads[0].KeyID,
		base64.RawURLEncoding.EncodeToString(pt[1:33]), base64.RawURLEncoding.EncodeToString(pt[33:]))
	wrong, err := client.ParseTreeKeys([]byte(jwks))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TreeHead(ctx, events.AuditEvents, wrong); !errors.Is(err, client.ErrMismatch) || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("TreeHead with another key = %v, want ErrMismatch", err)
	}
	if _, err := c.TreeHead(ctx, events.AuditEvents, client.TreeKeys{"nope": &other.PublicKey}); !errors.Is(err, client.ErrMismatch) {
		t.Fatalf("TreeHead without its key = %v, want ErrMismatch", err)
	}

	// One byte of a stored event changed: the server serves the changed
	// bytes, whose hash is not the leaf it committed.
	srv.Tamper(t, events.AuditEvents, "AU000000000000000000000003", "OBJ00000000000000000000003", "OBJ00000000000000000000004")
	err = w.CheckEvents(ctx, c, events.AuditEvents, allAudit(t, c))
	if !errors.Is(err, client.ErrMismatch) || !strings.Contains(err.Error(), "AU000000000000000000000003 (leaf 3): the bytes received are not those the server committed") {
		t.Fatalf("CheckEvents after tampering = %v, want ErrMismatch naming the event", err)
	}

	v1, err := client.New(srv.URL, srv.Token, client.WithAPIVersion(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CheckEvents(ctx, v1, events.AuditEvents, items); err == nil || !strings.Contains(err.Error(), "need the /api/v2 renderings") {
		t.Fatalf("CheckEvents with a v1 client = %v, want an error", err)
	}
}

func TestParseTreeKeysErrors(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"keys":[]}`, `{"keys":[{"kty":"RSA","kid":"a"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"AA","y":"AA"}]}`} {
		if _, err := client.ParseTreeKeys([]byte(in)); err == nil {
			t.Errorf("ParseTreeKeys(%q): no error", in)
		}
	}
}
