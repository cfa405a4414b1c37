// Package notify delivers the outbox that governance fills (the
// notifications table): it claims the messages that are due, renders each
// from the embedded templates, sends them through internal/mail, and
// records what became of each: sent; tried again later, with a backoff,
// after a temporary failure; failed for good after a permanent one, while
// the rest go on. It gathers the messages members chose to get in a
// digest into one email a day, at their hour. Only one process sending
// per database: the others stand by and take over if it stops.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/mail"
	"plenary/internal/outbox"
	"plenary/internal/tz"
)

// Config is what the sender needs from the outside world.
type Config struct {
	// Name is the co-op's name; BaseURL the public address its links
	// start with (https://vote.example.coop).
	Name    string
	BaseURL string
	// Mailer sends. Nil when no mail is configured: messages then wait in
	// the queue until a process with mail configured sends them.
	Mailer mail.Mailer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Batch is how many messages go over one connection (DefaultBatch).
	Batch int
	// Idle is how long the sender waits when nothing is due (default 1 s);
	// Standby how often a process waiting for the lock tries it
	// (default 5 s).
	Idle, Standby time.Duration
	// RetryFirst is the wait after a first temporary failure (default
	// 30 s), doubled after each one up to RetryMax (default 1 hour);
	// GiveUp is how old a message may get before a temporary failure
	// counts as final (default 3 days).
	RetryFirst, RetryMax, GiveUp time.Duration
}

// DefaultBatch is how many messages go over one connection unless
// Config.Batch says otherwise: at most this many are in flight when a
// process dies, and may be sent again by the next sender.
const DefaultBatch = 200

// Sender works the outbox of one database.
type Sender struct {
	cfg    Config
	log    *slog.Logger
	db     *db.DB
	signer outbox.Signer
	pages  *pages
	base   *url.URL
}

// New returns a sender for d. key signs the unsubscribe links (governance
// keeps it in the database: Service.UnsubscribeKey).
func New(cfg Config, log *slog.Logger, d *db.DB, key []byte) (*Sender, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = "Plenary"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("notify: base URL %q must be an absolute http or https URL", cfg.BaseURL)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Idle, time.Second)
	def(&cfg.Standby, 5*time.Second)
	def(&cfg.RetryFirst, 30*time.Second)
	def(&cfg.RetryMax, time.Hour)
	def(&cfg.GiveUp, 72*time.Hour)
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Sender{cfg: cfg, log: log, db: d, signer: outbox.NewSigner(key), pages: p, base: base}, nil
}

// Run sends the outbox until ctx ends. It first takes the database's
// sender lock, standing by while another process holds it; it lets the
// lock go when it stops, and stands by again if it loses it. A batch in
// flight when ctx ends is finished (within mail.Timeout) before Run
// returns.
func (s *Sender) Run(ctx context.Context) {
	if s.cfg.Mailer == nil {
		s.log.Info("no mail configured: notifications wait in the outbox")
		return
	}
	for ctx.Err() == nil {
		lock, err := s.db.TryLock(ctx, "sender")
		if err != nil && ctx.Err() == nil {
			s.log.Error("take the sender lock", "err", err)
		}
		if lock == nil {
			sleep(ctx, s.cfg.Standby)
			continue
		}
		s.work(ctx, lock)
		lock.Release()
	}
}

