package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/proof"
)

// A Logbook server keeps a Merkle tree per stream, signs its heads and
// proves that an event is in a tree and that a later tree extends an
// earlier one (docs/integrity.md). The calls below check what a client
// received against those signed heads; 1Password's Events API has no
// such endpoints.

// ErrMismatch is the error of a check that failed: a head whose
// signature does not verify, an event whose bytes are not the leaf the
// server committed, a proof that does not hold, a head that does not
// extend the one seen before. errors.Is finds it in every such error.
var ErrMismatch = errors.New("integrity check failed")

// ErrNotCovered is the error of an event the newest signed head does not
// cover yet: it was stored after that head was signed. Check it again
// after the server signs the next head (serve --tree-head-interval).
var ErrNotCovered = errors.New("event not yet under a signed tree head")

// headType is the typ header of a signed tree head's JWS.
const headType = "logbook-tree-head"

// TreeKeys are the public keys of a Logbook server's tree keys, by key
// id: what checks its signed heads. ParseTreeKeys reads the JWKS that
// `logbook keys tree-public` writes.
type TreeKeys map[string]*ecdsa.PublicKey

// ParseTreeKeys reads a JSON Web Key Set of P-256 keys.
func ParseTreeKeys(jwks []byte) (TreeKeys, error) {
	var set struct {
		Keys []struct {
			Kty, Crv, X, Y, Kid string
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("tree keys: %w", err)
	}
	keys := TreeKeys{}
	for i, k := range set.Keys {
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if k.Kty != "EC" || k.Crv != "P-256" || k.Kid == "" || errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("tree keys: key %d: want an EC P-256 key with a kid", i)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("tree keys: key %d: %w", i, err)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("tree keys: no key")
	}
	return keys, nil
}

// SignedHead is a stream's signed tree head whose signature the client
// checked.
type SignedHead struct {
	Account  string
	Feature  events.Feature
	TreeSize int64
	Root     proof.Hash
	// Timestamp is when the server signed it.
	Timestamp time.Time
	KeyID     string
	// JWS is the signature, a compact JWS over the head.
	JWS string
}

// headPayload is what a head's JWS signs.
type headPayload struct {
	Account   string         `json:"account_uuid"`
	Stream    events.Feature `json:"stream"`
	Size      int64          `json:"tree_size"`
	Root      string         `json:"root_hash"`
	Timestamp int64          `json:"timestamp"`
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, args...))
}

// integrityPath is the path of one of the stream's integrity endpoints.
func integrityPath(feature events.Feature, what string, q url.Values) string {
	return "/api/v2/integrity/" + string(feature) + "/" + what + "?" + q.Encode()
}

// TreeHead fetches the stream's newest signed head and checks its
// signature with keys. A *Error with status 404 means no head is signed
// yet.
func (c *Client) TreeHead(ctx context.Context, feature events.Feature, keys TreeKeys) (SignedHead, error) {
	r, err := doJSON[struct {
		TreeSize  int64  `json:"tree_size"`
		Timestamp int64  `json:"timestamp"`
		RootHash  string `json:"root_hash"`
		KeyID     string `json:"key_id"`
		Signature string `json:"signature"`
	}](ctx, c, "GET", integrityPath(feature, "head", nil), nil, string(feature)+" tree head", "reply")
	if err != nil {
		return SignedHead{}, err
	}
	h, err := VerifyHead(r.Signature, keys)
	if err != nil {
		return SignedHead{}, fmt.Errorf("%s tree head: %w", feature, err)
	}
	if h.Feature != feature || h.TreeSize != r.TreeSize || b64(h.Root) != r.RootHash || h.Timestamp.UnixMilli() != r.Timestamp || h.KeyID != r.KeyID {
		return SignedHead{}, mismatch("%s tree head: the signature is over another head (%s, size %d)", feature, h.Feature, h.TreeSize)
	}
	return h, nil
}

