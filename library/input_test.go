package library

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"plenary/internal/check"
)

// tagParam is the parameter of one check in a field's validate tag.
func tagParam(t *testing.T, v any, field, name string) string {
	t.Helper()
	f, ok := reflect.TypeOf(v).FieldByName(field)
	if !ok {
		t.Fatalf("%T has no field %s", v, field)
	}
	for _, tag := range strings.Split(f.Tag.Get("validate"), ",") {
		if p, ok := strings.CutPrefix(tag, name+"="); ok {
			return p
		}
	}
	t.Fatalf("%T.%s has no %s tag", v, field, name)
	return ""
}

// The tags are where the limits are written; the constants the rest of the
// code (and the fuzz tests' caps) use must say the same.
func TestTagsAgreeWithTheConstants(t *testing.T) {
	for _, c := range []struct {
		v           any
		field, name string
		want        int
	}{
		{ResourceInput{}, "Title", "max", MaxTitleLen},
		{ResourceInput{}, "URL", "max", MaxURLLen},
		{ResourceInput{}, "Authors", "maxlines", MaxAuthors},
		{ResourceInput{}, "Authors", "linemax", MaxAuthorLen},
		{ResourceInput{}, "Publisher", "max", MaxPublisherLen},
		{ResourceInput{}, "Region", "max", MaxRegionLen},
		{ResourceInput{}, "Topics", "maxlines", MaxTopics},
		{ResourceInput{}, "Topics", "linemax", MaxTopicLen},
		{ResourceInput{}, "Licence", "max", MaxLicenceLen},
		{ResourceInput{}, "Summary", "max", MaxSummaryLen},
		{DemandInput{}, "Title", "max", MaxDemandTitleLen},
		{DemandInput{}, "Body", "max", MaxDemandBodyLen},
	} {
		if got := tagParam(t, c.v, c.field, c.name); got != strconv.Itoa(c.want) {
			t.Errorf("%T.%s: %s=%s in the tag, %d in the constant", c.v, c.field, c.name, got, c.want)
		}
	}
	if got, want := check.OneOf(statusChoice{}, "Status"), []string{StatusListed, StatusHidden, StatusPending}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses: the tag allows %q, the constants are %q", got, want)
	}
	if len(Formats) != 12 || Formats[4] != "case study" || len(Audiences) != 7 || Audiences[0] != "co-op movement" {
		t.Errorf("formats %q, audiences %q", Formats, Audiences)
	}
}

