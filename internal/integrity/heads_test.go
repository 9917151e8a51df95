package integrity_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/testenv"
)

// signedStream fills a stream and signs its head at sizes 10 and 20, the
// first with a key rotated away before the second.
func signedStream(t *testing.T, st store.Store, clock *testenv.Clock) (*integrity.Signer, string, []int64) {
	t.Helper()
	signer := integrity.NewSigner(st, integrity.SignerConfig{Now: clock.Now})
	if err := signer.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	account := events.NewID()
	seqs := fill(t, st, account, func(n int) {
		if n != 10 && n != 20 {
			return
		}
		if n == 20 {
			if _, err := signer.RotateKey(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Minute)
		h, err := signer.Sign(t.Context(), account, feature)
		if err != nil || h.Size != int64(n) {
			t.Fatalf("Sign at %d: %+v, %v", n, h, err)
		}
	})
	return signer, account, seqs
}

func TestSignedHeads(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, tm := b.open(t)
			ctx := t.Context()
			clock := testenv.NewClock(t0)
			signer, account, seqs := signedStream(t, st, clock)

			hs, err := st.SignedHeads(ctx, account, feature)
			if err != nil || len(hs) != 2 || hs[0].KeyID == hs[1].KeyID {
				t.Fatalf("signed heads %+v, %v: want two, by two keys", hs, err)
			}
			// Signing a size already signed returns the head stored.
			again, err := signer.Sign(ctx, account, feature)
			if err != nil || again.JWS != hs[1].JWS {
				t.Fatalf("signing size 20 again: %v", err)
			}
			var p integrity.HeadPayload
			if err := json.Unmarshal(payloadOf(t, hs[1].JWS), &p); err != nil || p.Size != 20 || p.Account != account || p.Stream != feature {
				t.Fatalf("payload %+v, %v", p, err)
			}
			jwks, err := signer.PublicKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var set struct{ Keys []struct{ Kid string } }
			if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) != 2 {
				t.Fatalf("public keys %s, %v: want 2", jwks, err)
			}
			res, err := integrity.Verify(ctx, current(st, tm), signer, account, feature)
			if err != nil || len(res) != 1 || res[0].Problem != nil || res[0].Signed != 2 {
				t.Fatalf("untouched: %+v, %v", res, err)
			}

			// A forger who rewrites an event with its leaf and the stored
			// head is caught by the signed heads: leaf 15 lies between the
			// heads of size 10 and 20.
			rewrite(t, st, tm, account, seqs, 15)
			res, err = integrity.Verify(ctx, current(st, tm), nil, account, feature)
			if err != nil || res[0].Problem != nil {
				t.Fatalf("without the signed heads the rewrite is not seen: %+v, %v", res[0].Problem, err)
			}
			res, err = integrity.Verify(ctx, current(st, tm), signer, account, feature)
			if err != nil {
				t.Fatal(err)
			}
			got := res[0].Problem
			if got == nil || got.Kind != integrity.SignedHeadMismatch || got.Position != seqs[10] || got.Leaf != 10 {
				t.Fatalf("rewritten leaf 15: %v; want a signed head mismatch from leaf 10 (position %d)", got, seqs[10])
			}
			t.Log(got)

			// A signature that does not verify.
			tm.exec(t, `UPDATE tree_heads SET root = $1 WHERE size = 10`, make([]byte, 32))
			res, err = integrity.Verify(ctx, current(st, tm), signer, account, feature)
			if err != nil || res[0].Problem == nil || res[0].Problem.Kind != integrity.SignedHeadMismatch || res[0].Problem.Leaf != 10 {
				t.Fatalf("a head changed after signing: %+v, %v", res[0].Problem, err)
			}
		})
	}
}

// rewrite replaces the event of leaf i with a forged one, its leaf hash
// and the stream's stored head: all but the signature.
func rewrite(t *testing.T, st store.Store, tm tamperer, account string, seqs []int64, i int) {
	t.Helper()
	forged := record(50)
	leaf := merkle.LeafHash(forged.V2)
	tm.exec(t, `UPDATE {events} SET v2 = $2, leaf = $3 WHERE {stream} seq = $1`, seqs[i], forged.V2, leaf[:])
	var f merkle.Frontier
	if _, err := current(st, tm).ReadTree(t.Context(), account, feature, func(r store.TreeRow) error {
		f.Append(merkle.Hash(r.Leaf))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tm.exec(t, `UPDATE streams SET tree_frontier = $1 WHERE feature = 'auditevents'`, f.Bytes())
}

func payloadOf(t *testing.T, jws string) []byte {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("JWS %q", jws)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignDue: heads are signed when a stream grew by every events, or
// grew at all since a head older than interval.
func TestSignDue(t *testing.T) {
	st, _ := openSQLite(t)
	ctx := t.Context()
	clock := testenv.NewClock(t0)
	signer := integrity.NewSigner(st, integrity.SignerConfig{Now: clock.Now})
	if err := signer.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	account := events.NewID()
	appendN := func(from, n int) {
		var rs []store.Record
		for i := range n {
			rs = append(rs, record(from+i))
		}
		if _, err := st.AppendEvents(ctx, account, feature, rs); err != nil {
			t.Fatal(err)
		}
	}
	due := func(want int) {
		t.Helper()
		n, err := signer.SignDue(ctx, 5, time.Hour)
		if err != nil || n != want {
			t.Fatalf("SignDue: %d, %v; want %d", n, err, want)
		}
	}
	due(0) // no stream
	appendN(0, 2)
	due(1) // never signed
	due(0)
	appendN(2, 3)
	due(0) // grew by 3 < 5, head 0s old
	appendN(5, 2)
	due(1) // grew by 5
	appendN(7, 1)
	clock.Advance(59 * time.Minute)
	due(0)
	clock.Advance(time.Minute)
	due(1) // an hour since the last head
	clock.Advance(2 * time.Hour)
	due(0) // older, but the stream did not grow
	if _, err := signer.Sign(ctx, account, events.ItemUsages); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signing a stream that does not exist: %v", err)
	}
}
