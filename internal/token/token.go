// Package token issues and verifies Events API bearer tokens: ES256 JWTs
// shaped like 1Password's (spec §10), signed by keys kept in the store.
//
// The store keeps a token's metadata and the SHA-256 of the token string,
// never the token. Every verification checks the signature (ES256 only:
// "none" and HMAC are refused before any key is looked up), the key id, the
// audience, expiry and revocation; the caller then checks the feature.
//
// Signing keys may be kept encrypted at rest with a key-encryption key
// (KEK, Config.KEK): see kek.go for the envelope.
package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/store"
)

// Verification failures. All of them are a 401 on the wire.
var (
	ErrMalformed = errors.New("token is malformed")
	ErrSignature = errors.New("token signature is invalid")
	ErrUnknown   = errors.New("token is not known to this server")
	ErrAudience  = errors.New("token is for another audience")
	ErrExpired   = errors.New("token has expired")
	ErrRevoked   = errors.New("token has been revoked")
	ErrFeature   = errors.New("token lacks the feature")
	// ErrUnknownKey is a token signed by a key (kid) this server does not
	// hold; it is also an ErrSignature.
	ErrUnknownKey = fmt.Errorf("%w: signing key is unknown", ErrSignature)
)

// DefaultIssuer is the iss claim of tokens, as 1Password's.
const DefaultIssuer = "com.1password.b5"

// Claims are the claims of an Events API token, in the order they are
// encoded.
type Claims struct {
	AccountUUID string           `json:"1password.com/auuid"`
	Features    []events.Feature `json:"1password.com/fts"`
	Audience    []string         `json:"aud"`
	Subject     string           `json:"sub"`
	Issuer      string           `json:"iss"`
	IssuedAt    int64            `json:"iat"`
	ID          string           `json:"jti"`
	ExpiresAt   int64            `json:"exp,omitempty"`
}

// Stores is what the token service needs of the store.
type Stores interface {
	store.KeyStore
	store.IntegrationStore
}

// Config holds the optional settings of a Service.
type Config struct {
	// Issuer is the iss claim; DefaultIssuer when empty.
	Issuer string
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives key-management messages; discarded when nil.
	Logger *slog.Logger
	// AlsoAccept lists audiences besides the service's own that Verify
	// accepts: those of public URLs the server had before, so that the
	// tokens issued for them keep working. Tokens are only issued for the
	// service's own audience.
	AlsoAccept []string
	// KEK, when set, encrypts signing keys at rest: new keys are stored
	// sealed with it, and EnsureKey seals those stored in plaintext. Nil
	// stores new keys in plaintext; keys already sealed then do not open.
	KEK *KEK
}

// Service issues and verifies tokens for one audience (host[:port]).
type Service struct {
	st       Stores
	audience string
	issuer   string
	now      func() time.Time
	log      *slog.Logger
	kek      *KEK

	mu   sync.Mutex
	keys map[string]*ecdsa.PrivateKey // by kid
	// verified caches tokens whose signature was checked, by SHA-256 of
	// the token string, so a hot path pays ECDSA once per token. Expiry and
	// revocation are still checked on every request.
	verified map[[32]byte]Claims
	// used holds when each token's last use was last written.
	used map[string]time.Time
	// alsoAccept holds Config.AlsoAccept.
	alsoAccept map[string]bool
}

