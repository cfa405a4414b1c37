package governance_test

import (
	"errors"
	"testing"

	"plenary/governance"
)

// The outbox is the admins' to read and retry: the service checks the
// actor against the database, whatever the caller's copy says.
func TestMailQueueIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ad := e.admin(t, 0)
	e.member(t, 1, governance.StatusApplicant, ad) // the admin is told: one message queued
	var id int64
	if err := e.d.R.GetContext(e.ctx, &id, `SELECT id FROM notifications`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.W.ExecContext(e.ctx, `UPDATE notifications SET status = 'failed', last_error = '550 no' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	member := e.member(t, 2, governance.StatusActive, ad)
	suspended := e.member(t, 3, governance.StatusSuspended, ad)
	// A member who claims to be an admin: their copy says so, the
	// database does not.
	claiming := member
	claiming.Role = governance.RoleAdmin

	for name, actor := range map[string]governance.Member{"a member": member, "a member claiming to be an admin": claiming,
		"a suspended member": suspended, "nobody": {}} {
		t.Run(name, func(t *testing.T) {
			before := e.snapshot(t)
			if _, err := e.s.MailQueue(e.ctx, actor, governance.MailFilter{}, 1); !errors.Is(err, governance.ErrForbidden) {
				t.Errorf("MailQueue: %v, want ErrForbidden", err)
			}
			if err := e.s.ResendMail(e.ctx, actor, id); !errors.Is(err, governance.ErrForbidden) {
				t.Errorf("ResendMail: %v, want ErrForbidden", err)
			}
			if e.snapshot(t) != before {
				t.Error("a refused resend changed the database")
			}
			if n := e.count(t, `SELECT count(*) FROM notifications WHERE id = ? AND status = 'failed'`, id); n != 1 {
				t.Error("the failed message is failed no more")
			}
		})
	}

	t.Run("the admin reads the queue and resends", func(t *testing.T) {
		list, err := e.s.MailQueue(e.ctx, ad, governance.MailFilter{Status: governance.MailFailed}, 1)
		if err != nil || list.Total != 1 || len(list.Mail) != 1 || list.Mail[0].ID != id || list.Counts[governance.MailFailed] != 1 {
			t.Fatalf("MailQueue: %+v, %v", list, err)
		}
		if !list.Mail[0].Resendable() || list.Mail[0].Recipient() != ad.Name {
			t.Errorf("the failed notice to %s: resendable %v, recipient %q", ad.Name, list.Mail[0].Resendable(), list.Mail[0].Recipient())
		}
		if err := e.s.ResendMail(e.ctx, ad, id); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT count(*) FROM notifications WHERE id = ? AND status = 'queued' AND attempts = 0 AND last_error = ''`, id); n != 1 {
			t.Error("the resent message is not queued afresh")
		}
		if err := e.s.ResendMail(e.ctx, ad, id); err == nil {
			t.Error("a queued message was resent")
		}
		if err := e.s.ResendMail(e.ctx, ad, id+1000); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("resending a message that does not exist: %v, want ErrNotFound", err)
		}
	})
}
