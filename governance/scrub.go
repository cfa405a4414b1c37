package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// What the files keep of a secret ballot.
//
// The box has no member, no time and no rowid, but SQLite's files keep
// order in two places below SQL. Within a b-tree page each new cell is
// written below the ones before, so the cells' offsets give the order
// ballots were cast; and the write-ahead log holds one commit per vote
// when votes come one at a time, each marking one member on the roll and
// adding one ballot to the box. Either, beside the order members voted in
// (or by itself, for the log), pairs voters with choices.
//
// So a secret ballot's box is rewritten in key order (rebuildBox) as soon
// as the ballot has closed (rewriteBoxes), with secure_delete on
// (internal/db) so the old cells are zeroed, not left in free space; and
// the log is truncated right after the rewrite commits, and every
// ScrubInterval while secret votes are being written,
// so it never holds more than the last few seconds of votes.
//
// Mixing votes within a commit was the other way: it does not hide a new
// box row, which a reader tells apart from the ones before however many
// others share its commit, and it makes voters wait for company.
// Truncating removes the commit history itself.

// ScrubInterval is how often serve calls Scrub. While secret votes are
// being written, a copy of the live files can pair the votes of the last
// ScrubInterval (longer only while a reader holds the log) with their
// voters; the cost is one checkpoint an interval while votes come in.
const ScrubInterval = 2 * time.Second

// Scrub truncates the write-ahead log if secret votes were written, or a
// secret ballot closed, since it last did so. A reader of the log holds
// it back; it is then tried again on the next call, and the next call is
// at most ScrubInterval away. It waits for the vote writer's batch in
// flight, and the writer waits for it: that is at most the checkpoint's
// own wait for readers (internal/db), and it never fights the writer for
// SQLite's lock.
func (s *Service) Scrub(ctx context.Context) error {
	if !s.unscrubbed.Swap(false) {
		return nil
	}
	s.votes.mu.Lock()
	done, err := s.db.TruncateWAL(ctx)
	s.votes.mu.Unlock()
	if err != nil || !done {
		s.unscrubbed.Store(true)
	}
	if err != nil {
		return fmt.Errorf("governance: scrub: %w", err)
	}
	return nil
}

// rewriteBoxes rewrites in key order the box of every secret ballot that
// has closed since it last ran (box_rewrites), each in a transaction of its
// own right after the close commits, and then scrubs what the rewrite left
// behind: the write-ahead log (SQLite) and the old rows' versions
// (PostgreSQL). A ballot another process has rewritten meanwhile is gone
// from box_rewrites when the transaction takes its row, and is skipped.
//
// The rewrite follows the close rather than sharing its transaction, so
// that the result is out, and the writers' lock free, without waiting for
// it: the box of a ballot that has just closed lies in the order of its
// votes for the rewrite's length (about a second for 100,000 votes on
// PostgreSQL), as it did all the while it was open; and a crash in between
// leaves it so until the next Advance, which any read of a proposal calls.
func (s *Service) rewriteBoxes(ctx context.Context) error {
	var pending []int64
	if err := s.db.R.SelectContext(ctx, &pending, `SELECT proposal_id FROM box_rewrites ORDER BY proposal_id`); err != nil {
		return fmt.Errorf("governance: find boxes to rewrite: %w", err)
	}
	if len(pending) == 0 {
		return nil
	}
	for _, id := range pending {
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM box_rewrites WHERE proposal_id = ?`, id)
			if err != nil {
				return fmt.Errorf("governance: rewrite box %d: %w", id, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			return rebuildBox(ctx, tx, id)
		})
		if err != nil {
			return err
		}
	}
	// The log now holds the close and the rewrite beside the last votes'
	// commits: scrub it now, not at the next tick. A failure leaves the
	// scrub pending, and the ticker's Scrub reports it.
	s.unscrubbed.Store(true)
	s.Scrub(ctx)
	// The rebuilt box's old rows, where the database keeps them until
	// vacuumed (PostgreSQL): a failure leaves them for autovacuum, and the
	// rewrite stands.
	s.db.PurgeDead(ctx, "ballot_box")
	s.db.PurgeDead(ctx, "choice_box")
	s.db.PurgeDead(ctx, "roll")
	// The receipt hashes of proxies' ballots, cleared at close (proxy.go).
	s.db.PurgeDead(ctx, "proxy_votes")
	return nil
}

// rebuildBox rewrites a secret ballot's box in key order, in the caller's
// transaction: its rows are copied aside, deleted, and inserted again in
// key order, so that afterwards no page's cell offsets hold the order of
// casting. The box is keyed by (proposal, receipt hash): one b-tree, in
// which a ballot's rows lie together, so the rewrite touches that
// ballot's pages and no others (a separate index on receipt hashes
// across all ballots, as the box once had, scattered every rewrite over
// the whole history of the co-op's ballots).
//
// The copy is a temporary table, which SQLite keeps in an unlinked file or
// in memory: it holds what the box publishes anyway, in key order. Its
// name is unqualified: both SQLite and PostgreSQL look in the
// connection's temporary tables first.
//
// On PostgreSQL the roll is rewritten too (db.RewriteInKeyOrder), and the
// deleted rows of both stay in the tables' pages, in the order they were
// written, until VACUUM: rewriteBoxes runs db.PurgeDead after it commits.
//
// A choice's box (choice_box) is rebuilt the same way.
func rebuildBox(ctx context.Context, tx *sqlx.Tx, proposal int64) error {
	var choice int
	if err := tx.GetContext(ctx, &choice, `SELECT count(*) FROM proposals WHERE id = ? AND method IS NOT NULL`, proposal); err != nil {
		return fmt.Errorf("governance: rebuild box: %w", err)
	}
	t := yesNoTables
	if choice > 0 {
		t = choiceTables
	}
	for _, step := range []struct {
		query string
		args  []any
	}{
		{`CREATE TEMP TABLE box_rebuild AS SELECT receipt_hash, ` + t.column + ` FROM ` + t.box + ` WHERE proposal_id = ?`, []any{proposal}},
		{`DELETE FROM ` + t.box + ` WHERE proposal_id = ?`, []any{proposal}},
		{`INSERT INTO ` + t.box + ` (proposal_id, receipt_hash, ` + t.column + `)
			SELECT ?, receipt_hash, ` + t.column + ` FROM box_rebuild ORDER BY receipt_hash`, []any{proposal}},
		{`DROP TABLE box_rebuild`, nil},
	} {
		if _, err := tx.ExecContext(ctx, step.query, step.args...); err != nil {
			return fmt.Errorf("governance: rebuild box: %w", err)
		}
	}
	// SQLite marks a voter on the roll in place; PostgreSQL writes a new
	// version of the row after the others, so the roll's rows lie in the
	// order members voted until they are rewritten in member order.
	if err := db.RewriteInKeyOrder(ctx, tx, "roll", "proposal_id, member_id, voted", "member_id", "proposal_id = ?", proposal); err != nil {
		return fmt.Errorf("governance: rebuild roll: %w", err)
	}
	return nil
}
