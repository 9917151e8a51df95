package integrity_test

import (
	"errors"
	"testing"

	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestProofs: inclusion and consistency proofs from the store check
// against the signed heads, on both backends, after retention too.
func TestProofs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := t.Context()
			signer, account, _ := signedStream(t, st, testenv.NewClock(t0))
			hs, err := st.SignedHeads(ctx, account, feature)
			if err != nil {
				t.Fatal(err)
			}
			latest, err := signer.LatestHead(ctx, account, feature)
			if err != nil || latest.Size != 20 {
				t.Fatalf("LatestHead: %+v, %v", latest, err)
			}
			if _, err := st.DeleteEventsBefore(ctx, t0.Add(3*60e9)); err != nil {
				t.Fatal(err)
			}
			for _, h := range hs {
				for i := range int(h.Size) {
					rec := record(i)
					p, err := signer.Inclusion(ctx, account, feature, rec.UUID, h.Size)
					if i < 3 {
						// Pruned: its uuid is gone with it.
						if !errors.Is(err, integrity.ErrOutside) {
							t.Fatalf("inclusion of pruned event %d: %v", i, err)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if p.LeafIndex != int64(i) || p.LeafHash != merkle.LeafHash(rec.V2) {
						t.Fatalf("event %d: leaf %d", i, p.LeafIndex)
					}
					if err := merkle.VerifyInclusion(uint64(i), uint64(h.Size), merkle.LeafHash(rec.V2), p.Path, merkle.Hash(h.Root)); err != nil {
						t.Fatalf("event %d in head %d: %v", i, h.Size, err)
					}
				}
			}
			c, err := signer.Consistency(ctx, account, feature, hs[0].Size, hs[1].Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := merkle.VerifyConsistency(uint64(hs[0].Size), uint64(hs[1].Size), merkle.Hash(hs[0].Root), merkle.Hash(hs[1].Root), c.Path); err != nil {
				t.Fatal(err)
			}
			if _, err := signer.Inclusion(ctx, account, feature, record(15).UUID, 10); !errors.Is(err, integrity.ErrOutside) {
				t.Fatalf("an event after the size: %v", err)
			}
			if _, err := signer.Consistency(ctx, account, feature, 10, 21); !errors.Is(err, integrity.ErrOutside) {
				t.Fatalf("a size beyond the tree: %v", err)
			}
		})
	}
}
