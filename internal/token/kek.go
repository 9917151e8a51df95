package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Signing keys at rest.
//
// Without a key-encryption key (KEK) the store holds each signing key's
// PKCS#8 DER as it is. With one, it holds a sealed envelope instead:
//
//	"LBKE"  magic, 4 bytes (a DER key starts with 0x30, so the two never mix)
//	0x01    envelope version
//	id      8 bytes: the KEK's ID (KEK.ID), to tell a wrong KEK from damage
//	nonce   12 random bytes
//	sealed  AES-256-GCM of the DER, with its 16-byte tag
//
// The GCM additional data is the first 13 bytes (magic, version, KEK ID)
// followed by the signing key's id, so an envelope moved to another key's
// row, or with its header edited, does not open.

// KEKSize is the size of a key-encryption key in bytes.
const KEKSize = 32

// Errors about sealed signing keys. ErrKEKNeeded and ErrKEKWrong are
// returned wrapped with the key's id.
var (
	ErrKEKNeeded   = errors.New("signing key is encrypted at rest and no key-encryption key was given")
	ErrKEKWrong    = errors.New("signing key was encrypted with another key-encryption key")
	ErrSealDamaged = errors.New("encrypted signing key does not decrypt: damaged, or not from this key's row")
)

// sealError is one of the errors above, with a message that names the key.
type sealError struct {
	msg string
	err error
}

func (e *sealError) Error() string { return e.msg }
func (e *sealError) Unwrap() error { return e.err }

func sealErrorf(err error, format string, args ...any) error {
	return &sealError{msg: fmt.Sprintf(format, args...), err: err}
}

var envelopeMagic = []byte("LBKE")

const (
	envelopeV1     = 1
	kekIDSize      = 8
	envelopeHeader = 4 + 1 + kekIDSize // magic, version, KEK ID
	gcmNonceSize   = 12
	gcmTagSize     = 16
)

// KEK is a key-encryption key: 32 bytes that seal signing keys at rest.
type KEK struct {
	key [KEKSize]byte
	id  [kekIDSize]byte
}

// NewKEK returns a random KEK.
func NewKEK() (*KEK, error) {
	var b [KEKSize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("random key-encryption key: %w", err)
	}
	return kekOf(b), nil
}

func kekOf(b [KEKSize]byte) *KEK {
	k := &KEK{key: b}
	sum := sha256.Sum256(append([]byte("logbook key-encryption key id\x00"), b[:]...))
	copy(k.id[:], sum[:kekIDSize])
	return k
}

// ParseKEK decodes a KEK written as standard base64 with padding
// (RFC 4648 §4, 44 characters, as MarshalText writes it). Surrounding
// white space, such as a file's final newline, is ignored. The error never
// holds the text.
func ParseKEK(text string) (*KEK, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("empty: want 32 random bytes in standard base64 (logbook keys kek-new makes one)")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return nil, errors.New("not standard base64: want 32 random bytes in standard base64, 44 characters (logbook keys kek-new makes one)")
	}
	if len(b) != KEKSize {
		return nil, fmt.Errorf("%d bytes, want %d: want 32 random bytes in standard base64, 44 characters (logbook keys kek-new makes one)", len(b), KEKSize)
	}
	return kekOf([KEKSize]byte(b)), nil
}

// MarshalText returns the KEK in standard base64, as ParseKEK reads it.
func (k *KEK) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(k.key[:])), nil
}

// ID names the KEK without revealing it: 16 hex digits of a SHA-256 of
// it. Sealed keys carry it, so that a wrong KEK can be told apart from
// damage, and logs and errors can say which KEK is which.
func (k *KEK) ID() string { return hex.EncodeToString(k.id[:]) }

// String is the ID, so that a KEK printed by mistake shows no secret.
func (k *KEK) String() string { return "kek:" + k.ID() }

func (k *KEK) gcm() cipher.AEAD {
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		panic(err) // the key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// IsSealed reports whether stored key bytes are a sealed envelope (of any
// version) rather than a plaintext key.
func IsSealed(stored []byte) bool { return bytes.HasPrefix(stored, envelopeMagic) }

// Seal encrypts the PKCS#8 DER of the signing key kid for storage.
func (k *KEK) Seal(kid string, der []byte) ([]byte, error) {
	out := make([]byte, envelopeHeader+gcmNonceSize, envelopeHeader+gcmNonceSize+len(der)+gcmTagSize)
	copy(out, envelopeMagic)
	out[4] = envelopeV1
	copy(out[5:envelopeHeader], k.id[:])
	if _, err := rand.Read(out[envelopeHeader:]); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	aad := append(out[:envelopeHeader:envelopeHeader], kid...)
	return k.gcm().Seal(out, out[envelopeHeader:], der, aad), nil
}

// OpenStored returns the PKCS#8 DER of the signing key kid from what the
// store holds: plaintext as it is, an envelope opened with kek. A sealed
// key with a nil kek is ErrKEKNeeded, one sealed under another KEK is
// ErrKEKWrong, and anything else that does not open is ErrSealDamaged or
// says what is wrong; every error names kid. It never panics, whatever
// stored holds.
func OpenStored(kek *KEK, kid string, stored []byte) ([]byte, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	if len(stored) < envelopeHeader {
		return nil, sealErrorf(ErrSealDamaged, "signing key %s is damaged: %d bytes of envelope", kid, len(stored))
	}
	if v := stored[4]; v != envelopeV1 {
		return nil, fmt.Errorf("signing key %s: envelope version %d is not known to this logbook (it reads 1); use the release that wrote it", kid, v)
	}
	if kek == nil {
		return nil, sealErrorf(ErrKEKNeeded, "signing key %s is encrypted at rest (with key-encryption key %s) and no key-encryption key was given",
			kid, hex.EncodeToString(stored[5:envelopeHeader]))
	}
	if !bytes.Equal(stored[5:envelopeHeader], kek.id[:]) {
		return nil, sealErrorf(ErrKEKWrong, "signing key %s is encrypted with key-encryption key %s, not with the one given (%s)",
			kid, hex.EncodeToString(stored[5:envelopeHeader]), kek.ID())
	}
	if len(stored) < envelopeHeader+gcmNonceSize+gcmTagSize {
		return nil, sealErrorf(ErrSealDamaged, "signing key %s is damaged: %d bytes of envelope", kid, len(stored))
	}
	aad := append(stored[:envelopeHeader:envelopeHeader], kid...)
	der, err := kek.gcm().Open(nil, stored[envelopeHeader:envelopeHeader+gcmNonceSize], stored[envelopeHeader+gcmNonceSize:], aad)
	if err != nil {
		return nil, sealErrorf(ErrSealDamaged, "signing key %s does not decrypt with key-encryption key %s: its stored bytes are damaged, or were moved from another key", kid, kek.ID())
	}
	return der, nil
}
