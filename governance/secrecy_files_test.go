package governance_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"plenary/governance"
	"plenary/internal/db/dbtest"
	"plenary/internal/forensic"
)

// The attacker of these tests holds a copy of the database's files (a
// stolen backup disk, a curious host) and reads them below SQL with the
// forensic package. The order members voted in is what a request log or
// an observer of the voters would give; here it is b.cast.

// Pairing voters with ballots at random gives about 10 of 30 voters'
// choices (one in three), and finds about 1 voter's own ballot (the fixed
// points of a random permutation). Each test reads one ballot, one
// pairing, so the line between chance and a leak must be far out in
// chance's tail, or the suite fails now and then with nothing wrong: a
// test fails from 25 choices or 10 own ballots. Among these ballots'
// voters (11, 9 and 10 for the three choices), chance gives 25 choices
// with a probability of about 4 in 100 million (a simulation of 10^8
// random pairings met it 4 times) and 10 own ballots of about 1 in 10
// million (the fixed points of a random permutation of 30). The lines
// were 20 and 7, which chance crosses 3.5 times in 10,000 (the
// simulation), and did once in a full run. A leak of the order is far
// beyond either: the order of casting, kept, gives every voter's choice
// and nearly every own ballot, as the check before the scrub shows.
const (
	chanceChoices = 25
	chanceOwn     = 10
)

// beyondChance says whether a pairing did better than chance.
func beyondChance(choices, exact int) bool { return choices >= chanceChoices || exact >= chanceOwn }

// files is a copy of the database file and of its write-ahead log, as
// they lie on disk.
type files struct {
	db       []byte
	wal      forensic.WAL
	pageSize int
	usable   int
}

func copyFiles(t *testing.T, c *coop) files {
	t.Helper()
	db, err := os.ReadFile(c.d.Path)
	if err != nil {
		t.Fatal(err)
	}
	walFile, err := os.ReadFile(c.d.Path + "-wal")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	wal, err := forensic.ReadWAL(walFile)
	if err != nil {
		t.Fatal(err)
	}
	pageSize, err := forensic.PageSize(db)
	if err != nil {
		t.Fatal(err)
	}
	return files{db: db, wal: wal, pageSize: pageSize, usable: pageSize - int(db[20])}
}

// current is the database as SQLite would read it from the copy: the file
// with the log's commits over it.
func (f files) current() []byte { return forensic.Apply(f.db, f.wal) }

// ballotRows picks out of a page image the ballot's roll rows marked voted
// (their members) and its box rows (their receipt hashes), by their shape.
func (f files) ballotRows(image []byte, pageNo int, proposal int64) (voters []int64, hashes []string) {
	cells, ok := forensic.PageCells(image, pageNo, f.usable)
	if !ok {
		return nil, nil
	}
	for _, cell := range cells {
		v := cell.Values
		if len(v) == 0 || v[0] != any(proposal) {
			continue
		}
		switch {
		case len(v) != 3:
		case v[2] == any(int64(1)):
			if m, ok := v[1].(int64); ok {
				voters = append(voters, m) // a roll row: proposal, member, voted
			}
		default:
			if hash, ok := v[1].(string); ok && len(hash) == 64 {
				hashes = append(hashes, hash) // a box row: proposal, receipt hash, choice or ranking
			}
		}
	}
	return voters, hashes
}

// walPairs replays the log commit by commit, each page image against what
// the page held before (an earlier frame, or else the database file). A
// commit that marks exactly one member of the ballot as voted and adds
// exactly one ballot to its box pairs the two: member → receipt hash.
func walPairs(b *secretBallot, f files) map[int64]string {
	seenVoter, seenHash, seenPage := map[int64]bool{}, map[string]bool{}, map[int]bool{}
	see := func(voters []int64, hashes []string) (newVoters []int64, newHashes []string) {
		for _, m := range voters {
			if !seenVoter[m] {
				seenVoter[m] = true
				newVoters = append(newVoters, m)
			}
		}
		for _, h := range hashes {
			if !seenHash[h] {
				seenHash[h] = true
				newHashes = append(newHashes, h)
			}
		}
		return newVoters, newHashes
	}
	pairs := map[int64]string{}
	for _, commit := range f.wal.Commits() {
		var voters []int64
		var hashes []string
		for _, frame := range commit {
			if !seenPage[frame.Page] {
				seenPage[frame.Page] = true
				if before, err := forensic.Page(f.db, f.pageSize, frame.Page); err == nil {
					see(f.ballotRows(before, frame.Page, b.p.ID))
				}
			}
			v, h := see(f.ballotRows(frame.Image, frame.Page, b.p.ID))
			voters, hashes = append(voters, v...), append(hashes, h...)
		}
		if len(voters) == 1 && len(hashes) == 1 {
			pairs[voters[0]] = hashes[0]
		}
	}
	return pairs
}

