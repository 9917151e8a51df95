package integrity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// HeadType is the typ header of a signed tree head's JWS.
const HeadType = "logbook-tree-head"

// HeadPayload is what a signed tree head signs: the JWS payload, JSON.
type HeadPayload struct {
	Account string         `json:"account_uuid"`
	Stream  events.Feature `json:"stream"`
	Size    int64          `json:"tree_size"`
	// Root is the root hash in standard base64.
	Root string `json:"root_hash"`
	// Timestamp is when the head was signed, in Unix milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// SignerConfig holds a Signer's optional settings.
type SignerConfig struct {
	// KEK, when set, keeps the tree keys encrypted at rest, as it does
	// the token keys (token.Config.KEK).
	KEK *token.KEK
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives key-management messages; discarded when nil.
	Logger *slog.Logger
}

// Signer signs tree heads with the server's tree keys (ES256, rotatable;
// old keys are kept to check the heads they signed) and checks them.
type Signer struct {
	st   store.Store
	keys *token.Service
	now  func() time.Time
}

// treeKeys is the store with its signing-key operations on the tree keys,
// so that token.Service manages them (generation, rotation, the KEK).
type treeKeys struct{ store.Store }

func (t treeKeys) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	return t.AddTreeKey(ctx, k)
}

func (t treeKeys) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return t.TreeKeys(ctx)
}

func (t treeKeys) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	return t.ReplaceTreeKeyPrivate(ctx, id, old, new)
}

// NewSigner returns a Signer over st.
func NewSigner(st store.Store, cfg SignerConfig) *Signer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Signer{st: st, now: cfg.Now,
		keys: token.New(treeKeys{st}, "", token.Config{KEK: cfg.KEK, Now: cfg.Now, Logger: cfg.Logger})}
}

// EnsureKey makes a tree key if there is none (and, with a KEK, seals the
// keys stored in plaintext).
func (s *Signer) EnsureKey(ctx context.Context) error { return s.keys.EnsureKey(ctx) }

// RotateKey makes a new active tree key; the old ones keep checking the
// heads they signed.
func (s *Signer) RotateKey(ctx context.Context) (store.SigningKey, error) {
	return s.keys.RotateKey(ctx)
}

// PublicKeys returns every tree key's public key as a JSON Web Key Set,
// for checking heads offline.
func (s *Signer) PublicKeys(ctx context.Context) ([]byte, error) {
	keys, err := s.keys.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return token.JWKS(keys)
}

// Sign signs the stream's current head and stores it. A head of that size
// already signed (by another server, say) is returned as stored.
func (s *Signer) Sign(ctx context.Context, account string, feature events.Feature) (store.SignedHead, error) {
	h, err := s.st.TreeHead(ctx, account, feature)
	if err != nil {
		return store.SignedHead{}, err
	}
	f, built, err := frontierOf(h)
	if err != nil {
		return store.SignedHead{}, err
	}
	if !built {
		return store.SignedHead{}, fmt.Errorf("%s %s: the tree is not built yet (the stream's next append builds it)", account, feature)
	}
	root := f.Root()
	now := s.now().UTC().Truncate(time.Millisecond)
	p := HeadPayload{Account: account, Stream: feature, Size: h.Size, Root: base64.StdEncoding.EncodeToString(root[:]), Timestamp: now.UnixMilli()}
	payload, err := json.Marshal(p)
	if err != nil {
		return store.SignedHead{}, err
	}
	jws, kid, err := s.keys.SignJWS(ctx, HeadType, payload)
	if err != nil {
		return store.SignedHead{}, fmt.Errorf("sign tree head: %w", err)
	}
	sh := store.SignedHead{Size: h.Size, Root: root[:], SignedAt: now, KeyID: kid, JWS: jws}
	err = s.st.AddSignedHead(ctx, account, feature, sh)
	if errors.Is(err, store.ErrConflict) {
		return s.head(ctx, account, feature, h.Size)
	}
	return sh, err
}

// head returns the stream's signed head of size n.
func (s *Signer) head(ctx context.Context, account string, feature events.Feature, n int64) (store.SignedHead, error) {
	hs, err := s.st.SignedHeads(ctx, account, feature)
	if err != nil {
		return store.SignedHead{}, err
	}
	for _, h := range hs {
		if h.Size == n {
			return h, nil
		}
	}
	return store.SignedHead{}, store.ErrNotFound
}

// SignDue signs the head of every stream that grew by at least every
// events since its last signed head, or grew at all and whose last signed
// head is older than interval (or that has none), and returns how many it
// signed.
func (s *Signer) SignDue(ctx context.Context, every int64, interval time.Duration) (int, error) {
	streams, err := s.st.Streams(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range streams {
		hs, err := s.st.SignedHeads(ctx, sc.Account, sc.Feature)
		if err != nil {
			return n, err
		}
		due := sc.N > 0 && len(hs) == 0
		if len(hs) > 0 {
			last := hs[len(hs)-1]
			grew := sc.N - last.Size
			due = grew > 0 && (grew >= every || s.now().Sub(last.SignedAt) >= interval)
		}
		if !due {
			continue
		}
		if _, err := s.Sign(ctx, sc.Account, sc.Feature); err != nil {
			return n, fmt.Errorf("%s %s: %w", sc.Account, sc.Feature, err)
		}
		n++
	}
	return n, nil
}

// Check checks that h is a head of the stream signed by a tree key: its
// JWS verifies and says what h says.
func (s *Signer) Check(ctx context.Context, account string, feature events.Feature, h store.SignedHead) error {
	payload, kid, err := s.keys.VerifyJWS(ctx, h.JWS)
	if err != nil {
		return fmt.Errorf("signed head of size %d: %w", h.Size, err)
	}
	var p HeadPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("signed head of size %d: %w", h.Size, err)
	}
	root := base64.StdEncoding.EncodeToString(h.Root)
	if p.Account != account || p.Stream != feature || p.Size != h.Size || p.Root != root || kid != h.KeyID || p.Timestamp != h.SignedAt.UnixMilli() {
		return fmt.Errorf("signed head of size %d: the signature is over another head (%+v)", h.Size, p)
	}
	return nil
}

// frontierOf is the frontier of a stored head; built is false when the
// store has not built it yet.
func frontierOf(h store.TreeHead) (f merkle.Frontier, built bool, err error) {
	if h.Frontier == nil && h.Size != 0 {
		return f, false, nil
	}
	f, err = merkle.NewFrontier(uint64(h.Size), h.Frontier)
	return f, err == nil, err
}
