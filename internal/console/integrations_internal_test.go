package console

import (
	"regexp"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
)

// TestSIEMTiles checks every SIEM has a look of its own: a mark no other
// SIEM has, a description of its connector, and a colour in the style
// sheet.
func TestSIEMTiles(t *testing.T) {
	css, err := files.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	marks := map[string]string{}
	for _, s := range admin.SIEMs {
		if _, ok := siemLooks[s]; !ok {
			t.Errorf("%s has no mark or description", s)
			continue
		}
		tile := siemTileOf(s)
		if other, ok := marks[tile.Mark]; ok {
			t.Errorf("%s and %s share the mark %q", s, other, tile.Mark)
		}
		marks[tile.Mark] = s
		if len(tile.Blurb) < 20 {
			t.Errorf("%s: description %q says too little", s, tile.Blurb)
		}
		if !regexp.MustCompile(`\.tile-` + tile.Slug + ` \{ --brand: #[0-9a-f]{6}; \}`).Match(css) {
			t.Errorf("%s has no colour (.tile-%s) in console.css", s, tile.Slug)
		}
	}
}
