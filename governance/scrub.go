package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
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
// So closing a secret ballot rewrites its box in key order (rebuildBox),
// with secure_delete on (internal/db) so the old cells are zeroed, not
// left in free space; and the log is truncated right after the close
// commits, and every ScrubInterval while secret votes are being written,
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

// boxID is a ballot's key in the box: the first half of its receipt's
// hash. It is as random as a key of its own would be, so the box keeps no
// insertion order; and it orders the box as the unique index on receipt
// hashes is ordered, so rebuildBox walks both b-trees in one order, page
// after page, instead of jumping about one of them (at 100,000 ballots,
// a jump per ballot made the close several times slower).
func boxID(receiptHash string) string { return receiptHash[:boxIDLen] }

// boxIDLen is the length of a box key, in hex digits.
const boxIDLen = 32

// rebuildBox rewrites a secret ballot's box in key order, in the closing
// transaction: its rows are copied aside, deleted, and inserted again in
// key order, so that afterwards no page's cell offsets (in the box or in
// its receipt index) hold the order of casting. Ballots cast before keys
// were taken from receipt hashes get such keys here.
//
// The copy is a temporary table, which SQLite keeps in an unlinked file or
// in memory: it holds what the box publishes anyway, in key order.
func rebuildBox(ctx context.Context, tx *sqlx.Tx, proposal int64) error {
	for _, step := range []struct {
		query string
		args  []any
	}{
		{`CREATE TEMP TABLE box_rebuild AS SELECT receipt_hash, choice FROM ballot_box WHERE proposal_id = ?`, []any{proposal}},
		{`DELETE FROM ballot_box WHERE proposal_id = ?`, []any{proposal}},
		{`INSERT INTO ballot_box (proposal_id, id, receipt_hash, choice)
			SELECT ?, substr(receipt_hash, 1, ?), receipt_hash, choice FROM temp.box_rebuild ORDER BY receipt_hash`, []any{proposal, boxIDLen}},
		{`DROP TABLE temp.box_rebuild`, nil},
	} {
		if _, err := tx.ExecContext(ctx, step.query, step.args...); err != nil {
			return fmt.Errorf("governance: rebuild box: %w", err)
		}
	}
	return nil
}