// New returns a Service for tokens whose aud is audience.
func New(st Stores, audience string, cfg Config) *Service {
	s := &Service{st: st, audience: audience, issuer: cfg.Issuer, now: cfg.Now, log: cfg.Logger, kek: cfg.KEK,
		keys: map[string]*ecdsa.PrivateKey{}, verified: map[[32]byte]Claims{}, used: map[string]time.Time{}}
	if s.issuer == "" {
		s.issuer = DefaultIssuer
	}
	if len(cfg.AlsoAccept) > 0 {
		s.alsoAccept = map[string]bool{}
		for _, a := range cfg.AlsoAccept {
			s.alsoAccept[a] = true
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Audience returns the aud claim the service issues and accepts.
func (s *Service) Audience() string { return s.audience }

// EnsureKey readies the stored signing keys and makes an active one if
// there is none. First every stored key must open: a key sealed at rest
// needs the KEK it was sealed with (errors wrap ErrKEKNeeded or ErrKEKWrong
// and name the key), and on any such error nothing is changed. Then, with a
// KEK (Config.KEK), each key still stored in plaintext is encrypted in
// place and logged at info level. Tokens keep verifying throughout: a key
// keeps its id and its key pair.
func (s *Service) EnsureKey(ctx context.Context) error {
	keys, err := s.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	var plain []store.SigningKey
	active := false
	for _, k := range keys {
		priv, err := s.open(k)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.keys[k.ID] = priv
		s.mu.Unlock()
		if s.kek != nil && !IsSealed(k.Private) {
			plain = append(plain, k)
		}
		active = active || k.Active
	}
	for _, k := range plain {
		if err := s.seal(ctx, k); err != nil {
			return err
		}
	}
	if active {
		return nil
	}
	_, err = s.RotateKey(ctx)
	return err
}

// seal replaces the plaintext key k in the store with its envelope under
// s.kek. If another process changed the key first (sealed it too), what
// it wrote must open with s.kek.
func (s *Service) seal(ctx context.Context, k store.SigningKey) error {
	sealed, err := s.kek.Seal(k.ID, k.Private)
	if err != nil {
		return fmt.Errorf("encrypt signing key %s: %w", k.ID, err)
	}
	err = s.st.ReplaceSigningKeyPrivate(ctx, k.ID, k.Private, sealed)
	if errors.Is(err, store.ErrConflict) {
		keys, err := s.st.SigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("list signing keys: %w", err)
		}
		for _, now := range keys {
			if now.ID == k.ID {
				_, err := s.open(now)
				return err
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("encrypt signing key %s at rest: %w", k.ID, err)
	}
	s.log.Info("signing key encrypted at rest", "kid", k.ID, "kek", s.kek.ID())
	return nil
}

// open returns the private key of the stored key k, opening its envelope
// with s.kek if it is sealed.
func (s *Service) open(k store.SigningKey) (*ecdsa.PrivateKey, error) {
	der, err := OpenStored(s.kek, k.ID, k.Private)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decode signing key %s: %w", k.ID, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not ECDSA", k.ID)
	}
	return priv, nil
}

// RotateKey makes a new active signing key. Older keys keep verifying the
// tokens they signed.
func (s *Service) RotateKey(ctx context.Context) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode key: %w", err)
	}
	k := store.SigningKey{ID: strings.ToLower(events.NewID()), Private: der, CreatedAt: s.now().UTC(), Active: true}
	if s.kek != nil {
		if k.Private, err = s.kek.Seal(k.ID, der); err != nil {
			return store.SigningKey{}, fmt.Errorf("encrypt signing key: %w", err)
		}
	}
	if err := s.st.AddSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, fmt.Errorf("store signing key: %w", err)
	}
	s.mu.Lock()
	s.keys[k.ID] = priv
	s.mu.Unlock()
	s.log.Info("new signing key", "kid", k.ID)
	return k, nil
}

// key returns the private key kid, reading the store on a miss so keys made
// by another process (another server, the CLI) are found.
func (s *Service) key(ctx context.Context, kid string) (*ecdsa.PrivateKey, error) {
	s.mu.Lock()
	k, ok := s.keys[kid]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	keys, err := s.st.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	for _, sk := range keys {
		if sk.ID != kid {
			continue
		}
		priv, err := s.open(sk)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.keys[kid] = priv
		s.mu.Unlock()
		return priv, nil
	}
	return nil, store.ErrNotFound
}

