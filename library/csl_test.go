package library

import (
	"context"
	"reflect"
	"testing"
)

func TestCSLImport(t *testing.T) {
	s := transferService(t)
	rep, err := s.Import(context.Background(), []byte(`[
	  {"id": "http://zotero.org/users/1/items/ABC", "type": "article-journal", "title": "An Internet of Ownership",
	   "container-title": "The Sociological Review", "author": [{"family": "Schneider", "given": "Nathan"}],
	   "issued": {"date-parts": [["2018", "3"]]}, "DOI": "10.1177/0038026118758533", "keyword": "ownership, Platform co-ops",
	   "language": "English", "abstract": "On design for shared ownership."},
	  {"type": "report", "genre": "Case study", "title": "Stocksy United", "URL": "https://example.org/stocksy",
	   "author": [{"literal": "Co-operatives UK"}, {"given": "Ludwig", "non-dropping-particle": "van", "family": "Beethoven"}],
	   "issued": {"raw": "2017-05"}},
	  {"type": "book", "title": "Everything for Everyone", "editor": [{"family": "Schneider", "given": "Nathan"}],
	   "ISBN": "9781568589596 1568589597", "publisher": "Nation Books", "issued": {"literal": "Autumn 2018"}}
	]`))
	if err != nil {
		t.Fatalf("%v %v", err, rep.Rejected)
	}
	if rep.Added != 3 || rep.Format != "CSL-JSON" {
		t.Fatalf("report = %+v", rep)
	}
	a := byTitle(t, s, "An Internet of Ownership")
	if a.URL != "https://doi.org/10.1177/0038026118758533" || a.Publisher != "The Sociological Review" || *a.Year != 2018 ||
		!reflect.DeepEqual(a.Topics, List{"ownership", "platform co-ops"}) || a.Language != "en" || a.Format != "article" {
		t.Errorf("article = %+v", a)
	}
	c := byTitle(t, s, "Stocksy United")
	if c.Format != "case study" || *c.Year != 2017 || !reflect.DeepEqual(c.Authors, List{"Co-operatives UK", "Ludwig van Beethoven"}) {
		t.Errorf("case study = %+v", c)
	}
	b := byTitle(t, s, "Everything for Everyone")
	if b.ISBN != "9781568589596" || b.URL != "https://openlibrary.org/isbn/9781568589596" || *b.Year != 2018 ||
		!reflect.DeepEqual(b.Authors, List{"Nathan Schneider"}) {
		t.Errorf("book = %+v", b)
	}
}
