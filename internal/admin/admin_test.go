package admin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	h, err := admin.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want a PHC argon2id string", h)
	}
	h2, _ := admin.HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal; want distinct salts")
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right", h, "correct horse battery", true},
		{"wrong", h, "correct horse batterz", false},
		{"empty password", h, "", false},
		{"empty hash", "", "correct horse battery", false},
		{"bcrypt-looking", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
		{"truncated", h[:len(h)-10], "correct horse battery", false},
		{"absurd cost", strings.Replace(h, "t=2", "t=100000", 1), "correct horse battery", false},
	}
	for _, tt := range tests {
		if got := admin.CheckPassword(tt.hash, tt.password); got != tt.want {
			t.Errorf("%s: CheckPassword = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := admin.HashPassword("short"); admin.FieldOf(err) != "password" || !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("HashPassword(short) = %v, want an invalid password error", err)
	}
}

func TestParseSIEM(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "Other"}, {"splunk", "Splunk"}, {"Sumo Logic", "Sumo Logic"}, {"sumo-logic", "Sumo Logic"},
		{"sumologic", "Sumo Logic"}, {"microsoft_sentinel", "Microsoft Sentinel"}, {"sentinel", "Microsoft Sentinel"},
		{"DATADOG", "Datadog"}, {"panther", "Panther"}, {"elastic", "Elastic"}, {"other", "Other"},
	}
	for _, tt := range tests {
		got, err := admin.ParseSIEM(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSIEM(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := admin.ParseSIEM("qradar"); admin.FieldOf(err) != "siem" {
		t.Errorf("ParseSIEM(qradar) = %v, want an error on siem", err)
	}
}

func TestParseFeatureList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    []events.Feature
		wantErr string
	}{
		{"nil is all", nil, events.AllFeatures, ""},
		{"one", []string{"itemusages"}, []events.Feature{events.ItemUsages}, ""},
		{"sorted and de-duplicated", []string{"signinattempts", "auditevents", "signinattempts"}, []events.Feature{events.AuditEvents, events.SignInAttempts}, ""},
		{"empty", []string{}, nil, "features: at least one feature is required"},
		{"blank", []string{" ", ""}, nil, "features: at least one feature is required"},
		{"unknown", []string{"vaultaccess"}, nil, `features: unknown feature "vaultaccess"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := admin.ParseFeatureList(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || !errors.Is(err, admin.ErrInvalid) {
					t.Errorf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("features (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseExpiresIn(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "never", "30d", "90d", "180d", "12h", "2w"} {
		if _, err := admin.ParseExpiresIn(in); err != nil {
			t.Errorf("ParseExpiresIn(%q) = %v", in, err)
		}
	}
	for _, in := range []string{"soon", "-1d", "0d", "30", "1y"} {
		if _, err := admin.ParseExpiresIn(in); admin.FieldOf(err) != "expires_in" {
			t.Errorf("ParseExpiresIn(%q) = %v, want an error on expires_in", in, err)
		}
	}
}

// FuzzCheckPassword: no hash string makes CheckPassword panic, and a
// malformed one never matches the empty password.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pw")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		if strings.Contains(hash, "m=") && !strings.Contains(hash, "m=19456") {
			t.Skip() // keep each run cheap: other costs are checked above
		}
		if admin.CheckPassword(hash, pw) && !strings.HasPrefix(hash, "$argon2id$v=19$") {
			t.Errorf("CheckPassword(%q, %q) = true for a hash not in the argon2id format", hash, pw)
		}
	})
}