func (s *Service) activeKey(ctx context.Context) (string, *ecdsa.PrivateKey, error) {
	keys, err := s.st.SigningKeys(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("list signing keys: %w", err)
	}
	for _, k := range keys {
		if k.Active {
			priv, err := s.key(ctx, k.ID)
			return k.ID, priv, err
		}
	}
	return "", nil, errors.New("no active signing key (run the server once, or logbook keys rotate)")
}

// IssueRequest describes a token to issue.
type IssueRequest struct {
	AccountUUID     string
	IntegrationUUID string
	Name            string
	Features        []events.Feature
	// ExpiresIn is the lifetime; zero means the token never expires.
	ExpiresIn time.Duration
}

// Issue signs a new token, stores its hash and metadata, and returns the
// token string. The string is not kept anywhere: show it once.
func (s *Service) Issue(ctx context.Context, r IssueRequest) (string, store.Token, error) {
	if len(r.Features) == 0 {
		return "", store.Token{}, errors.New("features: at least one feature is required")
	}
	for _, f := range r.Features {
		if !f.Valid() {
			return "", store.Token{}, fmt.Errorf("features: unknown feature %q", f)
		}
	}
	if r.ExpiresIn < 0 {
		return "", store.Token{}, errors.New("expires in: must not be negative")
	}
	now := s.now().UTC().Truncate(time.Second)
	c := Claims{
		AccountUUID: r.AccountUUID,
		Features:    events.SortFeatures(featureSet(r.Features)),
		Audience:    []string{s.audience},
		Subject:     r.IntegrationUUID,
		Issuer:      s.issuer,
		IssuedAt:    now.Unix(),
		ID:          strings.ToLower(events.NewID()),
	}
	t := store.Token{ID: c.ID, IntegrationUUID: r.IntegrationUUID, AccountUUID: r.AccountUUID, Name: r.Name,
		Features: c.Features, IssuedAt: now}
	if r.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(r.ExpiresIn)
		c.ExpiresAt = t.ExpiresAt.Unix()
	}
	payload, err := atobSafePayload(c)
	if err != nil {
		return "", store.Token{}, err
	}
	raw, kid, err := s.SignJWS(ctx, "JWT", payload)
	if err != nil {
		return "", store.Token{}, err
	}
	t.KeyID = kid
	sum := sha256.Sum256([]byte(raw))
	t.Hash = sum[:]
	if err := s.st.CreateToken(ctx, t); err != nil {
		return "", store.Token{}, fmt.Errorf("store token: %w", err)
	}
	return raw, t, nil
}

func featureSet(fs []events.Feature) map[events.Feature]bool {
	m := map[events.Feature]bool{}
	for _, f := range fs {
		m[f] = true
	}
	return m
}

// atobSafePayload encodes c so that its base64url form holds no '-' or '_'
// (the Splunk setup page decodes it with the browser's atob). In JSON of
// ASCII text only '>', '?' and '~' at certain offsets produce those
// characters, so shifting the text by inserting spaces, which JSON ignores,
// always finds a safe form for the claims we write.
func atobSafePayload(c Claims) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode claims: %w", err)
	}
	for pad := 0; pad < 3; pad++ {
		p := append([]byte("{"+strings.Repeat(" ", pad)), body[1:]...)
		if !strings.ContainsAny(base64.RawURLEncoding.EncodeToString(p), "-_") {
			return p, nil
		}
	}
	return nil, fmt.Errorf("claims cannot be encoded without '-' or '_' (audience %q?)", c.Audience)
}

// Verified is what a valid token grants.
type Verified struct {
	Claims Claims
	Token  store.Token
}

// Has reports whether the token grants feature f.
func (v Verified) Has(f events.Feature) bool {
	for _, g := range v.Token.Features {
		if g == f {
			return true
		}
	}
	return false
}

// Verify checks raw and returns what it grants. Errors wrap one of the Err*
// values; callers answer 401 to all of them and keep the detail for logs.
func (s *Service) Verify(ctx context.Context, raw string) (Verified, error) {
	p, err := s.Present(ctx, raw)
	if err != nil {
		return Verified{}, err
	}
	t, err := s.Stored(ctx, p)
	return s.Accept(p, t, err)
}

