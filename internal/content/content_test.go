package content

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The canonical JSON is the contract with every digest already on a
// ledger: keys sorted, no spaces, lists never null. Changing it would make
// every endorsement fail verification.
func TestCanonicalJSON(t *testing.T) {
	year := 2016
	r := Resource{Title: "Ours to Hack & Own", URL: "https://example.org/a?b=1&c=<2>", Authors: []string{"Trebor Scholz"}, Year: &year,
		Format: "book", Language: "en", Summary: "Line one\nline \"two\""}
	want := `{"authors":["Trebor Scholz"],"doi":"","format":"book","isbn":"","language":"en","licence":"","publisher":"","region":"",` +
		`"summary":"Line one\nline \"two\"","title":"Ours to Hack \u0026 Own","topics":[],"url":"https://example.org/a?b=1\u0026c=\u003c2\u003e","year":2016}`
	if got := r.Canonical(); got != want {
		t.Errorf("resource:\n got %s\nwant %s", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if r.Digest() != hex.EncodeToString(sum[:]) {
		t.Errorf("the digest is not the SHA-256 of the canonical JSON")
	}
	if got := (Resource{}).Canonical(); got != `{"authors":[],"doi":"","format":"","isbn":"","language":"","licence":"","publisher":"","region":"","summary":"","title":"","topics":[],"url":"","year":null}` {
		t.Errorf("empty resource: %s", got)
	}
	d := Demand{Title: "Open procurement", Body: "Buy from co-ops.", Audience: "local government"}
	if got := d.Canonical(); got != `{"audience":"local government","body":"Buy from co-ops.","resources":[],"title":"Open procurement"}` {
		t.Errorf("demand: %s", got)
	}
	d.Resources = []int64{3, 1}
	if d.Digest() == (Demand{Title: d.Title, Body: d.Body, Audience: d.Audience, Resources: []int64{1, 3}}).Digest() {
		t.Errorf("the order of supporting resources does not change the digest")
	}
}
