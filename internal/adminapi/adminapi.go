// Package adminapi serves Logbook's admin HTTP API under /admin/api/v1:
// JSON over the operations of internal/admin (users, admin keys, ingest
// keys, integrations, tokens, signing keys), authenticated by an admin API key
// (Authorization: Bearer lba_…), never by an Events API token. The OpenAPI 3
// document describing it is served at /admin/api/v1/openapi.json; a test
// keeps it in step with the routes below.
//
// Errors are {"error":{"code":"…","message":"…","field":"…"}} with the
// status from admin.StatusOf and admin.CodeOf, the one table of the admin domain.
package adminapi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/sandbox"
)

// Prefix is where the admin API is mounted.
const Prefix = "/admin/api/v1"

//go:embed openapi.json
var openAPI []byte

// Config holds a handler's dependencies. Admin is required.
type Config struct {
	Admin *admin.Service
	// Logger gets failed requests (5xx in detail); discarded when nil.
	Logger *slog.Logger
	// Scenarios, when set, serves /scenario.
	Scenarios *sandbox.Sandbox
	// Scorecard, when set, serves /tokens/{token}/scorecard.
	Scorecard ScorecardFunc
}

type handler struct {
	Config
}

// actionFunc serves an authenticated request and returns its error instead
// of writing it.
type actionFunc func(w http.ResponseWriter, r *http.Request, a admin.Actor) error

type route struct {
	method, path string // path below Prefix
	serve        actionFunc
}

// routes lists every route of the admin API except GET /openapi.json,
// which needs no key. The OpenAPI document must describe each of them.
func (h *handler) routes() []route {
	return []route{
		{"GET", "/me", reply(http.StatusOK, h.me)},
		{"PUT", "/serve-window", replyBody(http.StatusOK, h.setServeWindow)},

		{"GET", "/users", replyList(h.listUsers)},
		{"POST", "/users", replyBody(http.StatusCreated, h.addUser)},
		{"PATCH", "/users/{user}", replyBody(http.StatusOK, h.updateUser)},

		{"GET", "/admin-keys", replyList(h.listAPIKeys)},
		{"POST", "/admin-keys", replyBody(http.StatusCreated, h.createAPIKey)},
		{"DELETE", "/admin-keys/{id}", reply(http.StatusOK, h.revokeAPIKey)},

		{"GET", "/integrations", replyList(h.listIntegrations)},
		{"POST", "/integrations", replyBody(http.StatusCreated, h.createIntegration)},
		{"GET", "/integrations/{integration}", reply(http.StatusOK, h.showIntegration)},
		{"DELETE", "/integrations/{integration}", reply(http.StatusOK, h.deleteIntegration)},
		{"GET", "/integrations/{integration}/tokens", replyList(h.listIntegrationTokens)},
		{"POST", "/integrations/{integration}/tokens", replyBody(http.StatusCreated, h.issueToken)},

		{"GET", "/tokens", replyList(h.listTokens)},
		{"PATCH", "/tokens/{token}", replyBody(http.StatusOK, h.renameToken)},
		{"POST", "/tokens/{token}/revoke", reply(http.StatusOK, h.revokeToken)},
		{"GET", "/tokens/{token}/scorecard", h.tokenScorecard},

		{"GET", "/ingest-keys", replyList(h.listIngestKeys)},
		{"POST", "/ingest-keys", replyBody(http.StatusCreated, h.createIngestKey)},
		{"POST", "/ingest-keys/{key}/revoke", reply(http.StatusOK, h.revokeIngestKey)},

		{"GET", "/scenario", h.getScenario},
		{"PUT", "/scenario", h.putScenario},
		{"DELETE", "/scenario", h.deleteScenario},

		{"GET", "/signing-keys", replyList(h.listSigningKeys)},
		{"POST", "/signing-keys/rotate", reply(http.StatusCreated, h.rotateSigningKey)},
	}
}

// NewHandler returns the admin API handler. Mount it at Prefix+"/" (it
// matches full paths).
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Config: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	for _, rt := range h.routes() {
		mux.Handle(rt.method+" "+Prefix+rt.path, h.wrap(rt.serve))
	}
	// Anything else under the prefix is a JSON 404, not the text one.
	mux.Handle(Prefix+"/", h.wrap(func(w http.ResponseWriter, r *http.Request, _ admin.Actor) error {
		return &admin.Error{Kind: admin.ErrNotFound, Msg: "no such endpoint: " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

// ErrorBody is the JSON body of every error reply.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error: a code from a fixed set, a message for
// people, and the input field concerned when there is one.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (h *handler) wrap(f actionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.serve(w, r, f)
		if err == nil {
			return
		}
		// admin.StatusOf and admin.CodeOf are the one mapping from error
		// kind to reply; an internal failure's detail stays in the log.
		status, body := admin.StatusOf(err), ErrorBody{Error: ErrorDetail{Code: admin.CodeOf(err), Message: "internal server error"}}
		if admin.KindOf(err) != nil {
			body.Error.Message, body.Error.Field = err.Error(), admin.FieldOf(err)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		h.Logger.Log(r.Context(), level, "admin request failed", "method", logcap.String(r.Method), "route", r.Pattern, "status", status, "err", logcap.Err(err))
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="logbook admin"`)
		}
		writeJSON(w, status, body)
	})
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, f actionFunc) error {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return &admin.Error{Kind: admin.ErrUnauthenticated, Msg: "an admin API key is required: Authorization: Bearer lba_…"}
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	a, err := h.Admin.Authenticate(r.Context(), strings.TrimSpace(raw), ip)
	if err != nil {
		return err
	}
	return f(w, r, a)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

const maxBody = 64 << 10

// decode reads a JSON object body into v, refusing unknown fields, with
// errors that name the field.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: fmt.Sprintf("read: %v", err)}
	}
	if len(body) > maxBody {
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: fmt.Sprintf("larger than %d bytes", maxBody)}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return &admin.Error{Kind: admin.ErrInvalid, Field: te.Field, Msg: fmt.Sprintf("must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &admin.Error{Kind: admin.ErrInvalid, Field: name, Msg: "unknown field"}
		case errors.Is(err, io.EOF):
			return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: "a JSON object is required"}
		}
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: fmt.Sprintf("not valid JSON: %v", err)}
	}
	if dec.More() {
		return &admin.Error{Kind: admin.ErrInvalid, Field: "body", Msg: "has data after the JSON object"}
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "slice":
		return "an array"
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// list is the body of every list reply.
type list[T any] struct {
	Items []T `json:"items"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}