// work sends while the lock is held and ctx lasts.
func (s *Sender) work(ctx context.Context, lock *db.Lock) {
	for ctx.Err() == nil {
		if !lock.Held(ctx) {
			if ctx.Err() == nil {
				s.log.Warn("lost the sender lock: standing by")
			}
			return
		}
		// The batch runs to its end even if ctx ends meanwhile: what
		// was sent is then recorded as sent.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*mail.Timeout)
		n, err := s.Work(bctx)
		cancel()
		if err != nil {
			s.log.Error("send notifications", "err", err)
			sleep(ctx, s.cfg.Idle)
			continue
		}
		if n < s.cfg.Batch {
			sleep(ctx, s.cfg.Idle)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// item is one claimed notification with its recipient.
type item struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	Event     string    `db:"event"`
	MemberID  *int64    `db:"member_id"`
	Address   *string   `db:"address"`
	Payload   string    `db:"payload"`
	Attempts  int       `db:"attempts"`
	MessageID string    `db:"message_id"`
	CreatedAt time.Time `db:"created_at"`
	Name      *string   `db:"name"`
	Email     *string   `db:"email"`
	Mode      *string   `db:"mode"`
	// Zone is the time zone the member reads times in (an IANA name):
	// zone(OwnZone, CoopZone), filled in once the row is read.
	Zone     string  `db:"-"`
	OwnZone  *string `db:"own_zone"`
	CoopZone *string `db:"coop_zone"`
}

// zones selects, beside a member joined as m, their own zone and the
// co-op's default (the setting governance.SettingTimeZone); zone picks.
const zones = `m.time_zone AS own_zone, (SELECT value FROM settings WHERE name = 'time_zone') AS coop_zone`

// zone is where a member reads times, by governance.ZoneOf's rule: their
// own zone if it is one, else the co-op's, else UTC (""). An invitation,
// to no member yet, takes the co-op's.
func zone(own, coop *string) string {
	switch {
	case own != nil && tz.Valid(*own):
		return *own
	case coop != nil && tz.Valid(*coop):
		return *coop
	}
	return ""
}

// outcome is what becomes of one claimed notification.
type outcome struct {
	status string // sent, queued (again), digest, failed, dropped
	err    string
	retry  time.Time
}

// Work gathers the digests that are due, then sends one batch of the
// messages due now, and returns how many it dealt with. Run calls it in
// a loop; tests call it directly. Only the holder of the sender lock
// should.
func (s *Sender) Work(ctx context.Context) (int, error) {
	if s.cfg.Mailer == nil {
		return 0, nil
	}
	now := s.cfg.Now().UTC()
	if err := s.gatherDigests(ctx, now); err != nil {
		return 0, err
	}
	var items []item
	err := s.db.R.SelectContext(ctx, &items, `SELECT n.id, n.kind, n.event, n.member_id, n.address, n.payload, n.attempts,
			n.message_id, n.created_at, m.name, m.email, p.mode, `+zones+`
		FROM notifications n
		LEFT JOIN members m ON m.id = n.member_id
		LEFT JOIN notification_prefs p ON p.member_id = n.member_id AND p.kind = n.kind
		WHERE n.status = 'queued' AND n.next_attempt_at <= ?
		ORDER BY n.next_attempt_at, n.id LIMIT ?`, now, s.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim: %w", err)
	}
	if len(items) == 0 {
		return 0, nil
	}
	for i := range items {
		items[i].Zone = zone(items[i].OwnZone, items[i].CoopZone)
	}
	results := make([]outcome, len(items))
	var msgs []mail.Message
	var sending []int // indexes of items, in msgs' order
	for i, it := range items {
		switch {
		case it.MemberID != nil && (it.Email == nil || *it.Email == ""):
			results[i] = outcome{status: "dropped", err: "the member has no email address"}
			continue
		case outbox.IsChoosable(it.Kind) && it.Mode != nil && *it.Mode == outbox.Never:
			results[i] = outcome{status: "dropped", err: "the member chose never"}
			continue
		case outbox.IsChoosable(it.Kind) && it.Mode != nil && *it.Mode == outbox.InDigest:
			results[i] = outcome{status: "digest"}
			continue
		}
		m, err := s.render(ctx, it)
		if err != nil {
			results[i] = outcome{status: "failed", err: "cannot be written: " + err.Error()}
			continue
		}
		msgs = append(msgs, m)
		sending = append(sending, i)
	}
	if len(msgs) > 0 {
		errs := s.cfg.Mailer.Send(ctx, msgs...)
		for j, i := range sending {
			results[i] = s.outcomeOf(items[i], errs[j], now)
		}
	}
	return len(items), s.record(ctx, items, results, now)
}

// outcomeOf says what a send's error makes of it: sent, failed for good,
// or tried again after a backoff (failed once it is too old to be worth
// sending).
func (s *Sender) outcomeOf(it item, err error, now time.Time) outcome {
	switch {
	case err == nil:
		return outcome{status: "sent"}
	case mail.IsPermanent(err):
		return outcome{status: "failed", err: err.Error()}
	case now.Sub(it.CreatedAt) >= s.cfg.GiveUp:
		return outcome{status: "failed", err: fmt.Sprintf("gave up after %d attempts over %s: %v", it.Attempts+1, s.cfg.GiveUp, err)}
	}
	wait := s.cfg.RetryFirst
	for range it.Attempts {
		if wait *= 2; wait >= s.cfg.RetryMax {
			wait = s.cfg.RetryMax
			break
		}
	}
	return outcome{status: "queued", err: err.Error(), retry: now.Add(wait)}
}

// record writes every outcome of a batch in one transaction. A link's
// token leaves the queue once its email is sent; a digest's messages are
// sent or failed with it.
func (s *Sender) record(ctx context.Context, items []item, results []outcome, now time.Time) error {
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for i, it := range items {
			r := results[i]
			last := r.err
			if len(last) > 1000 {
				last = last[:1000]
			}
			var err error
			switch r.status {
			case "sent":
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '',
					payload = ? WHERE id = ? AND status = 'queued'`, now, sentPayload(it), it.ID)
			case "queued":
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
					WHERE id = ? AND status = 'queued'`, r.retry, last, it.ID)
			case "failed":
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'failed', attempts = attempts + 1, last_error = ?
					WHERE id = ? AND status = 'queued'`, last, it.ID)
			case "digest":
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'digest' WHERE id = ? AND status = 'queued'`, it.ID)
			case "dropped":
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'dropped', last_error = ?, payload = '{}'
					WHERE id = ? AND status = 'queued'`, last, it.ID)
			}
			if err == nil && it.Kind == outbox.Digest && (r.status == "sent" || r.status == "failed") {
				_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = ?, sent_at = ?, last_error = ?
					WHERE digest_id = ? AND status = 'digest'`, r.status, sentAt(r.status, now), last, it.ID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: record what was sent: %w", err)
	}
	return nil
}

func sentAt(status string, now time.Time) *time.Time {
	if status == "sent" {
		return &now
	}
	return nil
}

// sentPayload is what stays of a payload once its email is sent: a link's
// token goes, since only its hash should be kept.
func sentPayload(it item) string {
	if it.Kind != outbox.PasswordReset && it.Kind != outbox.Invitation {
		return it.Payload
	}
	var l outbox.Link
	if err := json.Unmarshal([]byte(it.Payload), &l); err != nil {
		return "{}"
	}
	l.Token = ""
	b, err := json.Marshal(l)
	if err != nil {
		return "{}"
	}
	return string(b)
}
