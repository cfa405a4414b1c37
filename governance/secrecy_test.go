package governance_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/forensic"
)

// secretBallot is a secret ballot voted on by thirty members in a known
// order that is neither member order nor any order the database could
// stumble on: 5 first, then 2, then 9, then the rest shuffled.
type secretBallot struct {
	*coop
	p        governance.Proposal
	cast     []governance.Member // in the order they voted
	choices  map[int64]string    // member number → choice
	receipts []string            // in the order they were given
	ledger   int                 // ledger entries before the first vote
	// box is the table its ballots are published in: ballot_box, or
	// choice_box for a ranked ballot, whose choices are rankings as the
	// box holds them ("[1,2,0]").
	box string
}

// rankings are the three ballots members cast on a ranked secret ballot,
// three as a yes/no ballot has three choices, so pairing voters with them
// by chance gives as much as it does there.
var rankings = [][]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}}

// ranksOf is the form's ranks for a ranking, most preferred first.
func ranksOf(order []int) governance.ChoiceInput {
	in := governance.ChoiceInput{Ranks: map[int]string{}}
	for rank, o := range order {
		in.Ranks[o] = fmt.Sprint(rank + 1)
	}
	return in
}

// castSecret casts (or, with a receipt, changes) b's i-th kind of ballot for
// m: a yes/no choice, or on a ranked ballot the i-th ranking. It returns
// the choice as the published box shows it.
func (b *secretBallot) castSecret(t *testing.T, m governance.Member, p governance.Proposal, i int, receipt string) (string, governance.VoteResult) {
	t.Helper()
	var res governance.VoteResult
	var err error
	choice := governance.Choices[i%3]
	if b.box == "choice_box" {
		res, err = b.s.VoteChoice(b.ctx, m, p.ID, ranksOf(rankings[i%3]), receipt)
		choice = strings.ReplaceAll(fmt.Sprint(rankings[i%3]), " ", ",")
	} else {
		res, err = b.s.Vote(b.ctx, m, p.ID, choice, receipt)
	}
	if err != nil {
		t.Fatalf("member %d on proposal %d: %v", m.ID, p.ID, err)
	}
	return choice, res
}

func newSecretBallot(t *testing.T, neighbour bool) *secretBallot {
	t.Helper()
	return newSecretBallotIn(t, neighbour, "ballot_box")
}