func b64(h proof.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// VerifyHead checks a signed head's compact JWS (ES256, typ
// logbook-tree-head, signed by one of keys) and returns the head it
// signs: what a client that kept heads (SignedHead.JWS) reads them back
// with.
func VerifyHead(jws string, keys TreeKeys) (SignedHead, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return SignedHead{}, mismatch("the signature is not a compact JWS")
	}
	var h struct{ Alg, Kid, Typ string }
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return SignedHead{}, mismatch("the signature's header does not parse")
	}
	if h.Alg != "ES256" || h.Typ != headType {
		return SignedHead{}, mismatch("the signature's header is %s %s, want ES256 %s", h.Alg, h.Typ, headType)
	}
	pub, ok := keys[h.Kid]
	if !ok {
		return SignedHead{}, mismatch("signed with key %s, which is not among the tree keys given", h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return SignedHead{}, mismatch("the signature is not a 64-byte ES256 signature")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return SignedHead{}, mismatch("the signature does not verify with key %s", h.Kid)
	}
	var p headPayload
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &p) != nil {
		return SignedHead{}, mismatch("the signed payload does not parse")
	}
	root, err := hashOf(p.Root)
	if err != nil {
		return SignedHead{}, mismatch("the signed root: %v", err)
	}
	return SignedHead{Account: p.Account, Feature: p.Stream, TreeSize: p.Size, Root: root,
		Timestamp: time.UnixMilli(p.Timestamp).UTC(), KeyID: h.Kid, JWS: jws}, nil
}

func hashOf(s string) (proof.Hash, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != proof.HashSize {
		return proof.Hash{}, fmt.Errorf("hash %q: not %d bytes of base64", s, proof.HashSize)
	}
	return proof.Hash(b), nil
}

func hashesOf(ss []string) ([]proof.Hash, error) {
	out := make([]proof.Hash, len(ss))
	for i, s := range ss {
		var err error
		if out[i], err = hashOf(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eventUUID is the uuid member of an event's bytes.
func eventUUID(event []byte) (string, error) {
	var uuid string
	err := EachField(event, func(key, v []byte) bool {
		if string(key) == "uuid" {
			json.Unmarshal(v, &uuid)
			return false
		}
		return true
	})
	if err == nil && uuid == "" {
		err = errors.New("no uuid")
	}
	return uuid, err
}

// CheckInclusion checks that event, an event's bytes as /api/v2 served
// them, is a leaf of the tree head signed: it fetches the inclusion proof
// of the event's uuid for the head's size, and checks that the leaf the
// server committed is the hash of these bytes and that the proof gives
// the head's root. ErrNotCovered when the event came after the head.
func (c *Client) CheckInclusion(ctx context.Context, head SignedHead, event []byte) error {
	uuid, err := eventUUID(event)
	if err != nil {
		return fmt.Errorf("%s inclusion: event: %w", head.Feature, err)
	}
	q := url.Values{"uuid": {uuid}, "size": {fmt.Sprint(head.TreeSize)}}
	r, err := doJSON[struct {
		LeafIndex int64    `json:"leaf_index"`
		TreeSize  int64    `json:"tree_size"`
		LeafHash  string   `json:"leaf_hash"`
		AuditPath []string `json:"audit_path"`
	}](ctx, c, "GET", integrityPath(head.Feature, "inclusion", q), nil, fmt.Sprintf("%s inclusion of %s", head.Feature, uuid), "reply")
	var ce *Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s event %s: %w (tree size %d)", head.Feature, uuid, ErrNotCovered, head.TreeSize)
	}
	if err != nil {
		return err
	}
	leaf := proof.LeafHash(event)
	committed, err := hashOf(r.LeafHash)
	if err != nil {
		return fmt.Errorf("%s inclusion of %s: %w", head.Feature, uuid, err)
	}
	if committed != leaf {
		return mismatch("%s event %s (leaf %d): the bytes received are not those the server committed", head.Feature, uuid, r.LeafIndex)
	}
	path, err := hashesOf(r.AuditPath)
	if err != nil {
		return fmt.Errorf("%s inclusion of %s: %w", head.Feature, uuid, err)
	}
	if r.TreeSize != head.TreeSize || r.LeafIndex < 0 {
		return mismatch("%s event %s: a proof for tree size %d, leaf %d, asked for size %d", head.Feature, uuid, r.TreeSize, r.LeafIndex, head.TreeSize)
	}
	if err := proof.VerifyInclusion(uint64(r.LeafIndex), uint64(head.TreeSize), leaf, path, head.Root); err != nil {
		return fmt.Errorf("%w: %s event %s: %w", ErrMismatch, head.Feature, uuid, err)
	}
	return nil
}

// CheckConsistency checks that the tree of head next extends that of
// head prev, of the same stream: nothing prev covered was changed since.
func (c *Client) CheckConsistency(ctx context.Context, prev, next SignedHead) error {
	if prev.Feature != next.Feature || prev.Account != next.Account {
		return mismatch("heads of two streams: %s %s and %s %s", prev.Account, prev.Feature, next.Account, next.Feature)
	}
	if next.TreeSize < prev.TreeSize {
		return mismatch("%s tree head of size %d after one of size %d", next.Feature, next.TreeSize, prev.TreeSize)
	}
	var path []proof.Hash
	if prev.TreeSize > 0 && prev.TreeSize < next.TreeSize {
		q := url.Values{"from": {fmt.Sprint(prev.TreeSize)}, "to": {fmt.Sprint(next.TreeSize)}}
		r, err := doJSON[struct {
			Consistency []string `json:"consistency"`
		}](ctx, c, "GET", integrityPath(next.Feature, "consistency", q), nil, string(next.Feature)+" consistency", "reply")
		if err != nil {
			return err
		}
		if path, err = hashesOf(r.Consistency); err != nil {
			return fmt.Errorf("%s consistency: %w", next.Feature, err)
		}
	}
	if err := proof.VerifyConsistency(uint64(prev.TreeSize), uint64(next.TreeSize), prev.Root, next.Root, path); err != nil {
		return fmt.Errorf("%w: %s tree of size %d does not extend that of size %d: %w", ErrMismatch, next.Feature, next.TreeSize, prev.TreeSize, err)
	}
	return nil
}

// Witness checks what a client receives against a Logbook server's
// signed heads, as a witness of them: it keeps, per stream, the newest
// head it accepted, and accepts a newer one only when its signature
// verifies and a consistency proof shows it extends that one. It is safe
// for concurrent use. Keep the heads (Heads) somewhere the server's
// operator cannot change them, and a later rewrite of the past, even
// re-signed with the tree key, fails the next consistency check.
type Witness struct {
	keys  TreeKeys
	mu    sync.Mutex
	heads map[events.Feature]SignedHead
}

// NewWitness returns a Witness that checks heads with keys, starting
// from heads already accepted (none: nil).
func NewWitness(keys TreeKeys, heads ...SignedHead) *Witness {
	w := &Witness{keys: keys, heads: map[events.Feature]SignedHead{}}
	for _, h := range heads {
		w.heads[h.Feature] = h
	}
	return w
}

// Heads returns the newest head accepted of each stream.
func (w *Witness) Heads() []SignedHead {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]SignedHead, 0, len(w.heads))
	for _, h := range w.heads {
		out = append(out, h)
	}
	return out
}