// orderPairs pairs the n-th of the ballot's cells in a b-tree, in the
// order they were written, with the n-th voter in the order they voted.
// hashAt and proposalAt are the columns of the receipt hash and the
// proposal in the tree's rows.
func orderPairs(t *testing.T, b *secretBallot, file []byte, tree string, hashAt, proposalAt int) map[int64]string {
	t.Helper()
	var hashes []string
	for _, page := range pageCells(t, b.coop, file, tree) {
		for _, row := range page {
			if row[proposalAt] == any(b.p.ID) {
				hashes = append(hashes, row[hashAt].(string))
			}
		}
	}
	if len(hashes) != len(b.cast) {
		t.Fatalf("%s: read %d of the ballot's cells, want %d: the reader is wrong", tree, len(hashes), len(b.cast))
	}
	pairs := map[int64]string{}
	for i, m := range b.cast {
		pairs[m.ID] = hashes[i]
	}
	return pairs
}

// linked counts the voters whose choice a pairing gives: the choice the
// published box shows for the receipt hash paired with them is theirs.
// exact counts the pairings that found the voter's own ballot.
func (b *secretBallot) linked(pairs map[int64]string) (choices, exact int) {
	published := map[string]string{}
	own := map[int64]string{}
	for i, m := range b.cast {
		h := governance.ReceiptHash(b.receipts[i])
		published[h] = b.choices[m.ID]
		own[m.ID] = h
	}
	for m, h := range pairs {
		if published[h] == b.choices[m] {
			choices++
		}
		if own[m] == h {
			exact++
		}
	}
	return choices, exact
}