// newSecretBallotIn is newSecretBallot for a yes/no motion (box
// ballot_box) or a ranked poll among three options (box choice_box),
// counted by Schulze; a neighbour is a ballot of the same kind.
func newSecretBallotIn(t *testing.T, neighbour bool, box string) *secretBallot {
	t.Helper()
	c := newCoop(t)
	ms := c.quickMembers(t, 30) // members 2 to 31; the admin is 1
	byID := map[int64]governance.Member{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	order := []int64{5, 2, 9}
	rest := []int64{}
	for _, m := range ms {
		if !slices.Contains(order, m.ID) {
			rest = append(rest, m.ID)
		}
	}
	rand.New(rand.NewPCG(2026, 3)).Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	order = append(order, rest...)

	b := &secretBallot{coop: c, choices: map[int64]string{}, box: box}
	propose := func(title string) governance.Proposal {
		if box == "ballot_box" {
			return c.propose(t, c.admin, motion(title))
		}
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE rules SET secret = ? WHERE kind = 'poll'`, true); err != nil {
			t.Fatal(err)
		}
		in := choiceInput(governance.KindPoll, title, texts("Soup", "Bread", "Rice")...)
		in.Method = governance.MethodSchulze
		return c.propose(t, c.admin, in)
	}
	var other governance.Proposal
	if neighbour {
		other = propose("Merge with the food co-op")
	}
	b.p = propose("Merge with the housing co-op")
	if !*b.p.Secret {
		t.Fatal("the ballot is open, want secret")
	}
	b.ledger = len(c.entries(t))
	for i, id := range order {
		m := byID[id]
		choice, res := b.castSecret(t, m, b.p, i*7+int(id), "")
		b.cast = append(b.cast, m)
		b.choices[id] = choice
		b.receipts = append(b.receipts, res.Receipt)
		if neighbour {
			b.castSecret(t, byID[order[len(order)-1-i]], other, i, "")
		}
	}
	// Two voters change their minds with their receipts.
	for _, i := range []int{0, 17} {
		m := b.cast[i]
		for k := range 3 {
			if choice, _ := b.castSecret(t, m, b.p, k, b.receipts[i]); choice != b.choices[m.ID] {
				b.choices[m.ID] = choice
				break
			}
		}
	}
	return b
}

func TestSecretBallotLeavesNoLink(t *testing.T) {
	b := newSecretBallot(t, false)
	c := b.coop

	type column struct {
		Name string `db:"name"`
		Type string `db:"type"`
	}
	tables := dbtest.Tables(t, c.d)
	pg := c.d.IsPostgres()
	columnsOf := func(t *testing.T, table string) []column {
		t.Helper()
		q := `SELECT name, type FROM pragma_table_info(?)`
		if pg {
			q = `SELECT column_name AS name, data_type AS type FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
		}
		var cols []column
		if err := c.d.R.SelectContext(c.ctx, &cols, q, table); err != nil {
			t.Fatal(err)
		}
		return cols
	}
	referencesOf := func(t *testing.T, table string) []string {
		t.Helper()
		q := `SELECT "table" FROM pragma_foreign_key_list(?)`
		if pg {
			q = `SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = CAST(? AS regclass)`
		}
		var refs []string
		if err := c.d.R.SelectContext(c.ctx, &refs, q, table); err != nil {
			t.Fatal(err)
		}
		if pg {
			refs = append(refs, db.TriggerReferences[table]...)
		}
		return refs
	}
	// A column that could say who or when.
	aboutMembers := func(name string) bool {
		name = strings.ToLower(name)
		return strings.Contains(name, "member") || strings.Contains(name, "voter") || strings.Contains(name, "user") || name == "by"
	}
	aboutTime := func(c column) bool {
		name, typ := strings.ToLower(c.Name), strings.ToUpper(c.Type)
		return strings.HasSuffix(name, "_at") || name == "at" || strings.Contains(name, "time") || strings.Contains(name, "date") ||
			strings.Contains(name, "seq") || strings.Contains(name, "order") || strings.Contains(typ, "TIME") || strings.Contains(typ, "DATE")
	}

	t.Run("no table but the open ballots' holds both a member and a choice or ballot", func(t *testing.T) {
		if len(tables) < 10 {
			t.Fatalf("only %d tables listed: %v", len(tables), tables)
		}
		for _, table := range tables {
			var member, choice bool
			for _, col := range columnsOf(t, table) {
				member = member || aboutMembers(col.Name)
				name := strings.ToLower(col.Name)
				choice = choice || strings.Contains(name, "choice") || strings.Contains(name, "ballot")
			}
			for _, ref := range referencesOf(t, table) {
				member = member || ref == "members" || ref == "roll" || ref == "voters"
			}
			if member && choice && table != "votes" && table != "choice_votes" {
				t.Errorf("table %s holds both a member and a choice", table)
			}
		}
		if n := c.count(t, `SELECT count(*) FROM votes WHERE proposal_id = ?`, b.p.ID); n != 0 {
			t.Errorf("the secret ballot put %d rows in votes, the open ballots' roll-call", n)
		}
		q := `SELECT name FROM sqlite_master WHERE type = 'view'`
		if pg {
			q = `SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()`
		}
		var views []string
		if err := c.d.R.SelectContext(c.ctx, &views, q); err != nil {
			t.Fatal(err)
		}
		if len(views) != 0 {
			t.Errorf("views %v: check none joins voters to the box", views)
		}
	})

	t.Run("the choice box names no member and keeps no time", func(t *testing.T) {
		var names []string
		for _, col := range columnsOf(t, "choice_box") {
			names = append(names, col.Name)
			if aboutMembers(col.Name) || aboutTime(col) {
				t.Errorf("choice_box has a column %s %s", col.Name, col.Type)
			}
		}
		if want := []string{"proposal_id", "receipt_hash", "ballot"}; !slices.Equal(names, want) {
			t.Errorf("choice_box columns %v, want exactly %v", names, want)
		}
		if refs := referencesOf(t, "choice_box"); !slices.Equal(refs, []string{"proposals"}) {
			t.Errorf("choice_box refers to %v, want only proposals", refs)
		}
	})

	t.Run("the ballot box names no member and keeps no time", func(t *testing.T) {
		var names []string
		for _, col := range columnsOf(t, "ballot_box") {
			names = append(names, col.Name)
			if aboutMembers(col.Name) || aboutTime(col) {
				t.Errorf("ballot_box has a column %s %s", col.Name, col.Type)
			}
		}
		if want := []string{"proposal_id", "receipt_hash", "choice"}; !slices.Equal(names, want) {
			t.Errorf("ballot_box columns %v, want exactly %v", names, want)
		}
		if refs := referencesOf(t, "ballot_box"); !slices.Equal(refs, []string{"proposals"}) {
			t.Errorf("ballot_box refers to %v, want only proposals", refs)
		}
	})

	t.Run("the roll records that a member voted and keeps no time", func(t *testing.T) {
		var names []string
		for _, col := range columnsOf(t, "roll") {
			names = append(names, col.Name)
			if aboutTime(col) {
				t.Errorf("roll has a column %s %s", col.Name, col.Type)
			}
		}
		if want := []string{"proposal_id", "member_id", "voted"}; !slices.Equal(names, want) {
			t.Errorf("roll columns %v, want exactly %v", names, want)
		}
	})

	t.Run("neither the box nor the roll has a rowid that would keep insertion order", func(t *testing.T) {
		dbtest.RequireSQLite(t) // PostgreSQL's ctid: the next test
		for _, table := range []string{"ballot_box", "choice_box", "roll"} {
			var sql string
			if err := c.d.R.GetContext(c.ctx, &sql, `SELECT sql FROM sqlite_master WHERE name = ?`, table); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sql, "WITHOUT ROWID") {
				t.Errorf("%s is not WITHOUT ROWID", table)
			}
			var rowids []int64
			err := c.d.R.SelectContext(c.ctx, &rowids, `SELECT rowid FROM `+table)
			if err == nil || !strings.Contains(err.Error(), "no such column: rowid") {
				t.Errorf("SELECT rowid FROM %s: err = %v, want no such column", table, err)
			}
		}
	})

	// inStoredOrder checks that no way of reading a ballot's box and roll
	// back gives the order its votes were cast in: not a plain select, nor
	// on PostgreSQL the rows' physical places (ctid) or the transactions
	// that wrote them (xmin).
	inStoredOrder := func(t *testing.T, b *secretBallot) {
		t.Helper()
		var castHashes []string
		for _, r := range b.receipts {
			castHashes = append(castHashes, governance.ReceiptHash(r))
		}
		queries := []string{
			`SELECT receipt_hash FROM ballot_box WHERE proposal_id = ?`,
			`SELECT receipt_hash FROM ballot_box WHERE proposal_id = ? ORDER BY proposal_id, receipt_hash`,
			`SELECT receipt_hash FROM ballot_box WHERE proposal_id = ? AND choice IN ('yes', 'no', 'abstain')`,
		}
		voterQueries := []string{`SELECT member_id FROM roll WHERE proposal_id = ? AND voted = 1`}
		if pg {
			queries = append(queries, `SELECT receipt_hash FROM ballot_box WHERE proposal_id = ? ORDER BY ctid`,
				`SELECT receipt_hash FROM ballot_box WHERE proposal_id = ? ORDER BY xmin::text::bigint, ctid`)
			voterQueries = append(voterQueries, `SELECT member_id FROM roll WHERE proposal_id = ? AND voted = 1 ORDER BY ctid`,
				`SELECT member_id FROM roll WHERE proposal_id = ? AND voted = 1 ORDER BY xmin::text::bigint, ctid`)
			for _, table := range []string{"ballot_box", "roll"} {
				if n := b.count(t, `SELECT count(DISTINCT xmin::text) FROM `+table+` WHERE proposal_id = ?`, b.p.ID); n != 1 {
					t.Errorf("the ballot's %s rows were written by %d transactions, want 1 (the rewrite's)", table, n)
				}
			}
		}
		for _, q := range queries {
			var stored []string
			if err := b.d.R.SelectContext(b.ctx, &stored, q, b.p.ID); err != nil {
				t.Fatal(err)
			}
			if len(stored) != 30 {
				t.Fatalf("%s: %d rows, want 30", q, len(stored))
			}
			if slices.Equal(stored, castHashes) {
				t.Errorf("%s returns the ballots in the order they were cast", q)
			}
			sorted := slices.Clone(stored)
			slices.Sort(sorted)
			if slices.Equal(sorted, castHashes) {
				t.Fatal("the receipts were cast in hash order: the test proves nothing")
			}
		}
		for _, q := range voterQueries {
			var voters []int64
			if err := b.d.R.SelectContext(b.ctx, &voters, q, b.p.ID); err != nil {
				t.Fatal(err)
			}
			if slices.Equal(voters, ids(b.cast...)) {
				t.Errorf("%s: voters come back in the order they voted", q)
			}
			if !slices.IsSorted(voters) {
				t.Errorf("%s: voters come back as %v, not in member order", q, voters)
			}
		}
	}

	t.Run("the rows as stored are not in the order the votes were cast", func(t *testing.T) {
		// PostgreSQL's heap keeps rows, and the roll's row versions, in
		// the order they were written while the ballot is open (README,
		// "Running on PostgreSQL"); the close rewrites them.
		if !pg {
			inStoredOrder(t, b)
		}
		closed := newSecretBallot(t, false)
		closed.finish(t, closed.p)
		inStoredOrder(t, closed)
	})

	t.Run("no vote reaches the ledger", func(t *testing.T) {
		if n := len(c.entries(t)); n != b.ledger {
			t.Errorf("%d ledger entries were written while members voted, want none", n-b.ledger)
		}
		c.finish(t, b.p)
		allowed := map[string][]string{
			governance.EventBallotOpened: {"closes_at", "proposal", "quorum_pct", "roll_digest", "roll_size", "secret", "threshold"},
			governance.EventBallotClosed: {"abstain", "box_digest", "no", "outcome", "proposal", "quorum_met", "roll_size", "turnout", "yes"},
		}
		for _, e := range c.entries(t) {
			if strings.Contains(e.Kind, "vote") {
				t.Errorf("ledger entry %d is a %s", e.Seq, e.Kind)
			}
			if !strings.HasPrefix(e.Kind, "ballot.") {
				continue
			}
			var keys []string
			for k := range e.Fields() {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, allowed[e.Kind]) {
				t.Errorf("ledger entry %d (%s) has fields %v, want %v", e.Seq, e.Kind, keys, allowed[e.Kind])
			}
		}
		if len(c.entries(t)) != b.ledger+1 {
			t.Errorf("closing wrote %d entries, want only ballot.closed", len(c.entries(t))-b.ledger)
		}
	})

	t.Run("no receipt is anywhere in the database's files", func(t *testing.T) {
		dbtest.RequireSQLite(t) // the receipt never reaches SQL: the files of one kind say so
		var files []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			data, err := os.ReadFile(c.d.Path + suffix)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			files = append(files, data...)
		}
		// The search sees what is stored: every receipt's hash is there.
		for _, r := range b.receipts {
			if !bytes.Contains(files, []byte(governance.ReceiptHash(r))) {
				t.Fatalf("the hash of receipt %s is not in the files: the search cannot see the box", r)
			}
		}
		for _, r := range b.receipts {
			bare := strings.ReplaceAll(r, "-", "")
			for _, form := range []string{r, bare, strings.ToLower(r), strings.ToLower(bare), bare[:16], bare[16:]} {
				if bytes.Contains(files, []byte(form)) {
					t.Errorf("receipt %s is stored in the database files (as %q)", r, form)
				}
			}
		}
	})

	t.Run("after close the published box still names no member", func(t *testing.T) {
		p := c.proposal(t, b.p.ID)
		box, err := c.s.Box(c.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(box) != 30 {
			t.Fatalf("%d ballots published, want 30", len(box))
		}
		counts := map[string]int{}
		for _, e := range box {
			if len(e.Key) != 64 {
				t.Errorf("published key %q is not a receipt hash", e.Key)
			}
			counts[e.Choice]++
		}
		want := map[string]int{}
		for _, ch := range b.choices {
			want[ch]++
		}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("published box counts %v, want %v", counts, want)
		}
		// Every voter finds their own ballot with their receipt.
		byKey := map[string]string{}
		for _, e := range box {
			byKey[e.Key] = e.Choice
		}
		for i, m := range b.cast {
			if got := byKey[governance.ReceiptHash(b.receipts[i])]; got != b.choices[m.ID] {
				t.Errorf("member %d finds %q by their receipt, want %q", m.ID, got, b.choices[m.ID])
			}
		}
	})
}