// Stored reads p's token row from the store, for Accept.
func (s *Service) Stored(ctx context.Context, p Presented) (store.Token, error) {
	return s.st.Token(ctx, p.Claims.ID)
}

// Presented is a token whose signature, audience and expiry claim are
// checked, and whose stored row is still to be read (by Claims.ID) and
// given to Accept: Verify in two halves, for callers that read the row
// together with other things (store.EventStore.ListEventsWithToken).
type Presented struct {
	Claims Claims
	sum    [32]byte
	cached bool // the signature check is cached
}

// Present checks raw's signature (ES256; once per token string, then
// cached), audience and expiry claim. Errors wrap one of the Err* values.
func (s *Service) Present(ctx context.Context, raw string) (Presented, error) {
	p := Presented{sum: sha256.Sum256([]byte(raw))}
	s.mu.Lock()
	p.Claims, p.cached = s.verified[p.sum]
	s.mu.Unlock()
	if !p.cached {
		var err error
		if p.Claims, err = s.verifySignature(ctx, raw); err != nil {
			return Presented{}, err
		}
	}
	c := p.Claims
	if len(c.Audience) != 1 || (c.Audience[0] != s.audience && !s.alsoAccept[c.Audience[0]]) {
		return Presented{}, fmt.Errorf("%w: aud %q, want %q", ErrAudience, logcap.String(strings.Join(c.Audience, " ")), s.audience)
	}
	if c.ExpiresAt != 0 && !s.now().Before(time.Unix(c.ExpiresAt, 0)) {
		return Presented{}, ErrExpired
	}
	return p, nil
}

// Accept checks the stored row t of p's token, read just now (lookupErr
// is the read's error: one wrapping store.ErrNotFound is ErrUnknown), and
// returns what the token grants: the row must hold the token's hash, and
// be neither revoked nor expired. Errors wrap one of the Err* values.
func (s *Service) Accept(p Presented, t store.Token, lookupErr error) (Verified, error) {
	c := p.Claims
	if errors.Is(lookupErr, store.ErrNotFound) {
		return Verified{}, fmt.Errorf("%w: jti %s", ErrUnknown, logcap.String(c.ID))
	}
	if lookupErr != nil {
		return Verified{}, fmt.Errorf("look up token: %w", lookupErr)
	}
	if t.ID != c.ID || subtle.ConstantTimeCompare(t.Hash, p.sum[:]) != 1 {
		return Verified{}, fmt.Errorf("%w: hash mismatch for jti %s", ErrUnknown, logcap.String(c.ID))
	}
	now := s.now()
	if !t.RevokedAt.IsZero() && !now.Before(t.RevokedAt) {
		return Verified{}, ErrRevoked
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return Verified{}, ErrExpired
	}
	if !p.cached {
		s.mu.Lock()
		if len(s.verified) > 10000 {
			clear(s.verified)
		}
		s.verified[p.sum] = c
		s.mu.Unlock()
	}
	return Verified{Claims: c, Token: t}, nil
}