// Head fetches the stream's newest signed head, checks its signature and
// its consistency with the last head accepted, and accepts it.
func (w *Witness) Head(ctx context.Context, c *Client, feature events.Feature) (SignedHead, error) {
	h, err := c.TreeHead(ctx, feature, w.keys)
	if err != nil {
		return SignedHead{}, err
	}
	w.mu.Lock()
	prev, ok := w.heads[feature]
	w.mu.Unlock()
	if ok && prev.TreeSize == h.TreeSize && prev.Root == h.Root && prev.Account == h.Account {
		return prev, nil
	}
	if ok {
		if err := c.CheckConsistency(ctx, prev, h); err != nil {
			return SignedHead{}, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.heads[feature]; !ok || cur.TreeSize <= h.TreeSize {
		w.heads[feature] = h
	}
	return h, nil
}

// CheckEvents checks that each event, as bytes /api/v2 served for
// feature, is in the tree of the stream's newest signed head (accepted as
// Head does). It stops at the first event that fails: ErrMismatch, or
// ErrNotCovered for one stored after that head was signed (check again
// later). The client must read feature from /api/v2: v1 and v3 renderings
// are not the bytes the tree holds.
func (w *Witness) CheckEvents(ctx context.Context, c *Client, feature events.Feature, items []json.RawMessage) error {
	if c.version == 1 || (c.version == 3 && feature == events.AuditEvents) {
		return fmt.Errorf("%s: integrity checks need the /api/v2 renderings, the client reads API version %d", feature, c.version)
	}
	if len(items) == 0 {
		return nil
	}
	h, err := w.Head(ctx, c, feature)
	var ce *Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w: the server has no signed tree head (a Logbook server signs one within serve --tree-head-interval)", feature, ErrNotCovered)
	}
	if err != nil {
		return err
	}
	for _, ev := range items {
		if err := c.CheckInclusion(ctx, h, ev); err != nil {
			return err
		}
	}
	return nil
}
