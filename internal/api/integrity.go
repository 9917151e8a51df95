package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// Integrity answers the tamper-evidence endpoints (docs/integrity.md):
// *integrity.Signer.
type Integrity interface {
	LatestHead(ctx context.Context, account string, f events.Feature) (store.SignedHead, error)
	Inclusion(ctx context.Context, account string, f events.Feature, uuid string, size int64) (integrity.InclusionProof, error)
	Consistency(ctx context.Context, account string, f events.Feature, from, to int64) (integrity.ConsistencyProof, error)
}

// The replies, after RFC 6962's get-sth and get-proof-by-hash: hashes in
// standard base64.
type (
	headReply struct {
		TreeSize  int64  `json:"tree_size"`
		Timestamp int64  `json:"timestamp"`
		RootHash  string `json:"root_hash"`
		KeyID     string `json:"key_id"`
		Signature string `json:"signature"`
	}
	inclusionReply struct {
		LeafIndex int64    `json:"leaf_index"`
		TreeSize  int64    `json:"tree_size"`
		LeafHash  string   `json:"leaf_hash"`
		RootHash  string   `json:"root_hash"`
		AuditPath []string `json:"audit_path"`
	}
	consistencyReply struct {
		First       int64    `json:"first"`
		Second      int64    `json:"second"`
		FirstRoot   string   `json:"first_root_hash"`
		SecondRoot  string   `json:"second_root_hash"`
		Consistency []string `json:"consistency"`
	}
)

func b64(h []byte) string { return base64.StdEncoding.EncodeToString(h) }

func b64s(hs []merkle.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h[:])
	}
	return out
}

// routeIntegrity adds GET /api/v2/integrity/{stream}/head, inclusion and
// consistency for every stream, with the tokens and features of the
// stream's own endpoint.
func (h *handler) routeIntegrity() {
	for _, f := range events.AllFeatures {
		base := "GET /api/v2/integrity/" + string(f)
		h.mux.Handle(base+"/head", h.wrap(h.integrity(f, h.head)))
		h.mux.Handle(base+"/inclusion", h.wrap(h.integrity(f, h.inclusion)))
		h.mux.Handle(base+"/consistency", h.wrap(h.integrity(f, h.consistency)))
	}
}

func (h *handler) integrity(f events.Feature, serve func(r *http.Request, account string, f events.Feature) (any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := h.authenticate(r, f)
		if err != nil {
			return err
		}
		if h.Guard != nil && h.Guard(w, r, Call{Token: v, Feature: f, Version: 2}) {
			return nil
		}
		body, err := serve(r, v.Token.AccountUUID, f)
		switch {
		case errors.Is(err, store.ErrNotFound), errors.Is(err, integrity.ErrOutside):
			return &statusError{http.StatusNotFound, err}
		case err != nil:
			return err
		}
		return writeJSON(w, http.StatusOK, body)
	}
}

func (h *handler) head(r *http.Request, account string, f events.Feature) (any, error) {
	sh, err := h.Integrity.LatestHead(r.Context(), account, f)
	if err != nil {
		return nil, err
	}
	return headReply{TreeSize: sh.Size, Timestamp: sh.SignedAt.UnixMilli(), RootHash: b64(sh.Root), KeyID: sh.KeyID, Signature: sh.JWS}, nil
}

// sizeParam reads a query parameter holding a tree size; def when absent.
func sizeParam(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(fmt.Errorf("%s: %q is not a tree size", name, s))
	}
	return n, nil
}

// sizeOrLatest reads a tree size from the query parameter name, or when
// it is absent takes that of the stream's newest signed head.
func (h *handler) sizeOrLatest(r *http.Request, name, account string, f events.Feature) (int64, error) {
	n, err := sizeParam(r, name, -1)
	if err != nil || n >= 0 {
		return n, err
	}
	sh, err := h.Integrity.LatestHead(r.Context(), account, f)
	return sh.Size, err
}

func (h *handler) inclusion(r *http.Request, account string, f events.Feature) (any, error) {
	uuid := r.URL.Query().Get("uuid")
	if uuid == "" {
		return nil, badRequest(errors.New("uuid: required"))
	}
	size, err := h.sizeOrLatest(r, "size", account, f)
	if err != nil {
		return nil, err
	}
	p, err := h.Integrity.Inclusion(r.Context(), account, f, uuid, size)
	if err != nil {
		return nil, err
	}
	return inclusionReply{LeafIndex: p.LeafIndex, TreeSize: p.TreeSize, LeafHash: b64(p.LeafHash[:]), RootHash: b64(p.Root[:]), AuditPath: b64s(p.Path)}, nil
}

func (h *handler) consistency(r *http.Request, account string, f events.Feature) (any, error) {
	from, err := sizeParam(r, "from", -1)
	if err != nil {
		return nil, err
	}
	if from < 0 {
		return nil, badRequest(errors.New("from: required"))
	}
	to, err := h.sizeOrLatest(r, "to", account, f)
	if err != nil {
		return nil, err
	}
	p, err := h.Integrity.Consistency(r.Context(), account, f, from, to)
	if err != nil {
		return nil, err
	}
	return consistencyReply{First: p.From, Second: p.To, FirstRoot: b64(p.FromRoot[:]), SecondRoot: b64(p.ToRoot[:]), Consistency: b64s(p.Path)}, nil
}