// TestSecretBallotPageLayout reads the database file as a forensic tool
// would, below SQL. Within a b-tree page SQLite stores each new cell below
// the ones before, so cells' offsets give the order rows were inserted in,
// whatever their key. While the ballot is open the box's cells do lie in the
// order ballots were cast (the close rewrites them: secrecy_files_test.go);
// what must not is the record of who voted, or pairing the n-th voter with
// the n-th ballot would link every voter to a choice. Voting updates the
// roll row frozen at opening in place, so the voters lie in member order.
func TestSecretBallotPageLayout(t *testing.T) {
	dbtest.RequireSQLite(t)
	// fileOrder reads the ballot's voters (member numbers) and box (ids and
	// choices) from the file: page by page in tree order, and within a page
	// in the order the cells were written (highest offset first).
	type fileOrder struct {
		voters  []int64
		ids     []string
		choices []string
		sorted  bool // within every page, the ballot's voters lie in key order
	}
	read := func(t *testing.T, b *secretBallot) fileOrder {
		t.Helper()
		c := b.coop
		var busy, logged, checkpointed int
		if err := c.d.W.QueryRowxContext(c.ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &checkpointed); err != nil || busy != 0 {
			t.Fatalf("checkpoint: busy %d, %v", busy, err)
		}
		file, err := os.ReadFile(c.d.Path)
		if err != nil {
			t.Fatal(err)
		}
		out := fileOrder{sorted: true}
		for _, page := range pageCells(t, c, file, "roll") {
			var keys []int64
			for _, row := range page {
				if row[0].(int64) == b.p.ID && row[2].(int64) == 1 {
					keys = append(keys, row[1].(int64))
				}
			}
			out.sorted = out.sorted && slices.IsSorted(keys)
			out.voters = append(out.voters, keys...)
		}
		for _, page := range pageCells(t, c, file, "ballot_box") {
			var keys []string
			for _, row := range page {
				if row[0].(int64) == b.p.ID {
					keys = append(keys, row[1].(string))
					out.choices = append(out.choices, row[2].(string))
				}
			}
			out.ids = append(out.ids, keys...)
		}
		if len(out.voters) != 30 || len(out.ids) != 30 {
			t.Fatalf("read %d voters and %d ballots from the file, want 30 of each: the reader is wrong", len(out.voters), len(out.ids))
		}
		return out
	}
	// linked counts the voters whose choice the pairing of file orders gives.
	linked := func(b *secretBallot, f fileOrder) int {
		n := 0
		for i, m := range f.voters {
			if b.choices[m] == f.choices[i] {
				n++
			}
		}
		return n
	}

	t.Run("a lone ballot's voters lie in member order, page by page", func(t *testing.T) {
		b := newSecretBallot(t, false)
		f := read(t, b)
		if !f.sorted {
			t.Error("a page holds the ballot's voters out of member order: it keeps the order they came in")
		}
		if slices.Equal(f.voters, ids(b.cast...)) {
			t.Error("the file keeps the voters in the order they voted")
		}
		if n := linked(b, f); n >= 20 {
			t.Errorf("pairing the file's orders gives %d of 30 voters' choices, want about 10 (chance)", n)
		} else {
			t.Logf("pairing the file's orders gives %d of 30 voters' choices (chance gives about 10)", n)
		}
	})

	t.Run("with a neighbouring secret ballot on the same pages, the file orders link no more than chance", func(t *testing.T) {
		// What matters is that the orders in the file are not the order of
		// casting. With voters kept in insertion order, this pairing got 15
		// or more of 30 here (30 without a neighbour); by chance it gets
		// about 10 (one in three), and 20 or more has a probability under
		// 0.1 %.
		b := newSecretBallot(t, true)
		f := read(t, b)
		if slices.Equal(f.voters, ids(b.cast...)) {
			t.Error("the file keeps the voters in the order they voted")
		}
		if n := linked(b, f); n >= 20 {
			t.Errorf("pairing the file's orders gives %d of 30 voters' choices, want about 10 (chance)", n)
		} else {
			t.Logf("pairing the file's orders gives %d of 30 voters' choices", n)
		}
	})
}