func TestSecretBallotLeavesNoOrderInTheFiles(t *testing.T) {
	dbtest.RequireSQLite(t) // SQLite's pages and log, read below SQL; PostgreSQL's: TestSecretBallotLeavesNoLink
	for _, tt := range []struct {
		name      string
		box       string
		neighbour bool
	}{
		{"a lone ballot", "ballot_box", false},
		{"a ballot voted beside another secret ballot", "ballot_box", true},
		{"a lone ranked ballot", "choice_box", false},
		{"a ranked ballot voted beside another", "choice_box", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newSecretBallotIn(t, tt.neighbour, tt.box)
			c := b.coop

			// While the ballot is open and before any scrub, the log does
			// pair every voter: this is the window Scrub keeps short, and
			// the proof that the reader below reads what is there.
			open := copyFiles(t, c)
			choices, exact := b.linked(walPairs(b, open))
			if exact != len(b.cast) {
				t.Fatalf("before any scrub the log pairs %d of 30 voters with their own ballots, want all: the reader is wrong", exact)
			}
			t.Logf("before any scrub, the write-ahead log gives %d of 30 voters' choices", choices)
			// So does the order of a lone ballot's box, in one page, until
			// the rewrite at close: the proof that the reader of the order
			// below reads an order that is there, and that the lines of
			// chance catch it. (Beside another ballot the box fills more
			// than a page, and a page split writes the cells it moves in
			// key order, so part of the casting order is lost before the
			// close.)
			choices, exact = b.linked(orderPairs(t, b, open.current(), b.box, 1, 0))
			t.Logf("before the close, the order of the box's cells gives %d of 30 voters' choices (%d their own ballots)", choices, exact)
			if !tt.neighbour && !beyondChance(choices, exact) {
				t.Fatalf("before the close the box's cells in written order pair %d voters with their choices and %d with their own ballots, want far beyond chance: the reader is wrong", choices, exact)
			}

			// Advance closes the ballot and scrubs after it; then the
			// ticker's scrub runs, as serve runs it.
			c.finish(t, b.p)
			if err := c.s.Scrub(c.ctx); err != nil {
				t.Fatal(err)
			}
			f := copyFiles(t, c)

			t.Run("the write-ahead log pairs voters with choices no better than chance", func(t *testing.T) {
				pairs := walPairs(b, f)
				choices, exact := b.linked(pairs)
				t.Logf("the log holds %d commits; replaying them pairs %d voters, giving %d of 30 voters' choices (%d their own ballots)",
					len(f.wal.Commits()), len(pairs), choices, exact)
				if beyondChance(choices, exact) {
					t.Errorf("the write-ahead log gives %d of 30 voters' choices and %d their own ballots, want about 10 and 1 at most (chance)", choices, exact)
				}
			})

			t.Run("the order of the box's cells pairs voters with choices no better than chance", func(t *testing.T) {
				file := f.current()
				// Every b-tree that holds the box's rows: the table, and
				// any index beside it would keep its own order of cells.
				var indexes int
				if err := c.d.R.GetContext(c.ctx, &indexes, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?
					AND rootpage <> (SELECT rootpage FROM sqlite_master WHERE name = ?)`, b.box, b.box); err != nil || indexes != 0 {
					t.Fatalf("%s has %d indexes of its own (%v): this test reads only the table's b-tree", b.box, indexes, err)
				}
				for _, tree := range []struct {
					name               string
					hashAt, proposalAt int
				}{
					{b.box, 1, 0}, // proposal_id, receipt_hash, choice or ballot
				} {
					choices, exact := b.linked(orderPairs(t, b, file, tree.name, tree.hashAt, tree.proposalAt))
					t.Logf("%s: pairing its cells in written order with the voters in casting order gives %d of 30 voters' choices (%d their own ballots)",
						tree.name, choices, exact)
					if beyondChance(choices, exact) {
						t.Errorf("%s: the cells' order gives %d of 30 voters' choices and %d their own ballots, want about 10 and 1 (chance)",
							tree.name, choices, exact)
					}
				}
			})

			t.Run("no copy of a ballot lies outside its live cells", func(t *testing.T) {
				// Each receipt hash is in the box's cell, once; a second
				// copy would be an old cell left in free space, where the
				// casting order could be read again.
				file := f.current()
				for i, r := range b.receipts {
					if n := bytes.Count(file, []byte(governance.ReceiptHash(r))); n != 1 {
						t.Errorf("ballot %d in casting order is in the file %d times, want once (its cell in the box)", i+1, n)
					}
				}
			})
		})
	}
}

// walSize is the size of the write-ahead log file, 0 if there is none.
func walSize(t *testing.T, c *coop) int64 {
	t.Helper()
	st, err := os.Stat(c.d.Path + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestScrub(t *testing.T) {
	dbtest.RequireSQLite(t) // the write-ahead log scrubbed is SQLite's
	c := newCoop(t)
	ms := c.quickMembers(t, 4)
	secret := c.propose(t, c.admin, motion("Buy the building"))
	// An open ballot (resources are decided openly) that closes later.
	r := c.resource(t, "Ours to Share")
	open := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it",
		ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "9"})
	if *open.Secret {
		t.Fatal("the second ballot is secret, want open")
	}
	scrub := func(t *testing.T) {
		t.Helper()
		if err := c.s.Scrub(c.ctx); err != nil {
			t.Fatal(err)
		}
	}
	scrub(t) // whatever setting the co-op up left to scrub

	t.Run("votes in an open ballot leave nothing to scrub", func(t *testing.T) {
		c.vote(t, ms[0], open, governance.ChoiceYes)
		before := walSize(t, c)
		scrub(t)
		if before == 0 || walSize(t, c) != before {
			t.Errorf("the log went from %d to %d bytes; want it left alone", before, walSize(t, c))
		}
	})

	t.Run("a secret vote leaves the log to the next scrub, which truncates it", func(t *testing.T) {
		c.vote(t, ms[0], secret, governance.ChoiceNo)
		if walSize(t, c) == 0 {
			t.Fatal("the log is empty after a vote")
		}
		scrub(t)
		if n := walSize(t, c); n != 0 {
			t.Errorf("the log holds %d bytes after the scrub, want none", n)
		}
	})

	t.Run("a reader holds the scrub back, and the next scrub does it", func(t *testing.T) {
		c.vote(t, ms[1], secret, governance.ChoiceYes)
		tx, err := c.d.R.BeginTxx(c.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var n int
		if err := tx.GetContext(c.ctx, &n, `SELECT count(*) FROM roll WHERE voted = 1`); err != nil {
			t.Fatal(err)
		}
		scrub(t)
		if walSize(t, c) == 0 {
			t.Fatal("the log was truncated under a reader that needed it")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		scrub(t)
		if n := walSize(t, c); n != 0 {
			t.Errorf("the log holds %d bytes after the reader finished and the next scrub ran, want none", n)
		}
	})

	t.Run("closing a secret ballot truncates the log without waiting for a scrub", func(t *testing.T) {
		c.vote(t, ms[2], open, governance.ChoiceNo) // something in the log, nothing to scrub for
		if walSize(t, c) == 0 {
			t.Fatal("the log is empty after a vote")
		}
		c.finish(t, secret)
		if n := walSize(t, c); n != 0 {
			t.Errorf("the log holds %d bytes after the close, want none", n)
		}
	})
}
