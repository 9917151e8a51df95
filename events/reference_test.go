package events

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceEvents decodes every event in testdata/reference: bare events,
// arrays of them, response pages and recorded exchanges, whatever the file
// holds. The kind comes from the file name. Unknown keys (the docs
// examples' "client.ip" and "uuid:" defects) are ignored, as a lenient
// decoder would. The events are pointers, as ingestion passes them.
func referenceEvents(tb testing.TB) (signins, usages, audits []any) {
	tb.Helper()
	err := filepath.WalkDir(filepath.Join("testdata", "reference"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		name := strings.ToLower(filepath.Base(path))
		var (
			dst *[]any
			dec func(json.RawMessage) (any, error)
		)
		switch {
		case strings.Contains(name, "signinattempt"):
			dst, dec = &signins, decodeAs[SignInAttempt]
		case strings.Contains(name, "itemusage"):
			dst, dec = &usages, decodeAs[ItemUsage]
		case strings.Contains(name, "auditevent"):
			dst, dec = &audits, decodeAs[AuditEvent]
		default:
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, obj := range eventObjects(tb, raw) {
			ev, err := dec(obj)
			if err != nil {
				tb.Errorf("%s: %v", path, err)
				continue
			}
			*dst = append(*dst, ev)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(signins) == 0 || len(usages) == 0 || len(audits) == 0 {
		tb.Fatalf("reference events: %d sign-ins, %d usages, %d audit events", len(signins), len(usages), len(audits))
	}
	return signins, usages, audits
}

func decodeAs[T any](raw json.RawMessage) (any, error) {
	v := new(T)
	return v, json.Unmarshal(raw, v)
}

// eventObjects unwraps arrays, pages ("items") and exchanges
// ("response_body") down to the event objects they hold.
func eventObjects(tb testing.TB, raw json.RawMessage) []json.RawMessage {
	tb.Helper()
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []json.RawMessage
		for _, el := range list {
			out = append(out, eventObjects(tb, el)...)
		}
		return out
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		tb.Fatalf("reference event: %v", err)
	}
	if body, ok := obj["response_body"]; ok {
		return eventObjects(tb, body)
	}
	if items, ok := obj["items"]; ok {
		return eventObjects(tb, items)
	}
	return []json.RawMessage{raw}
}
