package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestInFlightBudget: while two requests hold the whole in-flight budget
// (their bodies half sent), a third gets 429 with Retry-After and nothing
// of it is stored; the two then succeed, and so does the third once they
// are done.
func TestInFlightBudget(t *testing.T) {
	ctx := t.Context()
	st, key := keyedStore(t)
	h := newHandler(Config{Store: st, MaxBody: 1 << 20, MaxInFlight: 2 << 20, Now: time.Now})
	reserved := make(chan int64, 10)
	h.reserved = func(n int64) { reserved <- n }
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := srv.URL + Prefix + "itemusages"

	// body is one event (its own used_version, so its own uuid) padded
	// with blank lines to 900 KiB: two fit the budget, three do not.
	body := func(version int) []byte {
		ev, _ := json.Marshal(set(valid(events.ItemUsages), "used_version", version))
		ev = bytes.Replace(ev, []byte(`"uuid":"CCCCCCCCCCCCCCCCCCCCCCCCCC",`), nil, 1)
		return append(append(ev, '\n'), bytes.Repeat([]byte{'\n'}, 900<<10)...)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	send := func(b io.Reader, n int) *http.Response {
		req, _ := http.NewRequest("POST", url, b)
		req.ContentLength = int64(n)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("POST: %v", err)
			return nil
		}
		return resp
	}
	var writers []*io.PipeWriter
	var rests [][]byte
	var done []chan result
	for v := 1; v <= 2; v++ {
		b := body(v)
		pr, pw := io.Pipe()
		ch := make(chan result, 1)
		go func() {
			resp := send(pr, len(b))
			if resp == nil {
				ch <- result{err: io.EOF}
				return
			}
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch <- result{status: resp.StatusCode, body: string(rb)}
		}()
		if _, err := pw.Write(b[:len(b)/2]); err != nil {
			t.Fatal(err)
		}
		if n := <-reserved; n != int64(len(b)) {
			t.Fatalf("request %d reserved %d bytes, want its length %d", v, n, len(b))
		}
		defer pw.CloseWithError(io.ErrUnexpectedEOF) // on failure, so that the server can close
		writers, rests, done = append(writers, pw), append(rests, b[len(b)/2:]), append(done, ch)
	}

	third := body(3)
	resp := send(bytes.NewReader(third), len(third))
	if resp == nil {
		t.FailNow()
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(rb), `"field":"body"`) {
		t.Errorf("beyond the budget: %d Retry-After %q %s, want 429 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"), rb)
	}

	for i, pw := range writers {
		if _, err := pw.Write(rests[i]); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if r := <-done[i]; r.status != 200 || r.body != `{"accepted":1,"duplicates":0}` {
			t.Errorf("request %d within the budget: %d %s %v", i+1, r.status, r.body, r.err)
		}
	}
	if head, _ := st.HeadPosition(ctx, testAccount, events.ItemUsages); head != 2 {
		t.Errorf("head position %d, want 2: nothing of the refused request stored", head)
	}
	resp = send(bytes.NewReader(third), len(third))
	if resp == nil {
		t.FailNow()
	}
	rb, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("third again, budget free: %d %s", resp.StatusCode, rb)
	}
	if h.inFlight != 0 {
		t.Errorf("%d bytes still reserved after every reply", h.inFlight)
	}
}

// FuzzHandler posts bodies to the ingestion handler on a real socket:
// every body gets a status line, one of the documented statuses, and a
// JSON reply; a 200 counts the whole batch.
func FuzzHandler(f *testing.F) {
	ev, _ := json.Marshal(valid(events.ItemUsages))
	for _, s := range []string{"[", "[   ", `[{"uuid":"X"},`, "[" + string(ev) + "]", string(ev) + "\n" + string(ev), "[" + string(ev) + ",", "", "\n\n", "[]", "{"} {
		f.Add([]byte(s))
	}
	st, key := keyedStore(f)
	srv := httptest.NewServer(NewHandler(Config{Store: st, MaxBody: 1 << 20}))
	defer srv.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", srv.URL+Prefix+"itemusages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("no status line: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		switch resp.StatusCode {
		case 200:
			var r Result
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("200 %s: %v", b, err)
			}
		case 400, 409, 413:
			var r Refusal
			if err := json.Unmarshal(b, &r); err != nil || len(r.Errors) == 0 || r.Errors[0].Field == "" || r.Errors[0].Reason == "" {
				t.Fatalf("%d without field and reason: %s", resp.StatusCode, b)
			}
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
}

// keyedStore opens a SQLite store in a temporary directory, closed when
// the test ends, with the account testAccount and an ingest key for it.
func keyedStore(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	st := sqlitetest.New(t)
	if err := st.CreateAccount(t.Context(), store.Account{UUID: testAccount, Name: "Acme", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	key, _, err := CreateKey(t.Context(), st, testAccount, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return st, key
}

const testAccount = "HHHHHHHHHHHHHHHHHHHHHHHHHH"
