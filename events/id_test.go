package events

import (
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	for range 100 {
		id := NewID()
		if !ValidUpperID(id) || ValidLowerID(id) && strings.ToUpper(id) != id {
			t.Fatalf("NewID() = %q, want 26 upper-case base32", id)
		}
		lo := NewLowerID()
		if !ValidLowerID(lo) || len(lo) != IDLen {
			t.Fatalf("NewLowerID() = %q", lo)
		}
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"56YE2TYN2VFYRLNSHKPW5NVT5E", true},
		{"jaqxqf5qylslqiitnduawrndc5", true},
		{"56YE2TYN2VFYRLNSHKPW5NVT5", false},  // 25 chars
		{"56YE2TYN2VFYRLNSHKPW5NVT5e", false}, // mixed case
		{"56YE2TYN2VFYRLNSHKPW5NVT51", false}, // 1 is not base32
		{"SDGD3I4AJYO6RMHRK8DYVNFIDZ", false}, // 8 (docs example defect)
	} {
		if got := ValidID(tc.in); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseFeatures(t *testing.T) {
	got, err := ParseFeatures("signinattempts, auditevents,signinattempts")
	if err != nil || JoinFeatures(got) != "auditevents,signinattempts" {
		t.Errorf("ParseFeatures = %v, %v", got, err)
	}
	for _, bad := range []string{"", " , ", "signinattempts,bogus"} {
		if _, err := ParseFeatures(bad); err == nil {
			t.Errorf("ParseFeatures(%q) = nil error", bad)
		}
	}
}

func TestCatalogCoversEnums(t *testing.T) {
	actions, objects := map[string]bool{}, map[string]bool{}
	for obj, acts := range AuditCatalog {
		objects[obj] = true
		for _, a := range acts {
			actions[a] = true
			if !In(a, AuditActions) {
				t.Errorf("catalog action %s/%s not in AuditActions", a, obj)
			}
		}
		// miguser is in 1Password's audit tables but not in the 1.4.1 enum.
		if !In(obj, AuditObjectTypes) && obj != "miguser" {
			t.Errorf("catalog object %s not in AuditObjectTypes", obj)
		}
	}
	for _, a := range AuditActions {
		if !actions[a] {
			t.Errorf("action %s has no object type in AuditCatalog", a)
		}
	}
	if len(AuditActions) != 79 || len(AuditObjectTypes) != 30 {
		t.Errorf("got %d actions, %d object types; want 79, 30", len(AuditActions), len(AuditObjectTypes))
	}
	types := map[string]bool{}
	for _, c := range SignInCategories {
		for _, ty := range SignInTypesByCategory[c] {
			types[ty] = true
		}
	}
	for _, ty := range SignInTypes {
		if !types[ty] {
			t.Errorf("sign-in type %s belongs to no category", ty)
		}
	}
}
