package forward

import (
	"strings"
	"testing"
	"time"
)

func TestScanEvent(t *testing.T) {
	ts := time.Date(2024, 12, 2, 11, 54, 19, 710457472, time.UTC)
	tests := []struct {
		name, in string
		want     Event
		wantErr  string
	}{
		{"audit", `{"uuid":"U1","timestamp":"2024-12-02T11:54:19.710457472Z","actor_details":{"uuid":"X"}}`, Event{UUID: "U1", Time: ts}, ""},
		{"late keys, nested uuid ignored", `{"session":{"uuid":"NOPE","timestamp":"x"},"a":[1,{"uuid":"N"}],"timestamp":"2024-12-02T11:54:19.710457472Z" , "uuid" : "U2"}`, Event{UUID: "U2", Time: ts}, ""},
		{"escaped uuid", `{"uuid":"U\u0033","timestamp":"2024-12-02T11:54:19.710457472Z"}`, Event{UUID: "U3", Time: ts}, ""},
		{"offset time", `{"uuid":"U4","timestamp":"2024-12-02T12:54:19.710457472+01:00"}`, Event{UUID: "U4", Time: ts}, ""},
		{"missing fields", `{"action":"join"}`, Event{}, ""},
		{"not an object", `[1]`, Event{}, "not a JSON object"},
		{"bad time", `{"uuid":"U","timestamp":"yesterday"}`, Event{UUID: "U"}, "timestamp is not RFC 3339"},
		{"uuid not a string", `{"uuid":5}`, Event{}, "uuid is not a string"},
		{"no fraction", `{"uuid":"U5","timestamp":"2024-12-02T11:54:19Z"}`, Event{UUID: "U5", Time: ts.Truncate(time.Second)}, ""},
		{"short fraction", `{"uuid":"U6","timestamp":"2024-12-02T11:54:19.71Z"}`, Event{UUID: "U6", Time: ts.Truncate(10 * time.Millisecond)}, ""},
		{"impossible date", `{"uuid":"U","timestamp":"2024-04-31T11:54:19Z"}`, Event{UUID: "U"}, "timestamp is not RFC 3339"},
		{"hour 24", `{"uuid":"U","timestamp":"2024-04-30T24:54:19Z"}`, Event{UUID: "U"}, "timestamp is not RFC 3339"},
		{"truncated", `{"uuid":"U","timestamp":`, Event{UUID: "U"}, "unexpected end"},
		{"mismatched brackets", `{"a":[1},"uuid":"U"}`, Event{}, "mismatched"},
		{"control character", "{\"uuid\":\"U\x01\"}", Event{}, "control character"},
		{"not an object, with space", ` "x"`, Event{}, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScanEvent([]byte(tt.in))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ScanEvent: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ScanEvent error = %v, want %q", err, tt.wantErr)
			}
			if string(got.Data) != tt.in {
				t.Errorf("Data = %s, want the input", got.Data)
			}
			if got.UUID != tt.want.UUID || !got.Time.Equal(tt.want.Time) {
				t.Errorf("ScanEvent = %q %v, want %q %v", got.UUID, got.Time, tt.want.UUID, tt.want.Time)
			}
		})
	}
}

var benchEvent = []byte(`{"uuid":"ZOZ6VXCTKF34T57ZFNIR3FUXSK","timestamp":"2024-12-02T11:54:19.710457472Z","actor_uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","actor_details":{"uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","name":"Test User","email":"userA@example.com"},"action":"create","object_type":"device","session":{"uuid":"ODOHXUYQCJBUJKRGZNNPBJURPE","login_time":"2024-12-02T11:54:19.693369325Z","device_uuid":"rqtd557fn2husnstp5nc66w2xa","ip":"8.8.8.8"},"location":{"country":"Israel","region":"Tel Aviv","city":"Tel Aviv","latitude":32.0803,"longitude":34.7805}}`)

func BenchmarkScanEvent(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, err := ScanEvent(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseTime: the fast path agrees with time.Parse wherever it
// answers.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-12-02T11:54:19.710457472Z", "2024-12-02T11:54:19Z", "2024-02-29T00:00:00.1Z", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime([]byte(`"` + s + `"`))
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("parseTime(%q) = %v, time.Parse refuses it: %v", s, got, err)
		}
		if !got.Equal(want) {
			t.Fatalf("parseTime(%q) = %v, time.Parse = %v", s, got, want)
		}
	})
}