// pageCells walks a WITHOUT ROWID table's (or an index's) b-tree in the
// database file and returns each page's rows, decoded, page by page as the
// walk meets them, and within a page in the order their cells were written
// (highest offset first). In an index b-tree the interior pages hold rows too.
func pageCells(t *testing.T, c *coop, file []byte, table string) [][][]any {
	t.Helper()
	var root int
	if err := c.d.R.GetContext(c.ctx, &root, `SELECT rootpage FROM sqlite_master WHERE name = ?`, table); err != nil {
		t.Fatal(err)
	}
	tree, err := forensic.Tree(file, root)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	pages := make([][][]any, len(tree))
	for i, cells := range tree {
		for _, cell := range cells {
			pages[i] = append(pages[i], cell.Values)
		}
	}
	return pages
}

func TestResultsHiddenUntilClose(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3)
	r := c.resource(t, "Ours to Share")
	secret := c.propose(t, ms[0], motion("Hire an organiser"))
	open := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it",
		ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "7"})
	for _, p := range []governance.Proposal{secret, open} {
		c.vote(t, ms[0], p, governance.ChoiceYes)
		c.vote(t, ms[1], p, governance.ChoiceNo)
		c.vote(t, c.admin, p, governance.ChoiceYes)
	}
	hidden := func(t *testing.T, where string, p governance.Proposal) {
		t.Helper()
		if _, ok := p.Tally(); ok {
			t.Errorf("%s: proposal %d's Tally() is available while voting", where, p.ID)
		}
		if p.Yes != nil || p.No != nil || p.Abstain != nil || p.QuorumMet != nil || p.Outcome != nil || p.BoxDigest != nil || p.ClosedAt != nil {
			t.Errorf("%s: proposal %d carries a result while voting: %v %v %v %v %v", where, p.ID, p.Yes, p.No, p.Abstain, p.QuorumMet, p.Outcome)
		}
	}

	// The admin and ms[0] voted yes, ms[1] no; ms[2] did not vote.
	for _, viewer := range []governance.Member{c.admin, ms[0], ms[1], ms[2]} {
		who := fmt.Sprintf("member %d (%s)", viewer.ID, viewer.Role)
		t.Run("nothing shows a count to "+who, func(t *testing.T) {
			for _, p := range []governance.Proposal{secret, open} {
				got, err := c.s.Proposal(c.ctx, &viewer, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				hidden(t, "Proposal", got)
				if _, err := c.s.Box(c.ctx, got); !errors.Is(err, governance.ErrBallotClosed) {
					t.Errorf("Box of running proposal %d: err = %v, want ErrBallotClosed", p.ID, err)
				}
				part, err := c.s.Participation(c.ctx, viewer, got)
				if err != nil {
					t.Fatal(err)
				}
				if part.Turnout != 3 {
					t.Errorf("turnout %d, want 3", part.Turnout)
				}
				// Only an open ballot's voter sees a choice, and only their own.
				want := ""
				if p.ID == open.ID {
					want = map[int64]string{c.admin.ID: governance.ChoiceYes, ms[0].ID: governance.ChoiceYes, ms[1].ID: governance.ChoiceNo}[viewer.ID]
				}
				if part.Choice != want {
					t.Errorf("proposal %d: participation shows choice %q to member %d, want %q", p.ID, part.Choice, viewer.ID, want)
				}
			}
			lists, err := c.s.Proposals(c.ctx, &viewer)
			if err != nil {
				t.Fatal(err)
			}
			if len(lists.Voting) != 2 || len(lists.Closed) != 0 {
				t.Fatalf("lists: %d voting, %d closed; want 2 and 0", len(lists.Voting), len(lists.Closed))
			}
			for _, p := range lists.Voting {
				hidden(t, "Proposals", p.Proposal)
			}
			awaiting, err := c.s.AwaitingVote(c.ctx, viewer)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range awaiting {
				hidden(t, "AwaitingVote", p)
			}
		})
	}

	t.Run("the public sees no running ballot", func(t *testing.T) {
		for _, p := range []governance.Proposal{secret, open} {
			if _, err := c.s.Proposal(c.ctx, nil, p.ID); !errors.Is(err, governance.ErrNotFound) {
				t.Errorf("proposal %d: err = %v, want ErrNotFound", p.ID, err)
			}
		}
		lists, err := c.s.Proposals(c.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(lists.Voting)+len(lists.Discussion)+len(lists.Closed) != 0 {
			t.Errorf("the public lists %+v", lists)
		}
		closed, total, err := c.s.ClosedProposals(c.ctx, 1, 20)
		if err != nil || total != 0 || len(closed) != 0 {
			t.Errorf("closed proposals %v, %d, %v; want none", closed, total, err)
		}
	})

	t.Run("the database holds no count until close", func(t *testing.T) {
		if n := c.count(t, `SELECT count(*) FROM proposals WHERE (yes IS NOT NULL OR no IS NOT NULL OR abstain IS NOT NULL OR quorum_met IS NOT NULL OR outcome IS NOT NULL OR box_digest IS NOT NULL)`); n != 0 {
			t.Errorf("%d running proposals have a stored result", n)
		}
	})

	t.Run("after close the result is there for everyone", func(t *testing.T) {
		c.until(secret.ClosesAt)
		for _, p := range []governance.Proposal{secret, open} {
			got, err := c.s.Proposal(c.ctx, nil, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			tally, ok := got.Tally()
			if !ok || tally.Yes != 2 || tally.No != 1 || tally.Abstain != 0 {
				t.Errorf("proposal %d: tally %+v ok %t, want 2 yes 1 no", p.ID, tally, ok)
			}
			if box, err := c.s.Box(c.ctx, got); err != nil || len(box) != 3 {
				t.Errorf("proposal %d: box %v, %v", p.ID, box, err)
			}
		}
	})
}
