package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestMain doubles as a Logbook server when LOGBOOK_TEST_SERVE names a data
// directory: the crash test runs it as a child process and kills it.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOGBOOK_TEST_SERVE"); dir != "" {
		err := cli.Main(context.Background(), []string{"serve", "--data", dir, "--listen", "127.0.0.1:0", "--no-demo", "--log-level", "warn"},
			cli.Env{Getenv: func(string) string { return "" }, Stdout: os.Stdout, Stderr: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// simulated returns n realistic events of kind as JSON objects.
func simulated(t testing.TB, kind events.Feature, n int, seed int64) []json.RawMessage {
	t.Helper()
	sim := simulate.New(simulate.Config{Seed: seed, Start: time.Now().Add(-72 * time.Hour).Truncate(time.Hour), Users: 200, Intensity: 5})
	out, err := sim.Sample(time.Now(), kind, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func arrayBody(evs []json.RawMessage) []byte {
	b, _ := json.Marshal(evs)
	return b
}

func ndjsonBody(evs []json.RawMessage) []byte {
	var buf bytes.Buffer
	for _, e := range evs {
		buf.Write(e)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

type reply struct {
	status int
	body   []byte
	header http.Header
}

func post(t testing.TB, url, key string, body []byte) reply {
	t.Helper()
	res, b := roundtrip.Do(t, nil, roundtrip.New(t, "POST", url, key, string(body)))
	return reply{res.StatusCode, b, res.Header}
}

func newKey(t testing.TB, srv *servertest.Server) string {
	t.Helper()
	raw, _, err := ingest.CreateKey(context.Background(), srv.Store, srv.Account, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fetchAll reads a stream from the start through the Events API.
func fetchAll(t testing.TB, srv *servertest.Server, f events.Feature) []json.RawMessage {
	t.Helper()
	c, err := client.New(srv.URL, srv.Token)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-100 * 24 * time.Hour)
	req := client.FromReset(events.ResetCursor{Limit: 1000, StartTime: &start})
	var out []json.RawMessage
	for {
		p, err := c.RawPage(context.Background(), f, req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if !p.HasMore {
			return out
		}
		req = client.FromCursor(p.Cursor)
	}
}

func compact(t testing.TB, evs []json.RawMessage) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		var b bytes.Buffer
		if err := json.Compact(&b, e); err != nil {
			t.Fatal(err)
		}
		out[i] = b.String()
	}
	return out
}

func TestIngestValidBatch(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	for _, kind := range events.AllFeatures {
		t.Run(string(kind), func(t *testing.T) {
			evs := simulated(t, kind, 50, 1)
			// Half as an array, half as NDJSON.
			r := post(t, srv.URL+ingest.Prefix+string(kind), key, arrayBody(evs[:25]))
			if r.status != 200 || string(r.body) != `{"accepted":25,"duplicates":0}` {
				t.Fatalf("array: %d %s", r.status, r.body)
			}
			r = post(t, srv.URL+ingest.Prefix+string(kind), key, ndjsonBody(evs[25:]))
			if r.status != 200 || string(r.body) != `{"accepted":25,"duplicates":0}` {
				t.Fatalf("ndjson: %d %s", r.status, r.body)
			}
			// The Events API serves exactly the ingested bytes (the
			// simulator's are canonical already), but for the account
			// they name, which becomes the key's.
			got := fetchAll(t, srv, kind)
			want := compact(t, evs)
			for i := range want {
				var e struct {
					AccountUUID string `json:"account_uuid"`
				}
				_ = json.Unmarshal([]byte(want[i]), &e)
				if e.AccountUUID != "" {
					want[i] = strings.ReplaceAll(want[i], e.AccountUUID, srv.Account)
				}
			}
			if diff := cmp.Diff(want, compact(t, got)); diff != "" {
				t.Errorf("served events (-ingested +served):\n%s", diff)
			}
		})
	}
}

func TestIngestDuplicates(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	url := srv.URL + ingest.Prefix + "itemusages"
	evs := simulated(t, events.ItemUsages, 20, 2)
	if r := post(t, url, key, arrayBody(evs[:10])); string(r.body) != `{"accepted":10,"duplicates":0}` {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	// Overlapping batch, with one event twice inside it.
	batch := append(append([]json.RawMessage{}, evs[5:]...), evs[19])
	if r := post(t, url, key, arrayBody(batch)); string(r.body) != `{"accepted":10,"duplicates":6}` {
		t.Fatalf("overlap: %d %s", r.status, r.body)
	}
	// Without uuid: assigned from the content, so twice is still once.
	var m map[string]any
	_ = json.Unmarshal(evs[0], &m)
	delete(m, "uuid")
	m["used_version"] = 99
	noID, _ := json.Marshal(m)
	for i, want := range []string{`{"accepted":1,"duplicates":0}`, `{"accepted":0,"duplicates":1}`} {
		if r := post(t, url, key, noID); string(r.body) != want {
			t.Fatalf("no uuid, send %d: %d %s, want %s", i+1, r.status, r.body, want)
		}
	}
	if got := fetchAll(t, srv, events.ItemUsages); len(got) != 21 {
		t.Errorf("stored %d events, want 21", len(got))
	}
}

func TestIngestInvalidBatchStoresNothing(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	evs := simulated(t, events.SignInAttempts, 10, 3)
	var m map[string]any
	_ = json.Unmarshal(evs[6], &m)
	m["target_user"].(map[string]any)["email"] = "nobody"
	evs[6], _ = json.Marshal(m)
	r := post(t, srv.URL+ingest.Prefix+"signinattempts", key, ndjsonBody(evs))
	if r.status != 400 {
		t.Fatalf("status %d, want 400: %s", r.status, r.body)
	}
	var got ingest.Refusal
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := ingest.Refusal{Errors: []ingest.FieldError{{Line: 7, Field: "target_user.email", Reason: `"nobody" is not an e-mail address`}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refusal (-want +got):\n%s", diff)
	}
	if head, err := srv.Store.HeadPosition(context.Background(), srv.Account, events.SignInAttempts); err != nil || head != 0 {
		t.Errorf("head position %d, %v; want nothing stored", head, err)
	}
}

// TestIngestLateInvalidStoresNothing: a batch is appended while it is
// decoded, so events before a bad one may already be in the open
// transaction; a bad event late in a large batch must still leave nothing
// stored, and every bad event is reported in line order.
func TestIngestLateInvalidStoresNothing(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	url := srv.URL + ingest.Prefix + "itemusages"
	evs := simulated(t, events.ItemUsages, 1000, 4)
	bad := []int{999, 500, 130} // the last line, and lines in other pieces
	for _, i := range bad {
		var m map[string]any
		_ = json.Unmarshal(evs[i], &m)
		m["vault_uuid"] = "not-a-vault"
		evs[i], _ = json.Marshal(m)
	}
	for name, body := range map[string][]byte{"ndjson": ndjsonBody(evs), "array": arrayBody(evs)} {
		r := post(t, url, key, body)
		if r.status != 400 {
			t.Fatalf("%s: status %d, want 400: %s", name, r.status, r.body)
		}
		var got ingest.Refusal
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		var lines []int
		for _, e := range got.Errors {
			if e.Field != "vault_uuid" {
				t.Errorf("%s: error %v, want vault_uuid", name, e)
			}
			lines = append(lines, e.Line)
		}
		if want := []int{131, 501, 1000}; !slices.Equal(lines, want) {
			t.Errorf("%s: errors on lines %v, want %v", name, lines, want)
		}
		if head, err := srv.Store.HeadPosition(context.Background(), srv.Account, events.ItemUsages); err != nil || head != 0 {
			t.Errorf("%s: head position %d, %v; want nothing stored", name, head, err)
		}
	}
	// The same batch made good is stored whole.
	evs = simulated(t, events.ItemUsages, 1000, 4)
	if r := post(t, url, key, ndjsonBody(evs)); string(r.body) != `{"accepted":1000,"duplicates":0}` {
		t.Fatalf("good batch: %d %s", r.status, r.body)
	}
	if got := fetchAll(t, srv, events.ItemUsages); !slices.Equal(compact(t, got), compact(t, evs)) {
		t.Errorf("stored %d events, not the batch's 1000 in order", len(got))
	}
}

func TestIngestBodyLimit(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	url := srv.URL + ingest.Prefix + "auditevents"
	evs := simulated(t, events.AuditEvents, 2000, 4)
	body := ndjsonBody(evs)
	for len(body) <= ingest.DefaultMaxBody {
		body = append(body, body...)
	}
	r := post(t, url, key, body)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), `"field":"body","reason":"is larger than 16777216 bytes`) {
		t.Fatalf("%d %s; want 413 naming the limit", r.status, r.body)
	}
	// Without Content-Length (chunked), the limit still holds.
	req, _ := http.NewRequest("POST", url, io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked: status %d, want 413", resp.StatusCode)
		}
	}
	if head, _ := srv.Store.HeadPosition(context.Background(), srv.Account, events.AuditEvents); head != 0 {
		t.Errorf("head %d after refused batches, want 0", head)
	}
}

// TestCredentialsDoNotCross: an ingest key opens only ingestion, and
// Events API tokens and admin keys do not open it.
func TestCredentialsDoNotCross(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ctx := context.Background()
	key := newKey(t, srv)
	adminKey := srv.AdminKey(t)
	revoked := newKey(t, srv)
	k, _ := srv.Store.APIKey(ctx, revoked[4:30])
	k.RevokedAt = time.Now().Add(-time.Second)
	if err := srv.Store.UpdateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	ev := simulated(t, events.AuditEvents, 1, 5)
	ingestURL := srv.URL + ingest.Prefix + "auditevents"
	get := func(url, cred string) int {
		code, _ := roundtrip.Call(t, "GET", url, cred, "")
		return code
	}
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"ingest key on ingest", post(t, ingestURL, key, ndjsonBody(ev)).status, 200},
		{"ingest key on events API", post(t, srv.URL+"/api/v2/auditevents", key, []byte(`{}`)).status, 401},
		{"ingest key on v1 events API", post(t, srv.URL+"/api/v1/auditevents", key, []byte(`{}`)).status, 401},
		{"ingest key on introspection", get(srv.URL+"/api/v2/auth/introspect", key), 401},
		{"ingest key on admin API", get(srv.URL+"/admin/api/v1/me", key), 401},
		{"events token on ingest", post(t, ingestURL, srv.Token, ndjsonBody(ev)).status, 401},
		{"admin key on ingest", post(t, ingestURL, adminKey, ndjsonBody(ev)).status, 401},
		{"revoked ingest key", post(t, ingestURL, revoked, ndjsonBody(ev)).status, 401},
		{"no credential", post(t, ingestURL, "", ndjsonBody(ev)).status, 401},
		{"tampered ingest key", post(t, ingestURL, tamper(key), ndjsonBody(ev)).status, 401},
		{"admin key on admin API", get(srv.URL+"/admin/api/v1/me", adminKey), 200},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestIngestSurvivesKill runs a real server as a child process, ingests,
// and kills it with SIGKILL right after the last 200: every acknowledged
// event must be there after a restart.
func TestIngestSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct := store.Account{UUID: events.NewID(), Name: "Crash", CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	key, _, err := ingest.CreateKey(ctx, st, acct.UUID, "crash", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGBOOK_TEST_SERVE="+dir)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "Logbook is serving the Events API at "); ok {
				go func() { _, _ = io.Copy(io.Discard, stderr) }()
				return cmd, strings.TrimSpace(url)
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child server did not start: %v", sc.Err())
		return nil, ""
	}
	cmd, url := start()
	evs := simulated(t, events.AuditEvents, 3000, 6)
	for i := 0; i < 3; i++ {
		r := post(t, url+ingest.Prefix+"auditevents", key, arrayBody(evs[i*1000:(i+1)*1000]))
		if r.status != 200 {
			t.Fatalf("batch %d: %d %s", i, r.status, r.body)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Restart the server on the same data and check with a fresh store
	// handle that everything is there.
	cmd, url = start()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	r := post(t, url+ingest.Prefix+"auditevents", key, arrayBody(evs))
	if r.status != 200 || string(r.body) != `{"accepted":0,"duplicates":3000}` {
		t.Fatalf("after restart, re-sending everything: %d %s; want all duplicates", r.status, r.body)
	}
	st = sqlitetest.Open(t, filepath.Join(dir, "logbook.db"))
	res, err := st.ListEvents(ctx, store.ListQuery{Account: acct.UUID, Feature: events.AuditEvents, Limit: 5000})
	if err != nil || len(res.Rows) != 3000 {
		t.Fatalf("stored %d events, %v; want 3000", len(res.Rows), err)
	}
}

// tamper changes the last character of a credential (to another one: a
// fixed replacement would leave 1 key in 64 unchanged).
func tamper(key string) string {
	last := key[len(key)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return key[:len(key)-1] + string(repl)
}

// TestIngestUUIDConflict: a second, different event under a uuid already
// held is a 409 naming its line and uuid, and nothing of its batch is
// stored; the identical event sent again stays a duplicate.
func TestIngestUUIDConflict(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	url := srv.URL + ingest.Prefix + "signinattempts"
	evs := simulated(t, events.SignInAttempts, 4, 7)
	if r := post(t, url, key, arrayBody(evs[:2])); r.status != 200 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	// moved is ev a second later, under the same uuid.
	moved := func(ev json.RawMessage) (json.RawMessage, string) {
		var m map[string]any
		_ = json.Unmarshal(ev, &m)
		ts, _ := time.Parse(time.RFC3339Nano, m["timestamp"].(string))
		m["timestamp"] = ts.Add(time.Second).Format(time.RFC3339Nano)
		b, _ := json.Marshal(m)
		return b, m["uuid"].(string)
	}
	stored, storedID := moved(evs[1])
	inBatch, inBatchID := moved(evs[3])
	for _, tc := range []struct {
		name  string
		batch []json.RawMessage
		line  int
		uuid  string
	}{
		{"stored, another timestamp", []json.RawMessage{evs[2], stored}, 2, storedID},
		{"in the batch, another timestamp", []json.RawMessage{evs[2], evs[3], inBatch}, 3, inBatchID},
	} {
		r := post(t, url, key, ndjsonBody(tc.batch))
		var got ingest.Refusal
		_ = json.Unmarshal(r.body, &got)
		if r.status != 409 || len(got.Errors) != 1 || got.Errors[0].Line != tc.line || got.Errors[0].Field != "uuid" ||
			!strings.Contains(got.Errors[0].Reason, tc.uuid) {
			t.Errorf("%s: %d %s, want 409 naming line %d and uuid %s", tc.name, r.status, r.body, tc.line, tc.uuid)
		}
	}
	if head, _ := srv.Store.HeadPosition(t.Context(), srv.Account, events.SignInAttempts); head != 2 {
		t.Errorf("head position %d, want 2 (nothing of a refused batch stored)", head)
	}
	if r := post(t, url, key, arrayBody(evs[:2])); r.status != 200 || string(r.body) != `{"accepted":0,"duplicates":2}` {
		t.Errorf("identical re-post: %d %s, want 200 with 2 duplicates", r.status, r.body)
	}
}

// TestIngestNamesTheKeysAccount: events posted with another account's
// account_uuid are stored naming the key's account, as file loading does
// (docs/ingest.md, "Accounts").
func TestIngestNamesTheKeysAccount(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	for _, kind := range []events.Feature{events.AuditEvents, events.SignInAttempts} {
		evs := simulated(t, kind, 40, 8)
		if r := post(t, srv.URL+ingest.Prefix+string(kind), key, arrayBody(evs)); r.status != 200 {
			t.Fatalf("%s: %d %s", kind, r.status, r.body)
		}
		foreign := 0
		for _, ev := range evs {
			var e struct {
				AccountUUID string `json:"account_uuid"`
			}
			_ = json.Unmarshal(ev, &e)
			if e.AccountUUID != "" && e.AccountUUID != srv.Account {
				foreign++
			}
		}
		if kind == events.AuditEvents && foreign == 0 {
			t.Fatal("the simulated audit events name no other account: the test tests nothing")
		}
		for _, ev := range fetchAll(t, srv, kind) {
			var e struct {
				AccountUUID string `json:"account_uuid"`
			}
			_ = json.Unmarshal(ev, &e)
			if e.AccountUUID != "" && e.AccountUUID != srv.Account {
				t.Fatalf("%s served with account_uuid %s, want the key's account %s: %s", kind, e.AccountUUID, srv.Account, ev)
			}
		}
	}
}