func TestResourceInput(t *testing.T) {
	t.Run("is kept normalised", func(t *testing.T) {
		in := ResourceInput{Title: "  Own This!  ", URL: " HTTPS://Example.ORG/Own ", Authors: "Trebor  Scholz; \n Nathan Schneider\n\n",
			Publisher: " Verso ", Year: " 2023 ", Format: " Book ", Language: "pt_br", Region: " UK ",
			Topics: "Labour, platform co-ops; labour\nPOLICY", Licence: " CC BY ", Summary: "One\r\nTwo\rThree\r\r\n",
			DOI: "https://doi.org/10.1000/ABC", ISBN: "978-1-83976-455-4"}
		r, v := in.resource()
		if len(v) > 0 {
			t.Fatalf("refused: %v", v)
		}
		want := Resource{Title: "Own This!", URL: "https://example.org/Own", Authors: List{"Trebor Scholz", "Nathan Schneider"},
			Publisher: "Verso", Year: r.Year, Format: "book", Language: "pt-BR", Region: "UK",
			Topics: List{"labour", "platform co-ops", "policy"}, Licence: "CC BY", Summary: "One\nTwo\nThree",
			DOI: "10.1000/abc", ISBN: "9781839764554"}
		if r.Year == nil || *r.Year != 2023 || !reflect.DeepEqual(r, want) {
			t.Errorf("got  %+v\nwant %+v", r, want)
		}
		// What is kept goes through again unchanged: an edit form sent
		// back as it came changes nothing.
		if again, v := InputOf(r).resource(); len(v) > 0 || !reflect.DeepEqual(again, r) {
			t.Errorf("again: %+v %v", again, v)
		}
	})
	t.Run("an empty language is English", func(t *testing.T) {
		r, v := ResourceInput{Title: "T", URL: "https://example.org", Format: "other"}.resource()
		if len(v) > 0 || r.Language != "en" || r.Year != nil || r.Authors == nil || r.Topics == nil {
			t.Errorf("got %+v, %v", r, v)
		}
	})
	t.Run("every field says what is wrong with it", func(t *testing.T) {
		in := ResourceInput{Title: "a\x00", URL: "javascript:alert(1)", Authors: strings.Repeat("x", MaxAuthorLen+1),
			Publisher: "\xff", Year: "1799", Format: "pamphlet", Language: "english", Region: strings.Repeat("é", MaxRegionLen+1),
			Topics: "a, b, c, d, e, f, g, h, i, j, k", Licence: "a\x1bb",
			Summary: strings.Repeat("s", MaxSummaryLen+1), DOI: "11.1/x", ISBN: "9781839764555"}
		r, v := in.resource()
		want := ValidationError{
			"title":     "This contains control characters.",
			"url":       "Enter a full web address starting with https:// or http://.",
			"authors":   "Each author's name must be plain text under 120 characters.",
			"publisher": "This contains invalid characters.",
			"year":      "Enter a year between 1800 and 2100, or leave it empty.",
			"format":    "Choose one of the formats listed.",
			"language":  "Enter a language tag such as en, fr, pt-BR or es-419.",
			"region":    "Keep this under 80 characters.",
			"topics":    "Choose at most 10 topics.",
			"licence":   "This contains control characters.",
			"summary":   "Keep the summary under 5000 characters.",
			"doi":       "Enter a DOI such as 10.1177/0896920519870577.",
			"isbn":      "Enter a 10- or 13-digit ISBN.",
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("got  %v\nwant %v", v, want)
		}
		if r.URL != "" || r.Year != nil {
			t.Errorf("a wrong link or year is kept: %q %v", r.URL, r.Year)
		}
	})
	t.Run("the link's messages", func(t *testing.T) {
		for raw, want := range map[string]string{
			"   ": "Enter the link where the resource can be found.",
			"https://example.org/" + strings.Repeat("a", MaxURLLen):   "This link is too long.",
			"https://example.org/a b":                                 "A link cannot contain spaces or invisible characters.",
			"https://user:pw@example.org/":                            "Enter a full web address starting with https:// or http://.",
			"https://example.org/" + strings.Repeat("é", MaxURLLen/2): "This link is too long.",
		} {
			if link, msg := checkURL(raw); msg != want || link != "" {
				t.Errorf("checkURL(%.40q) = %q, %q; want the message %q", raw, link, msg, want)
			}
		}
		if link, msg := checkURL(" HTTP://Example.org/x "); link != "http://example.org/x" || msg != "" {
			t.Errorf("checkURL of a good link = %q, %q", link, msg)
		}
	})
}

func TestDemandInput(t *testing.T) {
	d, v := DemandInput{Title: " Fund co-ops ", Body: "Councils\r\nshould. ", Audience: " Local Government ", Resources: "#3, 14 3;15"}.demand()
	if len(v) > 0 || d.Title != "Fund co-ops" || d.Body != "Councils\nshould." || d.Audience != "local government" ||
		!reflect.DeepEqual(d.Resources, []int64{3, 14, 15}) {
		t.Errorf("got %+v, %v", d, v)
	}
	_, v = DemandInput{Title: "One\tTwo", Body: " ", Audience: "martians", Resources: "3, x"}.demand()
	want := ValidationError{"title": "The title contains invalid characters.", "body": "Say what the demand asks for, and of whom.",
		"audience": "Choose who the demand is addressed to.", "resources": "List library numbers such as 3, 14, 15."}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got  %v\nwant %v", v, want)
	}
}
