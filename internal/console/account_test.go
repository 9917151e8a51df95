package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// TestServeWindow shows the account's serving window and sets it to a
// span, forever and back to the server's default, through the function
// logbook account serve-window uses; a bad span is refused naming the
// field, and another account's window is left alone.
func TestServeWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.signedIn(t, "admin@acme.test")
	page := c.get("/console/account")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<dd id="serve-window">120d (the server&#39;s default)</dd>`) {
		t.Fatalf("account page = %d, want 200 with the default window; body:\n%s", page.status, page.body)
	}
	if !strings.Contains(page.body, "events since Nov 2, 2025 10:00 UTC") {
		t.Errorf("account page does not say since when events are served:\n%s", page.body)
	}
	window := func() time.Duration {
		t.Helper()
		in, err := b.st.Integration(ctx, b.mine)
		if err != nil {
			t.Fatal(err)
		}
		a, err := b.st.Account(ctx, in.AccountUUID)
		if err != nil {
			t.Fatal(err)
		}
		return a.ServeWindow
	}
	set := func(form url.Values, want time.Duration, shown string) {
		t.Helper()
		r := c.post("/console/account/serve-window", form)
		if r.status != http.StatusSeeOther {
			t.Fatalf("set %v = %d, want 303; body:\n%s", form, r.status, r.body)
		}
		if got := window(); got != want {
			t.Errorf("after %v the stored window = %v, want %v", form, got, want)
		}
		if page := c.get(r.header.Get("Location")); !strings.Contains(page.body, `<dd id="serve-window">`+shown+`</dd>`) ||
			!strings.Contains(page.body, "Serving window set") {
			t.Errorf("after %v the account page does not show %q with a notice:\n%s", form, shown, page.body)
		}
	}
	set(url.Values{"window": {"span"}, "span": {"400d"}}, 400*24*time.Hour, "400d")
	set(url.Values{"window": {"forever"}}, store.ServeForever, "forever")
	if page := c.get("/console/account"); !strings.Contains(page.body, "every stored event") {
		t.Errorf("a window of forever does not say every event is served:\n%s", page.body)
	}
	if r := c.post("/console/account/serve-window", url.Values{"window": {"span"}, "span": {"30m"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "Serving window: ") || !strings.Contains(r.body, `value="30m"`) {
		t.Errorf("a span under an hour = %d, want 422 naming the field and keeping the value; body:\n%s", r.status, r.body)
	}
	if r := c.post("/console/account/serve-window", url.Values{"window": {"sometimes"}}); r.status != http.StatusBadRequest {
		t.Errorf("an unknown choice = %d, want 400", r.status)
	}
	if r := c.post("/console/account/serve-window", url.Values{"window": {"default"}, "csrf": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("a wrong CSRF token = %d, want 403", r.status)
	}
	if got := window(); got != store.ServeForever {
		t.Errorf("refused requests changed the window to %v", got)
	}
	set(url.Values{"window": {"default"}}, 0, "120d (the server&#39;s default)")

	// Another account's window is its own.
	oin, err := b.st.Integration(ctx, b.other)
	if err != nil {
		t.Fatal(err)
	}
	if oa, _ := b.st.Account(ctx, oin.AccountUUID); oa.ServeWindow != 0 {
		t.Errorf("the other account's window = %v, want its default", oa.ServeWindow)
	}
}
