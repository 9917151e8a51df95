package console

import (
	"fmt"
	"net/http"

	"github.com/logbookhq/logbook/internal/admin"
)

// ingestKeys lists the account's ingest keys, each active one with a
// Revoke button that leads to a confirmation page.
func (h *handler) ingestKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	ks, err := h.cfg.Admin.IngestKeys(r.Context(), c.actor)
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "ingest_keys.html", "Ingest keys", "ingest-keys", struct {
		Keys    []admin.IngestKey
		Revoked string // the key just revoked, for the notice
	}{ks, r.URL.Query().Get("revoked")})
	return nil
}

// createIngestKey makes an ingest key for the account, as logbook
// ingest-key create does (admin.Service.CreateIngestKey, create/satoken),
// and sends the browser to the page that shows it once.
func (h *handler) createIngestKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.cfg.Admin.CreateIngestKey(r.Context(), c.actor, r.PostFormValue("name"))
	if err != nil {
		return err
	}
	return h.keepKey(w, r, c, ingestKeyPage, k.ID, k.Name, k.Secret)
}

// savedIngestKey shows a new ingest key's secret once.
func (h *handler) savedIngestKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.ingestKeyOf(r, c)
	if err != nil {
		return err
	}
	return h.showKey(w, r, c, ingestKeyPage, k.ID, k.Name, k.CreatedAt)
}

// ingestKeyOf finds the key named in the path among the account's keys.
func (h *handler) ingestKeyOf(r *http.Request, c *call) (admin.IngestKey, error) {
	ks, err := h.cfg.Admin.IngestKeys(r.Context(), c.actor)
	return pathItem(r, "key", ks, err, func(k admin.IngestKey) string { return k.ID }, "no such ingest key")
}

func (h *handler) confirmRevokeIngestKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.ingestKeyOf(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, c, http.StatusOK, "ingest_key_revoke.html", "Revoke ingest key", "ingest-keys", k)
	return nil
}

func (h *handler) revokeIngestKey(w http.ResponseWriter, r *http.Request, c *call) error {
	k, err := h.ingestKeyOf(r, c)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Admin.RevokeIngestKey(r.Context(), c.actor, k.ID); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("%s/ingest-keys?revoked=%s", h.prefix, k.ID), http.StatusSeeOther)
	return nil
}
