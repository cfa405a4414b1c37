package library

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestMalformedFiles(t *testing.T) {
	var many strings.Builder
	many.WriteString("Item Type,Title,Url\n")
	for i := range MaxImportRows + 1 {
		fmt.Fprintf(&many, "report,Report %d,https://example.org/%d\n", i, i)
	}
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "The file is empty."},
		{"only a byte order mark and blank lines", "\uFEFF\n\n  \n", "The file is empty."},
		{"not JSON", `{"format": plenary}`, "The file is not valid JSON: invalid character"},
		{"truncated JSON", `{"format":"plenary-library","version":1,"resources":[{"title":"x"`, "it ends too soon"},
		{"truncated CSL-JSON", `[{"title": "x", "author": [{"family": "Sc`, "it ends too soon"},
		{"a JSON object of another kind", `{"items": []}`, "not a Plenary library export"},
		{"a newer version", `{"format":"plenary-library","version":2}`, "version 2"},
		{"resources that are not a list", `{"format":"plenary-library","version":1,"resources":{"title":"x"}}`, `"resources" should be a list`},
		{"a CSV without a header", `"7QK2MZ3D","book","2016","Scholz, Trebor","Ours to Hack and to Own"` + "\n", "no Item Type or Title column"},
		{"a CSV without a Title column", "Item Type,Name\nbook,x\n", "no Title column"},
		{"plain text", "hello, world\n", "no Item Type or Title column"},
		{"a ragged CSV row", "Item Type,Title,Url\nbook,A,https://example.org/a\nbook,B\n", "Row 3 (line 3) has 2 columns but the header has 3"},
		{"UTF-16, as Excel's Unicode Text saves", "\xff\xfeI\x00t\x00", "save it as UTF-8"},
		{"a stray quote", "Item Type,Title,Url\nbook,\"A\"x,https://example.org/a\n", "malformed at line 2"},
		{"50,001 rows", many.String(), "more than 50000 rows"},
		{"more than 20 MB", "[" + strings.Repeat(" ", MaxImportBytes) + "]", "larger than 20 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.file))
			var v ValidationError
			if !errors.As(err, &v) || !strings.Contains(v["file"], tt.want) {
				t.Fatalf("err = %v, want a file error containing %q", err, tt.want)
			}
			s := transferService(t)
			if _, err := s.Import(context.Background(), []byte(tt.file)); err == nil {
				t.Fatal("import succeeded")
			}
			if n := countRows(t, s, "resources"); n != 0 {
				t.Errorf("%d resources imported", n)
			}
		})
	}

	t.Run("50,000 rows are allowed", func(t *testing.T) {
		file := many.String()
		file = file[:strings.LastIndex(strings.TrimSuffix(file, "\n"), "\n")+1]
		dec, err := Decode([]byte(file))
		if err != nil || len(dec.Resources) != MaxImportRows {
			t.Fatalf("%d rows, err %v", len(dec.Resources), err)
		}
	})
	t.Run("CSL items that are not objects are rejected rows", func(t *testing.T) {
		s := transferService(t)
		rep, err := s.Import(context.Background(), []byte(`[1, "two", null]`))
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "3 rows are wrong") {
			t.Fatalf("err = %v, rejected %v", err, rep.Rejected)
		}
		var rows []int
		for _, e := range rep.Rejected {
			rows = append(rows, e.Row)
		}
		if !reflect.DeepEqual(rows, []int{1, 2, 3, 3}) { // null is an empty item: no title, no link
			t.Errorf("rejected rows = %v", rows)
		}
		if got := rep.Rejected[0].String(); got != "row 1: Expected an object, found a JSON number." {
			t.Errorf("rejected = %q", got)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format":"plenary-library","version":1,"resources":[{"title":"x","url":"https://e.org","year":2000}],"demands":[{"resources":["x"]}]}`))
	f.Add([]byte(`[{"type":"book","title":"x","issued":{"date-parts":[[2000]]},"author":[{"family":"a"}]}]`))
	f.Add([]byte("\uFEFF\"Item Type\",\"Title\",\"Author\"\n\"book\",\"x\",\"a, b; c\"\n"))
	f.Add([]byte(`[{"issued": "x"}, {"issued": {"date-parts": [[]]}}, {"issued": {"date-parts": []}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := Decode(data)
		if err != nil {
			return
		}
		for _, r := range dec.Resources {
			r.Input.resource()
		}
	})
}
