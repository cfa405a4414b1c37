// Package forensic reads SQLite's files below SQL, as someone holding a
// copy of them would: b-tree pages cell by cell, in the order their cells
// were written, and the write-ahead log frame by frame, commit by commit.
// It is the attacker in the ballot secrecy tests; nothing else uses it.
package forensic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Cell is one row of an index b-tree page (which WITHOUT ROWID tables are
// too) and where it lies in its page.
type Cell struct {
	Offset int
	Values []any // int64, string, []byte or nil
}

// PageSize reads the page size from a database file's header.
func PageSize(file []byte) (int, error) {
	if len(file) < 100 || string(file[:16]) != "SQLite format 3\x00" {
		return 0, errors.New("forensic: not an SQLite database file")
	}
	n := int(binary.BigEndian.Uint16(file[16:18]))
	if n == 1 {
		n = 65536
	}
	return n, nil
}

// usable is the page size less the bytes reserved at the end of each page.
func usable(file []byte, pageSize int) int { return pageSize - int(file[20]) }

// Page returns page n (from 1) of file.
func Page(file []byte, pageSize, n int) ([]byte, error) {
	if n < 1 || n*pageSize > len(file) {
		return nil, fmt.Errorf("forensic: no page %d in a file of %d bytes", n, len(file))
	}
	return file[(n-1)*pageSize : n*pageSize], nil
}

// Tree walks the index b-tree rooted at page root and returns its pages'
// cells, page by page as the walk meets them (a left child before the
// interior page that points to it, the right-most child last), and within
// a page in the order the cells were written: highest offset first, since
// SQLite puts each new cell below the ones before. In an index b-tree the
// interior pages hold rows too.
func Tree(file []byte, root int) ([][]Cell, error) {
	pageSize, err := PageSize(file)
	if err != nil {
		return nil, err
	}
	var pages [][]Cell
	var walk func(n, depth int) error
	walk = func(n, depth int) error {
		if depth > 20 {
			return errors.New("forensic: the tree is deeper than any real one: a loop")
		}
		page, err := Page(file, pageSize, n)
		if err != nil {
			return err
		}
		cells, children, err := indexPage(page, n, usable(file, pageSize))
		if err != nil {
			return err
		}
		for _, child := range children[:max(0, len(children)-1)] {
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		pages = append(pages, cells)
		if len(children) > 0 {
			return walk(children[len(children)-1], depth+1)
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

// PageCells decodes an index b-tree page image, in the order its cells
// were written. ok is false if the image is not one (a table b-tree page,
// a free page, an overflow page) or does not decode.
func PageCells(image []byte, pageNo, usableSize int) (cells []Cell, ok bool) {
	cells, _, err := indexPage(image, pageNo, usableSize)
	return cells, err == nil
}

// indexPage decodes an index b-tree page: its cells in the order they were
// written, and for an interior page its children in key order, the
// right-most last.
func indexPage(page []byte, n, usableSize int) (cells []Cell, children []int, err error) {
	hdr := 0
	if n == 1 {
		hdr = 100 // the database header comes first
	}
	if len(page) < hdr+12 {
		return nil, nil, errors.New("forensic: short page")
	}
	interior := false
	switch page[hdr] {
	case 0x02:
		interior = true
	case 0x0a:
	default:
		return nil, nil, fmt.Errorf("forensic: page %d has type %#x, not an index b-tree page", n, page[hdr])
	}
	count := int(binary.BigEndian.Uint16(page[hdr+3 : hdr+5]))
	ptrs := hdr + 8
	if interior {
		ptrs = hdr + 12
	}
	if ptrs+2*count > len(page) {
		return nil, nil, fmt.Errorf("forensic: page %d: %d cells do not fit", n, count)
	}
	// An index cell's payload lies wholly in its page up to this size.
	maxLocal := (usableSize-12)*64/255 - 23
	for i := range count {
		off := int(binary.BigEndian.Uint16(page[ptrs+2*i:]))
		at := off
		if interior {
			if at+4 > len(page) {
				return nil, nil, fmt.Errorf("forensic: page %d: a cell lies outside it", n)
			}
			children = append(children, int(binary.BigEndian.Uint32(page[at:])))
			at += 4
		}
		size, j, err := varint(page, at)
		if err != nil {
			return nil, nil, err
		}
		if size > uint64(maxLocal) || j+int(size) > len(page) {
			return nil, nil, fmt.Errorf("forensic: page %d: a cell overflows; only small rows are read", n)
		}
		vals, err := Record(page[j : j+int(size)])
		if err != nil {
			return nil, nil, fmt.Errorf("forensic: page %d: %w", n, err)
		}
		cells = append(cells, Cell{Offset: off, Values: vals})
	}
	if interior {
		children = append(children, int(binary.BigEndian.Uint32(page[hdr+8:])))
	}
	slices.SortFunc(cells, func(a, b Cell) int { return b.Offset - a.Offset })
	return cells, children, nil
}

func varint(b []byte, i int) (uint64, int, error) {
	var v uint64
	for k := range 9 {
		if i+k >= len(b) {
			return 0, 0, errors.New("forensic: a varint runs off the page")
		}
		c := b[i+k]
		if k == 8 {
			return v<<8 | uint64(c), i + 9, nil
		}
		v = v<<7 | uint64(c&0x7f)
		if c < 0x80 {
			return v, i + k + 1, nil
		}
	}
	return v, i + 9, nil
}

// Record decodes an SQLite record: integers, text, blobs and nulls (reals
// come back as their 8 raw bytes).
func Record(rec []byte) ([]any, error) {
	headerLen, j, err := varint(rec, 0)
	if err != nil {
		return nil, err
	}
	if headerLen > uint64(len(rec)) {
		return nil, errors.New("forensic: a record's header runs past it")
	}
	var types []uint64
	for j < int(headerLen) {
		var st uint64
		if st, j, err = varint(rec, j); err != nil {
			return nil, err
		}
		types = append(types, st)
	}
	var vals []any
	k := int(headerLen)
	for _, st := range types {
		size := 0
		switch {
		case st >= 1 && st <= 6:
			size = []int{0, 1, 2, 3, 4, 6, 8}[st]
		case st == 7:
			size = 8
		case st >= 12:
			size = int(st-12) / 2
		}
		if k+size > len(rec) {
			return nil, errors.New("forensic: a record's value runs past it")
		}
		v := rec[k : k+size]
		k += size
		switch {
		case st == 0:
			vals = append(vals, nil)
		case st >= 1 && st <= 6:
			n := int64(int8(v[0])) // sign-extended, big-endian
			for _, c := range v[1:] {
				n = n<<8 | int64(c)
			}
			vals = append(vals, n)
		case st == 8 || st == 9:
			vals = append(vals, int64(st-8))
		case st >= 13 && st%2 == 1:
			vals = append(vals, string(v))
		default:
			vals = append(vals, slices.Clone(v))
		}
	}
	return vals, nil
}
