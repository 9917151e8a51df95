package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/servertest"
)

func hashOf(t *testing.T, s string) merkle.Hash {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != merkle.HashSize {
		t.Fatalf("hash %q: %v", s, err)
	}
	return merkle.Hash(b)
}

func hashesOf(t *testing.T, ss []string) []merkle.Hash {
	out := make([]merkle.Hash, len(ss))
	for i, s := range ss {
		out[i] = hashOf(t, s)
	}
	return out
}

// TestIntegrityEndpoints: the signed head, and inclusion and consistency
// proofs that check, with merkle's verifiers, against the events as the
// v2 endpoint serves them.
func TestIntegrityEndpoints(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	ctx := t.Context()
	base := srv.URL + "/api/v2/integrity/auditevents"
	if r := do(t, "GET", base+"/head", srv.Token, ""); r.status != 404 {
		t.Fatalf("head before any: %d %s", r.status, r.body)
	}
	for i := range 5 {
		srv.Append(t, audit(i, t0.Add(time.Duration(i)*time.Second), srv.Account))
	}
	if _, err := srv.Heads.Sign(ctx, srv.Account, events.AuditEvents); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 12; i++ {
		srv.Append(t, audit(i, t0.Add(time.Duration(i)*time.Second), srv.Account))
	}
	if _, err := srv.Heads.Sign(ctx, srv.Account, events.AuditEvents); err != nil {
		t.Fatal(err)
	}

	r := do(t, "GET", base+"/head", srv.Token, "")
	var head struct {
		TreeSize  int64  `json:"tree_size"`
		Timestamp int64  `json:"timestamp"`
		RootHash  string `json:"root_hash"`
		KeyID     string `json:"key_id"`
		Signature string `json:"signature"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &head) != nil || head.TreeSize != 12 || head.Timestamp != t0.UnixMilli() {
		t.Fatalf("head: %d %s", r.status, r.body)
	}
	hs, err := srv.Store.SignedHeads(ctx, srv.Account, events.AuditEvents)
	if err != nil || hs[1].JWS != head.Signature || hs[1].KeyID != head.KeyID {
		t.Fatalf("the head served is not the one stored: %v", err)
	}
	if err := srv.Heads.Check(ctx, srv.Account, events.AuditEvents, hs[1]); err != nil {
		t.Fatal(err)
	}
	root := hashOf(t, head.RootHash)

	// The events as served, and their leaves.
	r = do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{"limit":100,"start_time":"2020-01-01T00:00:00Z"}`)
	var pg struct{ Items []json.RawMessage }
	if r.status != 200 || json.Unmarshal(r.body, &pg) != nil || len(pg.Items) != 12 {
		t.Fatalf("page: %d %s", r.status, r.body)
	}
	for i, item := range pg.Items {
		r := do(t, "GET", fmt.Sprintf("%s/inclusion?uuid=AU%024d", base, i), srv.Token, "")
		var p struct {
			LeafIndex int64    `json:"leaf_index"`
			TreeSize  int64    `json:"tree_size"`
			LeafHash  string   `json:"leaf_hash"`
			AuditPath []string `json:"audit_path"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("inclusion %d: %d %s", i, r.status, r.body)
		}
		leaf := merkle.LeafHash(item)
		if p.LeafIndex != int64(i) || p.TreeSize != 12 || hashOf(t, p.LeafHash) != leaf {
			t.Fatalf("inclusion %d: %s", i, r.body)
		}
		if err := merkle.VerifyInclusion(uint64(i), 12, leaf, hashesOf(t, p.AuditPath), root); err != nil {
			t.Fatalf("inclusion %d: %v", i, err)
		}
	}

	r = do(t, "GET", base+"/consistency?from=5&to=12", srv.Token, "")
	var c struct {
		First       int64    `json:"first"`
		Second      int64    `json:"second"`
		Consistency []string `json:"consistency"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &c) != nil || c.First != 5 || c.Second != 12 {
		t.Fatalf("consistency: %d %s", r.status, r.body)
	}
	if err := merkle.VerifyConsistency(5, 12, merkle.Hash(hs[0].Root), root, hashesOf(t, c.Consistency)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/head", "", 401},
		{"/head", srv.IssueToken(t, 0, events.ItemUsages), 401},
		{"/inclusion?uuid=NOPE", srv.Token, 404},
		{"/inclusion", srv.Token, 400},
		{"/inclusion?uuid=AU000000000000000000000001&size=x", srv.Token, 400},
		{"/inclusion?uuid=AU000000000000000000000011&size=5", srv.Token, 404},
		{"/consistency?from=5&to=13", srv.Token, 404},
		{"/consistency?to=12", srv.Token, 400},
	} {
		if r := do(t, "GET", base+tc.path, tc.token, ""); r.status != tc.status {
			t.Errorf("GET %s: %d %s, want %d", tc.path, r.status, r.body, tc.status)
		}
	}
	if r := do(t, "GET", srv.URL+"/api/v2/integrity/itemusages/head", srv.Token, ""); r.status != 404 {
		t.Errorf("head of a stream never signed: %d", r.status)
	}
}
