package forensic

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Frame is one frame of a write-ahead log: the image of one page, written
// by one transaction.
type Frame struct {
	Page int
	// DBSize, the database's size in pages, is set on the last frame of
	// each commit and zero on the others.
	DBSize uint32
	Salt   [2]uint32
	Image  []byte
}

// WAL is a write-ahead log file as it lies on disk.
type WAL struct {
	PageSize int
	Salt     [2]uint32 // frames with other salts are left from before the log restarted
	Frames   []Frame
}

// ReadWAL reads a write-ahead log file: a 32-byte header, then frames of a
// 24-byte header and a page image each. An empty file is an empty log.
func ReadWAL(b []byte) (WAL, error) {
	if len(b) == 0 {
		return WAL{}, nil
	}
	if len(b) < 32 {
		return WAL{}, errors.New("forensic: a write-ahead log shorter than its header")
	}
	if magic := binary.BigEndian.Uint32(b); magic != 0x377f0682 && magic != 0x377f0683 {
		return WAL{}, errors.New("forensic: not a write-ahead log")
	}
	w := WAL{
		PageSize: int(binary.BigEndian.Uint32(b[8:])),
		Salt:     [2]uint32{binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])},
	}
	if w.PageSize < 512 || w.PageSize > 65536 {
		return WAL{}, errors.New("forensic: a write-ahead log with a page size no SQLite uses")
	}
	for off := 32; off+24+w.PageSize <= len(b); off += 24 + w.PageSize {
		h := b[off : off+24]
		w.Frames = append(w.Frames, Frame{
			Page:   int(binary.BigEndian.Uint32(h)),
			DBSize: binary.BigEndian.Uint32(h[4:]),
			Salt:   [2]uint32{binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])},
			Image:  b[off+24 : off+24+w.PageSize],
		})
	}
	return w, nil
}

// Commits groups the frames into the transactions that wrote them, in
// the order they lie in the file, stale ones included: a commit ends with
// a frame that carries the database size. Frames after the last commit
// were never committed and are left out.
func (w WAL) Commits() [][]Frame {
	var commits [][]Frame
	start := 0
	for i, f := range w.Frames {
		if f.DBSize != 0 {
			commits = append(commits, w.Frames[start:i+1])
			start = i + 1
		}
	}
	return commits
}

// Apply returns the database as SQLite would read it: file with the
// current log's committed frames written over it, in order.
func Apply(file []byte, w WAL) []byte {
	out := slices.Clone(file)
	for _, commit := range w.Commits() {
		if commit[len(commit)-1].Salt != w.Salt {
			continue
		}
		for _, f := range commit {
			end := f.Page * w.PageSize
			if end > len(out) {
				out = append(out, make([]byte, end-len(out))...)
			}
			copy(out[end-w.PageSize:end], f.Image)
		}
	}
	return out
}