// SignJWS signs payload with the active key as a compact JWS (ES256, the
// key's kid, typ) and returns it with the kid: tokens, and whatever else a
// Service over its own key table signs (tree heads, internal/integrity).
func (s *Service) SignJWS(ctx context.Context, typ string, payload []byte) (raw, kid string, err error) {
	kid, priv, err := s.activeKey(ctx)
	if err != nil {
		return "", "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", "", fmt.Errorf("signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", "", fmt.Errorf("sign: %w", err)
	}
	raw, err = obj.CompactSerialize()
	if err != nil {
		return "", "", fmt.Errorf("serialize: %w", err)
	}
	return raw, kid, nil
}

// VerifyJWS checks the compact JWS raw (ES256 only) against the key its
// kid names, old keys included, and returns its payload and kid. Errors
// wrap ErrMalformed, ErrUnknownKey or ErrSignature.
func (s *Service) VerifyJWS(ctx context.Context, raw string) (payload []byte, kid string, err error) {
	return verifyJWS(raw, func(kid string) (*ecdsa.PublicKey, error) {
		priv, err := s.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		return &priv.PublicKey, nil
	})
}

// VerifyJWSWith is VerifyJWS against the public keys keys (by kid, as
// ParseJWKS returns them), for checks made offline.
func VerifyJWSWith(keys map[string]*ecdsa.PublicKey, raw string) (payload []byte, kid string, err error) {
	return verifyJWS(raw, func(kid string) (*ecdsa.PublicKey, error) {
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, store.ErrNotFound
	})
}

// verifyJWS checks raw against the public key that key returns for its
// kid (store.ErrNotFound: no such key).
func verifyJWS(raw string, key func(kid string) (*ecdsa.PublicKey, error)) (payload []byte, kid string, err error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, "", ErrMalformed
	}
	kid = jws.Signatures[0].Header.KeyID
	pub, err := key(kid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, kid, fmt.Errorf("%w: kid %q", ErrUnknownKey, logcap.String(kid))
	}
	if err != nil {
		return nil, kid, err
	}
	payload, err = jws.Verify(pub)
	if err != nil {
		return nil, kid, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return payload, kid, nil
}

// PublicKeys returns the public key of every stored key, by kid.
func (s *Service) PublicKeys(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	keys, err := s.st.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	out := make(map[string]*ecdsa.PublicKey, len(keys))
	for _, k := range keys {
		priv, err := s.key(ctx, k.ID)
		if err != nil {
			return nil, err
		}
		out[k.ID] = &priv.PublicKey
	}
	return out, nil
}

// JWKS returns keys as a JSON Web Key Set (ES256 signature keys), ordered
// by kid.
func JWKS(keys map[string]*ecdsa.PublicKey) ([]byte, error) {
	var set jose.JSONWebKeySet
	for _, kid := range slices.Sorted(maps.Keys(keys)) {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: keys[kid], KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"})
	}
	return json.Marshal(set)
}

// ParseJWKS reads a JSON Web Key Set of ES256 public keys, as JWKS writes
// it, by kid.
func ParseJWKS(b []byte) (map[string]*ecdsa.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	out := make(map[string]*ecdsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if !ok || k.KeyID == "" {
			return nil, fmt.Errorf("key set: key %q is not an ECDSA public key with a kid", logcap.String(k.KeyID))
		}
		out[k.KeyID] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("key set: no keys")
	}
	return out, nil
}

func (s *Service) verifySignature(ctx context.Context, raw string) (Claims, error) {
	payload, _, err := s.VerifyJWS(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if c.ID == "" || c.Subject == "" || c.AccountUUID == "" {
		return Claims{}, fmt.Errorf("%w: missing jti, sub or auuid", ErrMalformed)
	}
	return c, nil
}

// usedEvery bounds how often a token's last use is written: a connector
// polling several times a second costs one write a minute.
const usedEvery = time.Minute

// MarkUsed records that v's token was just used, writing to the store at
// most once a minute per token.
func (s *Service) MarkUsed(ctx context.Context, v Verified) error {
	now := s.now()
	s.mu.Lock()
	last, ok := s.used[v.Token.ID]
	if !ok {
		last = v.Token.LastUsedAt
	}
	due := now.Sub(last) >= usedEvery
	if due {
		if len(s.used) > 10000 {
			clear(s.used)
		}
		s.used[v.Token.ID] = now
	}
	s.mu.Unlock()
	if !due {
		return nil
	}
	if err := s.st.TouchToken(ctx, v.Token.ID, now.UTC()); err != nil {
		return fmt.Errorf("record last use of token %s: %w", v.Token.ID, err)
	}
	return nil
}
