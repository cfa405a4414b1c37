package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
	"plenary/internal/outbox"
)

// Invitations in bulk: an admin pastes or uploads a roster of people
// (name, email, and role if they are to be admins), sees every row's
// problem, and once every row is right invites them all in one
// transaction. Each invitation is tied to its address, as one made for
// someone alone is (InvitePerson).

// PreviewInvitations checks a roster of people to invite for an admin,
// changing nothing: every row, and what is wrong with each (a bad
// address, one repeated in the file, a member or an open invitation with
// it already, a role that is none).
func (s *Service) PreviewInvitations(ctx context.Context, actor Member, text string) (Roster, error) {
	if err := requireAdmin(ctx, s.db.R, actor.ID); err != nil {
		return Roster{}, err
	}
	r, err := readRoster(text, rosterInvite, s.now())
	if err != nil {
		return Roster{}, err
	}
	return r, checkRoster(ctx, s.db.R, &r, true, s.now())
}

// Issued is an invitation made in bulk, with its token (only its hash is
// kept).
type Issued struct {
	Invitation
	Token string
}

// inviteChunk is how many invitations one INSERT writes (eight values
// each).
const inviteChunk = 500

// bulkDays is the days field of the bulk form: the default when 0.
type bulkDays struct {
	Days int `form:"days" validate:"omitempty,min=1,max=90"`
}

var bulkDaysMessages = map[string]string{"days.min": "Choose between 1 and 90 days.", "days.max": "Choose between 1 and 90 days."}

// Messages words what the tags refuse.
func (bulkDays) Messages() map[string]string { return bulkDaysMessages }

// InviteMany has an admin invite everyone on a roster, all or none, each
// with an invitation tied to their address that works for days (the
// default when 0), on the ledger, with its email to be queued in the same
// transaction. The roster is checked again inside the writing
// transaction, so someone invited or joined since the preview stops the
// whole (a *RosterError) rather than slipping through. The writes are a
// few multi-row INSERTs, so 10,000 people take well under two seconds
// (BenchmarkInviteMany).
func (s *Service) InviteMany(ctx context.Context, actor Member, text string, days int) ([]Issued, error) {
	if err := check.Struct(bulkDays{days}).Err(); err != nil {
		return nil, err
	}
	now := s.now()
	r, err := readRoster(text, rosterInvite, now)
	if err != nil {
		return nil, err
	}
	ttl := s.InvitationTTL
	if days != 0 {
		ttl = time.Duration(days) * 24 * time.Hour
	}
	var out []Issued
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		if err := checkRoster(ctx, tx, &r, true, now); err != nil {
			return err
		}
		if len(r.Bad()) > 0 {
			return &RosterError{Roster: r}
		}
		out = make([]Issued, len(r.Rows))
		byHash := make(map[string]int, len(r.Rows))
		for start := 0; start < len(r.Rows); start += inviteChunk {
			end := min(start+inviteChunk, len(r.Rows))
			var q strings.Builder
			q.WriteString(`INSERT INTO invitations (token_hash, note, created_by, created_at, expires_at, email, name, role) VALUES `)
			args := make([]any, 0, 8*(end-start))
			for i := start; i < end; i++ {
				row := r.Rows[i]
				email := row.Email
				out[i] = Issued{Token: newToken(), Invitation: Invitation{CreatedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(ttl),
					Email: &email, Name: row.Name, Role: row.Role}}
				hash := tokenHash(out[i].Token)
				byHash[hash] = i
				if i > start {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, hash, "", actor.ID, now, out[i].ExpiresAt, email, row.Name, row.Role)
			}
			q.WriteString(` RETURNING id, token_hash`)
			rows, err := tx.QueryxContext(ctx, q.String(), args...)
			if err != nil {
				return fmt.Errorf("governance: insert invitations: %w", err)
			}
			for rows.Next() {
				var id int64
				var hash string
				if err := rows.Scan(&id, &hash); err != nil {
					rows.Close()
					return fmt.Errorf("governance: insert invitations: %w", err)
				}
				out[byHash[hash]].ID = id
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("governance: insert invitations: %w", err)
			}
		}
		// Everyone invited is emailed, in this transaction: all are told,
		// or none is invited.
		events := make([]ledger.Event, len(out))
		mails := make([]linkMail, len(out))
		for i, inv := range out {
			events[i] = invitationCreated(inv.Invitation)
			mails[i] = linkMail{Event: inv.ID, Address: *inv.Email,
				Link: outbox.Link{Token: inv.Token, ExpiresAt: inv.ExpiresAt.UTC(), Name: inv.Name}}
		}
		if err := s.queueLinks(ctx, tx, outbox.Invitation, mails); err != nil {
			return err
		}
		return ledger.AppendMany(ctx, tx, now, events)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
